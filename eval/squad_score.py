"""Score a SQuAD predictions file (`{question id: answer text}`) against a SQuAD v1.1 or v2.0 dataset.

Reproduces the official evaluate-v1.1.py and evaluate-v2.0.py numbers (no na_prob file, so no
threshold search): EM and F1 on a 0-100 scale, plus the answerable / unanswerable split for v2.0.
A question id missing from the predictions scores 0 under both versions (v1.1's script does this;
v2.0's would crash on the split). Normalisation and token F1 come from `qa.metrics`; only the two
official scripts' edge cases live here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.metrics import best_over_golds, exact_match, f1, normalize_answer


class BadSquadFileError(QAError):
    """A file is not a SQuAD dataset or a SQuAD predictions file."""


@dataclass(frozen=True)
class ScoredQuestion:
    id: str
    has_answer: bool
    predicted: bool  # False: the id was missing from the predictions
    exact_match: float  # 0 or 1
    f1: float  # 0..1


def squad_v1_f1(prediction: str, gold: str) -> float:
    """Token F1 as evaluate-v1.1.py computes it: no common token scores 0, even when both sides are empty.

    `qa.metrics.f1` follows v2.0, where two empty answers agree (score 1); the two differ only there.
    """
    if not normalize_answer(prediction) and not normalize_answer(gold):
        return 0.0
    return f1(prediction, gold)


def is_squad_v2(dataset: dict) -> bool:
    version = str(dataset.get("version", "")).lstrip("v")
    if version.startswith("2"):
        return True
    return any("is_impossible" in qa for _, qa in _iter_questions(dataset))


def score_dataset(dataset: dict, predictions: dict[str, str]) -> list[ScoredQuestion]:
    """One score per question of the dataset, in the dataset's order."""
    v2 = is_squad_v2(dataset)
    scored = []
    for _, qa in _iter_questions(dataset):
        golds = [answer["text"] for answer in qa.get("answers", [])]
        if v2:
            # evaluate-v2.0.py drops gold answers that normalise to nothing; none left means "no answer"
            golds = [gold for gold in golds if normalize_answer(gold)]
        has_answer = bool(golds)
        question_id = qa["id"]
        if question_id not in predictions:
            scored.append(ScoredQuestion(question_id, has_answer, False, 0.0, 0.0))
            continue
        prediction = predictions[question_id]
        f1_metric = f1 if v2 else squad_v1_f1
        scored.append(
            ScoredQuestion(
                question_id,
                has_answer,
                True,
                best_over_golds(exact_match, prediction, golds),
                best_over_golds(f1_metric, prediction, golds),
            )
        )
    return scored


def summarize_scores(scored: list[ScoredQuestion], *, v2: bool) -> dict:
    """The official scripts' summary: percentages, with the has-answer / no-answer split for v2.0."""
    summary = {
        **_percentages(scored, "exact_match", "f1"),
        "total": len(scored),
        "missing_predictions": sum(not question.predicted for question in scored),
    }
    if v2:
        answerable = [question for question in scored if question.has_answer]
        unanswerable = [question for question in scored if not question.has_answer]
        summary.update(_percentages(answerable, "has_ans_exact_match", "has_ans_f1"))
        summary["has_ans_total"] = len(answerable)
        # for an unanswerable question EM and F1 coincide: 1 exactly when the prediction is empty
        summary["no_ans_accuracy"] = _percentages(unanswerable, "no_ans_accuracy", "_")["no_ans_accuracy"]
        summary["no_ans_total"] = len(unanswerable)
    return summary


def score_files(dataset_path: Path, predictions_path: Path) -> dict:
    dataset = _read_json(dataset_path, "SQuAD dataset")
    if not isinstance(dataset, dict) or not isinstance(dataset.get("data"), list):
        raise BadSquadFileError(f"{dataset_path}: not a SQuAD dataset (no top-level 'data' list)")
    predictions = _read_json(predictions_path, "predictions file")
    if not isinstance(predictions, dict) or not all(isinstance(v, str) for v in predictions.values()):
        raise BadSquadFileError(
            f"{predictions_path}: a predictions file maps question ids to answer strings"
        )
    return summarize_scores(score_dataset(dataset, predictions), v2=is_squad_v2(dataset))


def _percentages(scored: list[ScoredQuestion], em_key: str, f1_key: str) -> dict:
    if not scored:
        return {em_key: None, f1_key: None}
    return {
        em_key: 100.0 * sum(question.exact_match for question in scored) / len(scored),
        f1_key: 100.0 * sum(question.f1 for question in scored) / len(scored),
    }


def _iter_questions(dataset: dict):
    for article in dataset["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                yield paragraph, qa


def _read_json(path: Path, what: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise BadSquadFileError(f"{path}: no such {what}") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadSquadFileError(f"{path}: not a JSON {what} ({e})") from e
