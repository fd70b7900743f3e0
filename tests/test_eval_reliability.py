"""The evaluation's reliability table: is the confidence shown with answers as often right as it says?"""

from __future__ import annotations

import dataclasses
import json

import pytest

import eval.corpus
from eval.__main__ import main
from eval.run_metrics import reliability
from eval.runner import QuestionOutcome
from eval_fakes import FakeAssistant
from test_eval_runner import ANSWERS, QUESTIONS, SUMMIT, WEATHER, _jsonl

BASE = QuestionOutcome(
    id="q", question="Who?", resolved_question="Who?", conversation_id=None, turn=0, question_type="who",
    gold_answers=["Assad"], has_answer=True, prediction="Assad", found=True, score=0.95, citation=None,
    citation_correct=None, retrieved=[], gold_rank=None, retrieval_judged=False, latency_ms=1.0,
    exact_match=1.0, f1=1.0, oracle=True, confidence="high")


def outcome(score, f1, label, found=True):
    return dataclasses.replace(BASE, score=score, f1=f1, confidence=label, found=found)


def test_reliability_bins_labels_and_calibration_error():
    outcomes = ([outcome(0.95, 1.0, "high")] * 9 + [outcome(0.95, 0.0, "high")]
                + [outcome(0.55, 0.6, "medium"), outcome(0.55, 0.4, "medium")]  # F1 0.6 is right, 0.4 is not
                + [outcome(None, 0.0, None, found=False)])
    table = reliability(outcomes)
    assert table["n"] == 12 and table["correct"] == "F1 >= 0.5"
    top, middle = table["bins"][9], table["bins"][5]
    assert (top["n"], top["mean_confidence"], top["accuracy"]) == (10, pytest.approx(95.0), pytest.approx(90.0))
    assert (middle["n"], middle["accuracy"]) == (2, pytest.approx(50.0))
    assert sum(b["n"] for b in table["bins"]) == 12
    assert table["by_label"]["high"]["n"] == 10 and table["by_label"]["low"]["n"] == 0
    assert table["by_label"]["low"]["accuracy"] is None
    assert table["expected_calibration_error"] == pytest.approx((10 * 5 + 2 * 5) / 12)
    assert reliability([outcome(1.0, 1.0, "high")])["bins"][9]["n"] == 1  # a score of 1 is in the last bin
    assert reliability([])["n"] == 0 and reliability([])["expected_calibration_error"] is None


def test_a_run_reports_reliability_in_metrics_report_and_a_plot(tmp_path, monkeypatch):
    assistant = FakeAssistant([SUMMIT, WEATHER], ANSWERS, score=0.85, confidence="medium")
    monkeypatch.setattr(eval.corpus, "open_assistant", lambda gold_set, index_dir, settings, **options: assistant)
    out = tmp_path / "run"
    assert main(["run", str(_jsonl(tmp_path / "gold.jsonl", QUESTIONS)), "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    table = metrics["reliability"]
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    answered = [p for p in predictions if p["found"]]
    assert table["n"] == len(answered) == table["bins"][8]["n"] == table["by_label"]["medium"]["n"]
    assert {p["confidence"] for p in answered} == {"medium"}
    right = sum(p["f1"] >= 0.5 for p in answered)
    assert table["bins"][8]["accuracy"] == pytest.approx(100 * right / len(answered))
    report = (out / "report.md").read_text()
    assert "## Reliability of the confidence shown" in report
    assert f"| 0.8\u20130.9 | {len(answered)} | 85.0 |" in report and "| medium |" in report
    assert (out / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![reliability](reliability.png)" in report
