"""Readers in other processes never see a half-written index: loads while a writer adds, removes and compacts."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from concurrent_loads import run  # noqa: E402


def test_no_load_fails_while_another_process_writes(tmp_path):
    result = run(tmp_path / "idx", loads=400, writer_seconds=60)
    assert result["writer_exit"] == 0
    assert result["writes"] >= 20, result  # the writer really ran alongside the loads
    assert result["failures"] == 0, result["first_failures"]
    assert result["loads"] == 400
