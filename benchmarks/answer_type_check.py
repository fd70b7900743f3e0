"""Does the answer-type check (`qa.answer_type`) remove more wrong answers than right ones?

Reads held-out SQuAD 2.0 *train* questions (the articles the reader never trained on, as the
calibration and the answerability probe use; never dev) whose question word the check covers
(who, where, when, how many/much), each with its own paragraph, with the shipped reader. An
answer is shown when the best span's margin beats the reader's threshold. With the check, a best
span that does not fit the question's type gives way to the passage's next best fitting span
(its own margin, the same threshold) or to nothing. A removed answer is right when its token F1
against a gold answer is at least `qa.confidence.CORRECT_MIN_F1` (unanswerable questions: any
answer is wrong). The check is kept for a type only if it removes at least 3 wrong per right.

    python benchmarks/answer_type_check.py --questions 600   # writes benchmarks/results/answer-type-check.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from qa.answer_policy import fitting_span
from qa.answer_type import question_type
from qa.confidence import CORRECT_MIN_F1
from qa.metrics import best_over_golds, f1
from qa.reader.training.train import DEFAULT_OVERLAP, DEFAULT_TRAIN, Recipe, heldout_order, load_examples, overlap_ids, split_by_article
from qa.reader.transformers_reader import TransformersReader
from qa.settings import SHIPPED_READER

OUT = Path(__file__).parent / "results" / "answer-type-check.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", default=str(SHIPPED_READER))
    parser.add_argument("--questions", type=int, default=0, help="read only the first N checked held-out questions (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    recipe = Recipe()
    _, held = split_by_article(load_examples(DEFAULT_TRAIN, overlap_ids(DEFAULT_OVERLAP)), recipe.heldout_fraction, recipe.seed)
    held = [e for e in heldout_order(held, recipe.seed) if question_type(e.question)][: args.questions or None]
    reader = TransformersReader(args.reader)
    reader.warm_up()
    threshold = reader.settings.no_answer_threshold
    counts: dict[str, Counter] = {}
    started = time.perf_counter()
    check_seconds = 0.0
    for e in held:
        kind = question_type(e.question)
        (reading,) = reader.read(e.question, [e.context])
        c = counts.setdefault(kind, Counter())
        c["questions"] += 1
        golds = [a for a, _ in e.answers]
        shown = reading.span if reading.span is not None and reading.span.margin > threshold else None
        t = time.perf_counter()
        fitting = fitting_span(SimpleNamespace(text=e.context), reading, kind, e.question)
        check_seconds += time.perf_counter() - t
        after = fitting if fitting is not None and fitting.margin > threshold else None
        if shown is None or (after is not None and (after.char_start, after.char_end) == (shown.char_start, shown.char_end)):
            continue
        text = e.context[shown.char_start:shown.char_end]
        right = bool(golds) and best_over_golds(f1, text, golds) >= CORRECT_MIN_F1
        c["removed_right" if right else "removed_wrong"] += 1
        if after is not None:
            replacement = e.context[after.char_start:after.char_end]
            c["replaced_by_right" if golds and best_over_golds(f1, replacement, golds) >= CORRECT_MIN_F1
              else "replaced_by_wrong"] += 1
    result = {"reader": Path(args.reader).name, "questions": len(held), "threshold": threshold,
              "seconds_total": round(time.perf_counter() - started, 1),
              "check_ms_per_question": round(1000 * check_seconds / max(1, len(held)), 3), "by_type": {}}
    for kind, c in sorted(counts.items()):
        ratio = c["removed_wrong"] / c["removed_right"] if c["removed_right"] else None
        result["by_type"][kind] = dict(c, wrong_per_right=ratio,
                                       keep=c["removed_right"] == 0 or c["removed_wrong"] >= 3 * c["removed_right"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
