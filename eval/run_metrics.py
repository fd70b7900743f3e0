"""Aggregate per-question outcomes into the run's metrics (the content of metrics.json).

Every share of questions is a percentage (0-100, as SQuAD reports EM and F1); MRR is a mean of
reciprocal ranks (0-1). Answer metrics (EM, F1) cover every question; `has_ans_*` only answerable ones and
`no_ans_accuracy` (share of unanswerable questions the assistant declined) only unanswerable ones,
present when the gold set has any. Retrieval metrics (recall@k, MRR) cover answerable questions
whose gold passage is known, and are None in an oracle run. Citation accuracy covers answerable
questions the assistant answered. A metric with nothing to cover is None (null in JSON), never 0.
The reliability table covers the answers given: per bin of the confidence shown with them, and per
label, how many, their mean confidence and how many were right (F1 >= 0.5), both in percent, so a
calibrated score has the two close.
What this leaves out: plots and the report text.
"""

from __future__ import annotations

import numpy as np

from eval.runner import QuestionOutcome
from qa.confidence import CORRECT_MIN_F1, LABELS

RECALL_KS = (1, 5, 10)
RELIABILITY_BINS = 10


def summarize_outcomes(outcomes: list[QuestionOutcome]) -> dict:
    answerable = [o for o in outcomes if o.has_answer]
    unanswerable = [o for o in outcomes if not o.has_answer]
    judged = [o for o in outcomes if o.retrieval_judged]
    cited = [o for o in outcomes if o.citation_correct is not None]
    latencies = np.array([o.latency_ms for o in outcomes], dtype=float)

    metrics = {
        "n": len(outcomes),
        "exact_match": _percent(o.exact_match for o in outcomes),
        "f1": _percent(o.f1 for o in outcomes),
        "answered_rate": _percent(o.found for o in outcomes),
        "has_ans_count": len(answerable),
        "has_ans_exact_match": _percent(o.exact_match for o in answerable),
        "has_ans_f1": _percent(o.f1 for o in answerable),
    }
    if unanswerable:
        metrics["no_ans_count"] = len(unanswerable)
        metrics["no_ans_accuracy"] = _percent(not o.found for o in unanswerable)
    metrics["retrieval_count"] = len(judged)
    for k in RECALL_KS:
        metrics[f"recall@{k}"] = recall_at(judged, k)
    metrics["mrr"] = _mean(1.0 / o.gold_rank if o.gold_rank else 0.0 for o in judged)
    metrics["citation_count"] = len(cited)
    metrics["citation_accuracy"] = _percent(o.citation_correct for o in cited)
    metrics["latency_ms_p50"] = _percentile(latencies, 50)
    metrics["latency_ms_p95"] = _percentile(latencies, 95)
    metrics["latency_ms_mean"] = float(latencies.mean()) if latencies.size else None
    metrics["reliability"] = reliability(outcomes)
    metrics.update(news_metrics(outcomes))
    return metrics


def news_metrics(outcomes: list[QuestionOutcome]) -> dict:
    """For gold questions that say what a news answer should carry (`GoldQuestion.news`):

    - support precision: of the support entries given, the share whose article the gold lists;
    - support recall: of the articles the gold lists as support (less the one the answer cites),
      the share given as support;
    - conflict recall: of the conflicting articles the gold lists, the share given as conflicts;
    - conflict precision: of the conflicts given, the share whose article the gold lists (a
      conflict from a passage about another story is a wrong one);
    - newest-wins accuracy: of the questions whose right answer is the newest article's, the share
      answered right (F1 at least 0.5 against the gold answers, which are the newest's);
    - answer_date accuracy: of the questions with a gold `answer_date`, the share given exactly it.
    Percentages, with the count each rests on; nothing when no question says."""
    judged = [o for o in outcomes if o.expected_news is not None]
    if not judged:
        return {}
    given = [(s["title"], o.expected_news.get("support", [])) for o in judged for s in o.support]
    expected = [(title, [c["title"] for c in o.conflicts]) for o in judged for title in o.expected_news.get("conflicts", [])]
    supporting = [(title, [s["title"] for s in o.support]) for o in judged for title in o.expected_news.get("support", [])
                  if title != (o.citation or {}).get("title")]
    conflicting = [(c["title"], o.expected_news.get("conflicts", [])) for o in judged for c in o.conflicts]
    newest = [o for o in judged if o.expected_news.get("newest_wins")]
    dated = [o for o in judged if o.expected_news.get("answer_date")]
    return {
        "news_count": len(judged),
        "support_given": len(given),
        "support_precision": _percent(title in gold for title, gold in given),
        "support_expected": len(supporting),
        "support_recall": _percent(title in found for title, found in supporting),
        "conflicts_expected": len(expected),
        "conflict_recall": _percent(title in found for title, found in expected),
        "conflicts_given": len(conflicting),
        "conflict_precision": _percent(title in gold for title, gold in conflicting),
        "newest_wins_count": len(newest),
        "newest_wins_accuracy": _percent(is_right(o) for o in newest),
        "answer_date_count": len(dated),
        "answer_date_accuracy": _percent(o.answer_date == o.expected_news["answer_date"] for o in dated),
    }


def is_right(outcome: QuestionOutcome) -> bool:
    return outcome.f1 >= CORRECT_MIN_F1


def reliability(outcomes: list[QuestionOutcome]) -> dict:
    """Shown confidence against accuracy for the answers given: equal-width bins of the score, the
    labels, and the expected calibration error (mean |accuracy - confidence| over bins, weighted by
    count, in percentage points)."""
    shown = [o for o in outcomes if o.found and o.score is not None]
    bins = []
    for i in range(RELIABILITY_BINS):
        low, high = i / RELIABILITY_BINS, (i + 1) / RELIABILITY_BINS
        last = i == RELIABILITY_BINS - 1
        in_bin = [o for o in shown if low <= o.score < high or (last and o.score >= high)]
        bins.append({"low": low, "high": high, **_reliability_row(in_bin)})
    by_label = {label: _reliability_row([o for o in shown if o.confidence == label]) for label in LABELS}
    unlabelled = [o for o in shown if o.confidence not in LABELS]
    if unlabelled:
        by_label["none"] = _reliability_row(unlabelled)
    ece = None
    if shown:
        ece = sum(b["n"] * abs(b["accuracy"] - b["mean_confidence"]) for b in bins if b["n"]) / len(shown)
    return {"correct": f"F1 >= {CORRECT_MIN_F1}", "n": len(shown), "bins": bins, "by_label": by_label,
            "expected_calibration_error": ece}


def _reliability_row(group: list[QuestionOutcome]) -> dict:
    return {"n": len(group), "mean_confidence": _percent(o.score for o in group),
            "accuracy": _percent(is_right(o) for o in group)}


def recall_at(judged: list[QuestionOutcome], k: int) -> float | None:
    """Percentage of judged questions whose gold passage is among the first k retrieved."""
    return _percent(o.gold_rank is not None and o.gold_rank <= k for o in judged)


def by_question_type(outcomes: list[QuestionOutcome]) -> dict[str, dict]:
    """EM / F1 / count per wh-word, most frequent type first."""
    groups: dict[str, list[QuestionOutcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.question_type, []).append(outcome)
    return {
        kind: {
            "n": len(group),
            "exact_match": _percent(o.exact_match for o in group),
            "f1": _percent(o.f1 for o in group),
        }
        for kind, group in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    }


def _mean(values) -> float | None:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else None


def _percent(values) -> float | None:
    mean = _mean(values)
    return None if mean is None else 100.0 * mean


def _percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None
