"""The layer rules are enforced, not hoped: `lint-imports` checks the contracts in pyproject.toml
(newsqa <- index <- qa <- ui, eval; the front ends through qa only), and a broken one fails here."""

from __future__ import annotations

import os
import subprocess
import tomllib
import sys
from pathlib import Path

import pytest

from conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (the test extra)")


def lint(config: Path, path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([str(LINT_IMPORTS), "--config", str(config), "--no-cache"], capture_output=True,
                          text=True, env=env, cwd=path, timeout=300)


def modules_the_contracts_name() -> set[str]:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    return {m for c in contracts for key in ("source_modules", "forbidden_modules") for m in c.get(key, [])
            if "." in m}


def test_the_project_keeps_its_layer_contracts():
    proc = lint(ROOT / "pyproject.toml", ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize("module, line, reported", [
    ("index/bad.py", "def f():\n    from qa import settings  # a late import counts too\n", "index.bad -> qa"),
    ("qa/bad.py", "import ui\n", "qa.bad -> ui"),
    ("ui/bad.py", "from index import store\n", "ui.bad -> index"),
    ("eval/bad.py", "import newsqa\n", "eval.bad -> newsqa"),
    ("qa/reader/registry/__init__.py", "import qa.reader.training\n", "qa.reader.registry -> qa.reader.training"),
])
def test_an_import_against_the_layers_breaks_a_contract(tmp_path, module, line, reported):
    for package in ("newsqa", "index", "qa", "ui", "eval"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for name in modules_the_contracts_name():  # empty, so that only the bad line breaks a contract
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            path = tmp_path.joinpath(*parts[:depth])
            path.mkdir(exist_ok=True)
            (path / "__init__.py").touch()
    (tmp_path / module).write_text(line)
    proc = lint(ROOT / "pyproject.toml", tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 kept, 1 broken" in proc.stdout and reported in proc.stdout
