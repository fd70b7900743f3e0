"""Benchmark the shipped reader on this machine: latency for 1 and 5 passages of ~150 words, peak memory.

    python benchmarks/reader_latency.py --questions 100

Passages are SQuAD v1.1 dev paragraphs of 120-180 words (a question's own paragraph, plus four
other paragraphs for the 5-passage case). Absolute times are noisy on shared machines, so each
latency is also given as a ratio to a fixed torch matrix-multiply baseline timed in the same run.
Prints a table and writes JSON.
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


def baseline_ms(repeats: int = 20) -> float:
    """Median time of a fixed matmul workload, the yardstick for the ratios."""
    import torch

    a, b = torch.randn(256, 384), torch.randn(384, 1536)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(20):
            a @ b
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "reader_latency.json")
    args = parser.parse_args()

    import torch

    from qa.reader.model import TransformersReader
    from qa.settings import SHIPPED_READER

    data = json.loads(args.squad.read_text())["data"]
    paragraphs = [p for a in data for p in a["paragraphs"] if 120 <= len(p["context"].split()) <= 180]
    rng = random.Random(args.seed)
    chosen = rng.sample(paragraphs, args.questions)
    reader = TransformersReader(SHIPPED_READER)
    reader.warm_up()
    reader.read("warm up?", [chosen[0]["context"]] * 5)
    base = baseline_ms()
    one, five = [], []
    for p in chosen:
        question = rng.choice(p["qas"])["question"]
        others = [o["context"] for o in rng.sample(paragraphs, 4)]
        t = time.perf_counter()
        reader.read(question, [p["context"]])
        one.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        reader.read(question, [p["context"], *others])
        five.append(1000 * (time.perf_counter() - t))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = {}
    for name, times in (("1 passage", one), ("5 passages", five)):
        p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
        rows[name] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
                      "p50_ratio_to_baseline": round(p50 / base, 2), "p95_ratio_to_baseline": round(p95 / base, 2)}
    result = {"questions": args.questions, "torch_threads": torch.get_num_threads(), "baseline_ms": round(base, 2),
              "peak_rss_mib": round(peak_mib), "latency": rows}
    print(f"reader latency over {args.questions} questions, {torch.get_num_threads()} threads "
          f"(baseline matmul {base:.1f} ms)")
    print(f"{'':<12}{'p50 ms':>9}{'p95 ms':>9}{'p50/base':>10}{'p95/base':>10}")
    for name, r in rows.items():
        print(f"{name:<12}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['p50_ratio_to_baseline']:>10}{r['p95_ratio_to_baseline']:>10}")
    print(f"peak memory (RSS): {peak_mib:.0f} MiB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
