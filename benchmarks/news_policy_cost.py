"""What reading an answer across articles costs, apart from retrieving and reading: the answer
policy (`qa.answer_policy.AnswerPolicy.answer`, with `qa.news`'s grouping) timed on its own, for
two source trees, interleaved.

    python benchmarks/news_policy_cost.py --before /tmp/before --after . --index /tmp/news-index \
        --gold eval/gold/news.jsonl

Each tree, in its own process per round, retrieves and reads every question once (not timed),
then times the policy on those same passages and readings `--repeats` times. An ask spends
around a hundred milliseconds reading; this isolates the part the news rules add, which a
shared machine's noise in `benchmarks/ask_latency_ab.py` would hide. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, sys, time
from qa import Assistant
index, gold, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
assistant = Assistant.load(index)
assistant.warm_up()
prepared = []
for line in open(gold, encoding="utf-8"):
    if line.strip():
        q = json.loads(line)["question"]
        hits = assistant.retrieve(q)
        prepared.append((q, hits, assistant.reader.read(q, [h.text for h in hits])))
times = []
for _ in range(repeats + 1):
    round_times = []
    for q, hits, readings in prepared:
        t = time.perf_counter()
        assistant.policy.answer(q, q, hits, readings, q)
        round_times.append(time.perf_counter() - t)
    times += round_times if _ else []  # the first pass warms up
print(json.dumps(times))
"""


def timed(tree: Path, index: Path, gold: Path, repeats: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(index), str(gold.resolve()), str(repeats)], cwd=tree,
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--gold", type=Path, required=True, help="JSON-lines questions")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "news_policy_cost.json")
    args = parser.parse_args()
    samples: dict[str, list[float]] = {"before": [], "after": []}
    for round_ in range(1, args.rounds + 1):
        for name in ("before", "after"):
            times = timed(getattr(args, name), args.index, args.gold, args.repeats)
            samples[name] += times
            print(f"round {round_} {name}: p50 {1000 * statistics.median(times):.3f} ms", flush=True)
    p50 = {name: 1000 * statistics.median(times) for name, times in samples.items()}
    mean = {name: 1000 * statistics.fmean(times) for name, times in samples.items()}
    print("| tree | policy p50 (ms) | mean (ms) | timings |\n|---|---:|---:|---:|")
    for name in samples:
        print(f"| {name} | {p50[name]:.3f} | {mean[name]:.3f} | {len(samples[name])} |")
    print(f"ratio after/before (p50): {p50['after'] / p50['before']:.3f}")
    args.out.write_text(json.dumps({"index": str(args.index), "gold": str(args.gold), "rounds": args.rounds,
                                    "repeats": args.repeats, "p50_ms": p50, "mean_ms": mean,
                                    "ratio_p50": p50["after"] / p50["before"]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
