"""From the reader's raw answer score to a probability that the answer is right, and a label.

The raw score of a span (its margin over "no answer", less log of its passage's retrieval rank,
see `qa.answer_policy.passage_answer_score`) orders answers well but is not a probability. The shipped
reader comes with `calibration.json` beside its weights: a monotone map fitted on held-out questions
(`python -m qa.reader.training.calibrate`, which says how), the probability thresholds of the labels, and
the floor above which a declined span is still shown as an unconfirmed candidate.

A reader without that file (another model, or a test's stand-in) gets `LogisticConfidence`: the
logistic of (raw score - no-answer threshold), the score this project showed before calibration.
Its labels use the same cut-offs, but nothing backs them with data. What this leaves out: the
no-answer decision itself (the reader's threshold), which calibration does not move.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

CALIBRATION_FILE = "calibration.json"
HIGH, MEDIUM, LOW = "high", "medium", "low"
LABELS = (HIGH, MEDIUM, LOW)
# What "the answer is right" means wherever a probability is fitted or checked (the calibration,
# the evaluation's reliability table): token F1 of at least this against a gold answer.
CORRECT_MIN_F1 = 0.5


class Confidence(Protocol):
    def probability(self, raw_score: float) -> float: ...
    def label(self, probability: float) -> str: ...
    def is_close(self, probability: float) -> bool: ...


@dataclass(frozen=True)
class Calibration:
    """A fitted map: probability = linear interpolation between knots, constant beyond the ends."""

    raw_scores: tuple[float, ...]  # ascending
    probabilities: tuple[float, ...]  # non-decreasing, in [0, 1]
    high: float  # a probability at or above this is labelled "high"
    medium: float  # at or above this (and below `high`): "medium"; below: "low"
    candidate_floor: float  # a declined span at or above this probability is offered as a candidate

    def __post_init__(self):
        if len(self.raw_scores) != len(self.probabilities) or not self.raw_scores:
            raise ValueError("a calibration needs as many probabilities as raw scores, and at least one")
        if any(b < a for a, b in zip(self.raw_scores, self.raw_scores[1:])) or \
                any(b < a for a, b in zip(self.probabilities, self.probabilities[1:])):
            raise ValueError("a calibration must be monotone: raw scores ascending, probabilities non-decreasing")

    def probability(self, raw_score: float) -> float:
        if math.isnan(raw_score):
            return 0.0
        return float(np.interp(raw_score, self.raw_scores, self.probabilities))

    def label(self, probability: float) -> str:
        return HIGH if probability >= self.high else MEDIUM if probability >= self.medium else LOW

    def is_close(self, probability: float) -> bool:
        return probability >= self.candidate_floor

    @classmethod
    def from_json(cls, data: dict) -> "Calibration":
        """From calibration.json; a null threshold (held-out data backs no such label or floor) is
        never reached."""
        table = data["table"]
        labels = data["labels"]

        def threshold(value) -> float:
            return math.inf if value is None else float(value)

        return cls(tuple(float(x) for x in table["raw_scores"]), tuple(float(p) for p in table["probabilities"]),
                   threshold(labels["high"]), threshold(labels["medium"]), threshold(data["candidate_floor"]))


@dataclass(frozen=True)
class LogisticConfidence:
    """For a reader without a calibration: the logistic of (raw score - no-answer threshold)."""

    threshold: float
    high: float = 0.9
    medium: float = 0.6
    candidate_floor: float = 0.3

    def probability(self, raw_score: float) -> float:
        x = raw_score - self.threshold
        if math.isnan(x):
            return 0.0
        return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0

    def label(self, probability: float) -> str:
        return HIGH if probability >= self.high else MEDIUM if probability >= self.medium else LOW

    def is_close(self, probability: float) -> bool:
        return probability >= self.candidate_floor


def load_calibration(model_dir: str | Path) -> Calibration | None:
    """The calibration shipped beside a reader's weights, or None when there is none."""
    path = Path(model_dir) / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        return Calibration.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path} is not a calibration table ({e})") from e
