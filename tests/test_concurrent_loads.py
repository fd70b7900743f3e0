"""Readers in other processes never see a half-written index: loads while a writer adds, removes and compacts."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from concurrent_loads import run  # noqa: E402


def test_no_load_fails_while_another_process_writes(tmp_path):
    # loading for 10 s whatever the machine's speed, so that the writer (which starts a second
    # Python) really writes while the loads run
    result = run(tmp_path / "idx", loads=400, writer_seconds=60, min_seconds=10)
    assert result["writer_exit"] == 0
    assert result["writes"] >= 10, result
    assert result["failures"] == 0, result["first_failures"]
    assert result["loads"] >= 400
