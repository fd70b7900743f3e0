"""`python -m eval score`: the official SQuAD numbers on real leaderboard predictions, and the edge cases."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from eval.squad_score import BadSquadFileError, score_dataset, score_files, squad_v1_f1, summarize_scores
from shared_data import shared_data_path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PREDICTION_FILES = [
    "1.1-BERT.json",
    "1.1-Logistic_Regression_Baseline.json",  # lacks 13 ids: a missing prediction scores 0
    "1.1-Match-LSTM_with_Ans-Ptr.json",
    "1.1-SLQA+.json",
    "1.1-r-net+.json",
    "v2.0-BERT.json",
    "v2.0-BiDAF_+_Self_Attention_+_ELMo.json",
    "v2.0-nlnet.json",
]


def official_scores() -> dict[str, dict]:
    """SCORES.md's table: EM, F1 and (v2.0) the has-answer / no-answer split, per file."""
    scores = {}
    for line in shared_data_path("squad-predictions", "SCORES.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].endswith(".json"):
            continue
        row = {"exact_match": float(cells[1]), "f1": float(cells[2])}
        split = re.search(r"HasAns EM/F1 ([\d.]+)/([\d.]+) \(n=(\d+)\); NoAns ([\d.]+) \(n=(\d+)\)", cells[3])
        if split:
            row.update(
                has_ans_exact_match=float(split[1]),
                has_ans_f1=float(split[2]),
                has_ans_total=int(split[3]),
                no_ans_accuracy=float(split[4]),
                no_ans_total=int(split[5]),
            )
        scores[cells[0]] = row
    return scores


def test_scores_md_lists_the_eight_prediction_files():
    assert sorted(official_scores()) == sorted(PREDICTION_FILES)


@pytest.mark.parametrize("file_name", PREDICTION_FILES)
def test_scores_equal_the_official_scripts_to_two_decimals(file_name):
    expected = official_scores()[file_name]
    dataset = "dev-v1.1.json" if file_name.startswith("1.1") else "dev-v2.0.json"
    ours = score_files(shared_data_path("squad", dataset), shared_data_path("squad-predictions", file_name))
    for key, value in expected.items():
        if key.endswith("_total"):
            assert ours[key] == value, key
        else:
            assert abs(ours[key] - value) < 0.005, (key, ours[key], value)


def _dataset(version: str, qas: list[dict]) -> dict:
    return {"version": version, "data": [{"title": "T", "paragraphs": [{"context": "The cat sat.", "qas": qas}]}]}


def _qa(question_id: str, answers: list[str], impossible: bool | None = None) -> dict:
    qa = {"id": question_id, "question": "?", "answers": [{"text": a, "answer_start": 0} for a in answers]}
    if impossible is not None:
        qa["is_impossible"] = impossible
    return qa


def test_v1_scores_a_missing_prediction_as_zero():
    dataset = _dataset("1.1", [_qa("a", ["the cat"]), _qa("b", ["sat"])])
    summary = summarize_scores(score_dataset(dataset, {"a": "Cat!"}), v2=False)
    assert summary == {"exact_match": 50.0, "f1": 50.0, "total": 2, "missing_predictions": 1}


def test_v1_f1_of_two_empty_answers_is_zero_but_exact_match_is_one():
    assert squad_v1_f1("a", "the") == 0.0
    scored = score_dataset(_dataset("1.1", [_qa("a", ["the"])]), {"a": "An"})
    assert (scored[0].exact_match, scored[0].f1) == (1.0, 0.0)


def test_v2_splits_answerable_and_unanswerable_questions():
    dataset = _dataset(
        "v2.0",
        [
            _qa("has", ["cat"], impossible=False),
            _qa("none-right", [], impossible=True),
            _qa("none-wrong", [], impossible=True),
            _qa("none-missing", [], impossible=True),
            # a gold answer that normalises to nothing counts as "no answer", as in evaluate-v2.0.py
            _qa("empty-gold", ["The"], impossible=False),
        ],
    )
    predictions = {"has": "the cat", "none-right": "", "none-wrong": "cat", "empty-gold": ""}
    summary = summarize_scores(score_dataset(dataset, predictions), v2=True)
    assert summary["total"] == 5
    assert summary["has_ans_total"] == 1 and summary["has_ans_exact_match"] == 100.0
    assert summary["no_ans_total"] == 4
    assert summary["no_ans_accuracy"] == 50.0  # right, wrong, missing (0), empty-gold right
    assert summary["exact_match"] == 60.0
    assert summary["missing_predictions"] == 1


def test_bad_files_raise_a_clear_error(tmp_path):
    not_squad = tmp_path / "x.json"
    not_squad.write_text('{"a": 1}')
    with pytest.raises(BadSquadFileError, match="not a SQuAD dataset"):
        score_files(not_squad, not_squad)
    with pytest.raises(BadSquadFileError, match="no such"):
        score_files(tmp_path / "absent.json", not_squad)


def test_command_line_prints_json_and_exits_1_on_bad_input(tmp_path):
    dataset = tmp_path / "dev.json"
    dataset.write_text(json.dumps(_dataset("1.1", [_qa("a", ["the cat"])])))
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps({"a": "cat"}))
    command = [sys.executable, "-m", "eval", "score", str(dataset), str(predictions)]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exact_match"] == 100.0

    predictions.write_text("[1, 2]")
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1


def test_missing_shared_data_skips_or_fails_when_required(monkeypatch):
    monkeypatch.delenv("NEWSQA_REQUIRE_SHARED", raising=False)
    with pytest.raises(pytest.skip.Exception, match="shared evaluation data"):
        shared_data_path("no-such-file.json")
    monkeypatch.setenv("NEWSQA_REQUIRE_SHARED", "1")
    with pytest.raises(pytest.fail.Exception, match="NEWSQA_REQUIRE_SHARED=1"):
        shared_data_path("no-such-file.json")
