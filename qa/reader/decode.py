"""Turn a QA model's start/end logits into character spans.

Pure numpy, no torch: given the logits of one or more token windows over the same passage
and each token's character offsets, find the best answer span and the no-answer score.

Scores are raw logit sums (start + end), not per-window softmaxes, so they compare across
windows and across passages. The no-answer decision compares the best span against the
model's null score ([CLS] start + [CLS] end); the threshold is chosen on held-out data.
What this leaves out: tokenization and running the model (see `qa.reader.transformers_reader`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

# Offsets of special / question tokens are marked with this so they can never be chosen.
NOT_CONTEXT = (-1, -1)


@dataclass(frozen=True)
class Span:
    """A candidate answer: characters [char_start, char_end) of the passage."""

    char_start: int
    char_end: int
    score: float  # start_logit + end_logit
    null_score: float  # the window's [CLS] start + end logits

    @property
    def margin(self) -> float:
        """How much the model prefers this span over "no answer" in its window."""
        return self.score - self.null_score


@dataclass(frozen=True)
class Window:
    """One tokenized window: logits per token and each token's (char_start, char_end) in the passage.

    Tokens that are not passage text (question, [CLS], [SEP], padding) carry NOT_CONTEXT offsets.
    """

    start_logits: np.ndarray
    end_logits: np.ndarray
    offsets: list[tuple[int, int]]
    # Which paragraph of the passage each token lies in (None: one paragraph). A passage can hold
    # two short article paragraphs, and a quote that runs across the blank line between them is
    # never an answer.
    paragraph_of_token: np.ndarray | None = None

    @property
    def null_score(self) -> float:
        return float(self.start_logits[0] + self.end_logits[0])


def best_spans(
    window: Window,
    max_answer_tokens: int = 30,
    n_best: int = 20,
    top_candidates: int = 20,
) -> list[Span]:
    """The `n_best` highest-scoring valid spans of one window, best first.

    A span is valid when both ends are passage tokens in the same paragraph, end >= start and it
    is at most `max_answer_tokens` long. Ties keep the earlier span first, so decoding is deterministic.
    """
    start_logits = np.asarray(window.start_logits, dtype=np.float64)
    end_logits = np.asarray(window.end_logits, dtype=np.float64)
    is_context = np.array([off != NOT_CONTEXT and off[1] > off[0] for off in window.offsets])
    if not is_context.any():
        return []
    masked_start = np.where(is_context, start_logits, -np.inf)
    masked_end = np.where(is_context, end_logits, -np.inf)
    k = min(top_candidates, int(is_context.sum()))
    # Stable sort on the negated logits: among equal logits the earlier token wins.
    start_idx = np.argsort(-masked_start, kind="stable")[:k]
    end_idx = np.argsort(-masked_end, kind="stable")[:k]
    null = window.null_score
    paragraph = window.paragraph_of_token
    candidates = []
    for s in start_idx:
        for e in end_idx:
            if e < s or e - s + 1 > max_answer_tokens:
                continue
            if paragraph is not None and paragraph[s] != paragraph[e]:
                continue
            score = float(start_logits[s] + end_logits[e])
            candidates.append((-score, int(s), int(e)))
    candidates.sort()
    spans = []
    for neg_score, s, e in candidates[:n_best]:
        spans.append(Span(window.offsets[s][0], window.offsets[e][1], -neg_score, null))
    return spans


def passage_spans(windows: list[Window], max_answer_tokens: int = 30,
                  keep: Callable[[int, int], bool] | None = None, n_best: int = 20,
                  alternatives: int = 0) -> tuple[list[Span], float]:
    """The passage's best span and up to `alternatives` next best distinct spans over all its
    windows, best first, and the passage's null score (each span carries it as its `null_score`,
    so margins compare across passages). `keep` as for `best_span`."""
    if not windows:
        return [], float("inf")
    null = min(w.null_score for w in windows)
    per_window = 1 if keep is None and not alternatives else n_best
    found: dict[tuple[int, int], Span] = {}
    for window in windows:
        for s in best_spans(window, max_answer_tokens=max_answer_tokens, n_best=per_window):
            if keep is not None and not keep(s.char_start, s.char_end):
                continue
            key = (s.char_start, s.char_end)
            if key not in found or s.score > found[key].score:
                found[key] = s
    ranked = sorted(found.values(), key=lambda s: (-s.score, s.char_start, s.char_end))[:1 + alternatives]
    return [Span(s.char_start, s.char_end, s.score, null) for s in ranked], null


def best_span(windows: list[Window], max_answer_tokens: int = 30,
              keep: Callable[[int, int], bool] | None = None, n_best: int = 20) -> tuple[Span | None, float]:
    """The best span over all windows of a passage, and the passage's null score.

    The null score is the minimum over windows, as in the SQuAD 2.0 reference
    implementations: a passage has no answer only if no window finds one.
    The returned span's own `null_score` is that passage-level minimum too, so its
    `margin` is comparable across passages. `keep(char_start, char_end)` rejects spans that must
    never be answers (markup): the best span it keeps among each window's `n_best` is chosen.
    """
    spans, null = passage_spans(windows, max_answer_tokens, keep, n_best)
    return (spans[0] if spans else None), null
