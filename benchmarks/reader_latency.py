"""Benchmark the readers on this machine: latency for 1 and 5 passages of ~150 words, and memory.

    python benchmarks/reader_latency.py --questions 100                  # the shipped MiniLM reader
    python benchmarks/reader_latency.py --questions 40 --variants all    # and MPNet-base in each precision

Passages are SQuAD v1.1 dev paragraphs of 120-180 words (a question's own paragraph, plus four
other paragraphs for the 5-passage case). Every 4th question, the last four questions' 5-passage
readings are also read together in one `read_many` call, as the server reads questions that
arrive together ("4 questions x 5 passages"). Variants:

- `minilm`: the shipped reader (MiniLM-L6, fp32), the baseline every other variant is a ratio to;
- `mpnet-fp32`, `mpnet-bf16`, `mpnet-int8`: all-mpnet-base-v2 as a QA model with 384-token
  windows, in float32, in bfloat16, and with torch dynamic int8 quantization of every Linear;
- `mpnet6-fp32`, `mpnet6-int8`: the same cut to its lowest 6 of 12 layers (`--keep-layers 6`);
- `trained-fp32`, `trained-bf16`, `trained-int8`: the trained MPNet reader (qa/reader/weights-mpnet,
  its own window sizes) in each precision (`qa.reader.precision`), as the product loads it.

A variant name may end in suffixes that undo one of the product's speed-ups, to time it against
the variant without: `@padded` reads as the product did before its batches bounded their padding
(`qa.reader.transformers_reader.MAX_PADDING`), all of a question's windows in one batch padded to
the longest; `@unpacked` leaves bf16 Linear weights in PyTorch's layout (`qa.reader.prepack`).
`trained-bf16@padded@unpacked` is the bf16 reader as it read before both.

The `mpnet*` variants carry the base's untrained span head: reading costs the same whatever the
head's weights, so these are the latencies a trained MPNet reader will have; their answers are
meaningless and not looked at. Every question is read by every variant, in a shuffled order, so
a load spike on a shared machine hits all variants alike; the ratio to MiniLM is the median of
the per-question ratios. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import time
from pathlib import Path

SQUAD = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "squad" / "dev-v1.1.json"
PADDED, UNPACKED = "@padded", "@unpacked"
BATCHED = "4 questions x 5 passages"
VARIANTS = ("minilm", "mpnet-fp32", "mpnet-bf16", "mpnet-int8", "mpnet6-fp32", "mpnet6-int8",
            "trained-fp32", "trained-bf16", "trained-int8")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def make_reader(variant: str):
    from qa.reader.transformers_reader import ReaderSettings, TransformersReader
    from qa.settings import SHIPPED_READER, Settings

    if UNPACKED in variant:
        from qa.reader import prepack

        packing, prepack.prepack_linears = prepack.prepack_linears, lambda model: 0
        try:
            return make_reader(variant.replace(UNPACKED, ""))
        finally:
            prepack.prepack_linears = packing
    variant = variant.replace(PADDED, "")
    if variant == "minilm":
        reader = TransformersReader(SHIPPED_READER)
        reader.warm_up()
        return reader
    if variant.startswith("trained-"):
        from qa.reader.transformers_reader import TorchRunner
        from qa.settings import MPNET_READER

        runner = TorchRunner(Settings.from_env().cache_dir, precision=variant.split("-")[1])
        reader = TransformersReader(MPNET_READER, runner=runner)
        reader.warm_up()
        return reader
    from transformers import AutoTokenizer

    from qa.reader.base import MPNET, base_model_dir
    from qa.reader.delta import build_base_model
    from qa.reader.precision import to_precision

    base_dir = base_model_dir(MPNET, Settings.from_env().cache_dir)
    family, precision = variant.split("-")
    model = build_base_model(base_dir, keep_layers=6 if family == "mpnet6" else None).eval()
    model = to_precision(model, precision)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    return TransformersReader.from_loaded(model, tokenizer, ReaderSettings(max_seq_tokens=384, stride_tokens=128))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--variants", default="minilm",
                        help=f"comma-separated, each optionally ending in {PADDED} and/or {UNPACKED}, or all: {', '.join(VARIANTS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "reader_latency.json")
    args = parser.parse_args()
    names = list(VARIANTS) if args.variants == "all" else args.variants.split(",")
    if names[0] != "minilm":
        names = ["minilm"] + [n for n in names if n != "minilm"]

    import torch

    from qa.reader import transformers_reader

    bounded = transformers_reader.MAX_PADDING
    data = json.loads(args.squad.read_text())["data"]
    paragraphs = [p for a in data for p in a["paragraphs"] if 120 <= len(p["context"].split()) <= 180]
    rng = random.Random(args.seed)
    chosen = rng.sample(paragraphs, args.questions)
    readers = {}
    for name in names:
        started = time.perf_counter()
        readers[name] = make_reader(name)
        readers[name].read("warm up?", [chosen[0]["context"]] * 5)
        print(f"loaded {name} in {time.perf_counter() - started:.1f} s", flush=True)

    times = {name: {"1 passage": [], "5 passages": [], BATCHED: []} for name in names}
    recent = []  # the last questions' 5-passage readings, read together every 4th question
    for n, p in enumerate(chosen, 1):
        question = rng.choice(p["qas"])["question"]
        others = [o["context"] for o in rng.sample(paragraphs, 4)]
        recent = [*recent[-3:], (question, [p["context"], *others])]
        order = names[:]
        rng.shuffle(order)
        for name in order:
            transformers_reader.MAX_PADDING = float("inf") if PADDED in name else bounded
            for case, passages in (("1 passage", [p["context"]]), ("5 passages", [p["context"], *others])):
                t = time.perf_counter()
                readers[name].read(question, passages)
                times[name][case].append(1000 * (time.perf_counter() - t))
            if n % 4 == 0:
                t = time.perf_counter()
                readers[name].read_many(recent)
                times[name][BATCHED].append(1000 * (time.perf_counter() - t))
        if n % 10 == 0:
            print(f"{n}/{len(chosen)} questions", flush=True)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rows = {}
    for name in names:
        rows[name] = {}
        for case, values in times[name].items():
            if not values:  # fewer than 4 questions: nothing was read together
                continue
            base = times["minilm"][case]
            rows[name][case] = {
                "p50_ms": round(percentile(values, 0.5), 1), "p95_ms": round(percentile(values, 0.95), 1),
                "ratio_to_minilm": round(statistics.median(v / b for v, b in zip(values, base)), 2)}
    result = {"questions": args.questions, "torch_threads": torch.get_num_threads(),
              "peak_rss_mib_all_variants_loaded": round(peak_mib), "latency": rows}
    print(f"\nreader latency over {args.questions} questions, {torch.get_num_threads()} threads; "
          f"ratio: median per-question time over MiniLM's")
    print(f"{'variant':<30}{'1 p50':>8}{'1 p95':>8}{'ratio':>7}{'5 p50':>8}{'5 p95':>8}{'ratio':>7}"
          f"{'4x5 p50':>9}{'ratio':>7}")
    for name, r in rows.items():
        one, five = r["1 passage"], r["5 passages"]
        four = r.get(BATCHED, {"p50_ms": "-", "ratio_to_minilm": "-"})
        print(f"{name:<30}{one['p50_ms']:>8}{one['p95_ms']:>8}{one['ratio_to_minilm']:>7}"
              f"{five['p50_ms']:>8}{five['p95_ms']:>8}{five['ratio_to_minilm']:>7}"
              f"{four['p50_ms']:>9}{four['ratio_to_minilm']:>7}")
    print(f"peak memory (RSS) with every variant loaded: {peak_mib:.0f} MiB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
