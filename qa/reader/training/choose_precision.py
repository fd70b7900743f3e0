"""Choose the precision a reader folder ships in: held-out F1 and reading time in each precision.

    python -m qa.reader.training.choose_precision --reader qa/reader/weights-mpnet --write   # measure and record

The rule: the fastest precision within MAX_F1_LOSS held-out F1 of fp32. What this leaves out: converting
a model (`qa.reader.precision`, used when a reader loads).
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

from tqdm import tqdm

from qa.reader.precision import PRECISIONS, check_precision, cpu_has_native_bf16, to_precision

MAX_F1_LOSS = 0.5  # points of held-out F1 a faster precision may cost against fp32


def measure(folder: Path, questions: int, precisions: tuple[str, ...], cache_dir: Path) -> dict:
    """Held-out F1 and per-question reading time of the reader in `folder`, in each precision.

    The questions are the training's held-out ones (whole train articles it never saw; never dev
    data) in its seeded order, each read in its own paragraph. F1 is at the folder's shipped
    no-answer threshold (as the product answers) and with the answer forced on answerable questions
    (the spans alone). Every question is read in every precision, in a shuffled order per question,
    so a load spike on a shared machine hits them alike.
    """
    import random

    import numpy as np
    from transformers import AutoTokenizer

    from qa.metrics import best_over_golds, f1
    from qa.reader.delta import load_qa_model, read_config
    from qa.reader.transformers_reader import TransformersReader, load_reader_settings
    from qa.reader.training.train import (DEFAULT_OVERLAP, DEFAULT_TRAIN, Recipe, heldout_order, load_examples,
                                 overlap_ids, split_by_article)

    config = read_config(folder)
    recipe = Recipe(**{k: v for k, v in config.get("recipe", {}).items() if k in Recipe.__dataclass_fields__})
    examples = load_examples(DEFAULT_TRAIN, overlap_ids(DEFAULT_OVERLAP))
    _, held = split_by_article(examples, recipe.heldout_fraction, recipe.seed)
    held = heldout_order(held, recipe.seed)[: questions or None]
    settings = load_reader_settings(folder)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    fp32 = load_qa_model(folder, cache_dir)
    readers = {}
    for precision in precisions:  # each converts its own copy; int8 and bf16 replace modules in place
        model = fp32 if precision == "fp32" else to_precision(copy.deepcopy(fp32), precision)
        readers[precision] = TransformersReader.from_loaded(model, tokenizer, settings)
        readers[precision].read(held[0].question, [held[0].context])  # first-call costs out of the timing
    rows = {p: [] for p in precisions}
    rng = random.Random(0)
    for e in tqdm(held, desc="held-out questions", unit="q"):
        golds = [a for a, _ in e.answers]
        for precision in rng.sample(precisions, len(precisions)):
            t0 = time.perf_counter()
            reading = readers[precision].read(e.question, [e.context])[0]
            seconds = time.perf_counter() - t0
            span = reading.span
            text = e.context[span.char_start: span.char_end] if span else ""
            answered = span is not None and span.margin > settings.no_answer_threshold
            rows[precision].append((seconds, best_over_golds(f1, text if answered else "", golds),
                                    best_over_golds(f1, text, golds), bool(golds)))
    results = {}
    for precision, r in rows.items():
        answerable = [x for x in r if x[3]]
        results[precision] = {
            "f1": 100 * float(np.mean([x[1] for x in r])),
            "answerable_f1_forced": 100 * float(np.mean([x[2] for x in answerable])),
            "p50_ms": 1000 * float(np.median([x[0] for x in r])),
            "mean_ms": 1000 * float(np.mean([x[0] for x in r])),
        }
    return {"questions": len(held), "threshold": settings.no_answer_threshold, "precisions": results}


def choose(results: dict, native_bf16: bool = True) -> str:
    """The fastest precision whose held-out F1 is within MAX_F1_LOSS of fp32's (fp32 if none is).

    On a CPU without native bf16 the bf16 timing is of PyTorch's emulation, which the product never
    runs: a shipped bf16 runs in fp32 there (`precision_for_this_cpu`). So bf16 counts as fast as
    fp32 here and wins the tie, since it is the faster one where it does run (on the AVX512-BF16 host
    the step-2,275 reader read a question in 76 ms mean in bf16 against 161 ms in fp32).
    """
    scores = results["precisions"]
    fine = [p for p, s in scores.items() if s["f1"] >= scores["fp32"]["f1"] - MAX_F1_LOSS]

    def cost(p: str) -> tuple[float, int]:
        if p == "bf16" and not native_bf16:
            return scores["fp32"]["mean_ms"], 0
        return scores[p]["mean_ms"], 1

    return min(fine, key=cost)


def main(argv=None) -> None:
    from qa.settings import MPNET_READER, Settings

    parser = argparse.ArgumentParser(prog="python -m qa.reader.training.choose_precision", description=__doc__.split("\n")[0])
    parser.add_argument("--reader", type=Path, default=MPNET_READER, help="the reader's folder")
    parser.add_argument("--questions", type=int, default=1000, help="held-out questions (0: all)")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--write", action="store_true",
                        help="record the chosen precision (and these figures) in the folder's reader_config.json")
    args = parser.parse_args(argv)
    precisions = tuple(check_precision(p) for p in args.precisions.split(","))
    if "fp32" not in precisions:
        parser.error("fp32 is the reference: include it")
    results = measure(args.reader, args.questions, precisions, Settings.from_env().cache_dir)
    results["native_bf16"] = cpu_has_native_bf16()
    chosen = choose(results, results["native_bf16"])
    print(f"{'precision':<10} {'F1':>6} {'forced F1':>10} {'p50 ms':>8} {'mean ms':>8}")
    for p, s in results["precisions"].items():
        print(f"{p:<10} {s['f1']:>6.2f} {s['answerable_f1_forced']:>10.2f} {s['p50_ms']:>8.1f} {s['mean_ms']:>8.1f}")
    rule = f"fastest within {MAX_F1_LOSS} held-out F1 of fp32"
    if not results["native_bf16"]:
        rule += "; this CPU has no native bf16, so bf16 counts as fast as fp32, which it runs in here, and wins the tie"
    print(f"chosen: {chosen} ({rule}; on {results['questions']} held-out questions)")
    if args.write:
        path = args.reader / "reader_config.json"
        config = json.loads(path.read_text())
        config["precision"] = chosen
        config["precision_choice"] = {**results, "rule": rule}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(config, indent=2) + "\n")
        tmp.replace(path)
        print(f"wrote precision {chosen!r} into {path}")


if __name__ == "__main__":
    main()
