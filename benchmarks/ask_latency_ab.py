"""Ask p50 of two source trees in one run, interleaved: did a change move the latency of `Assistant.ask`?

    python benchmarks/ask_latency_ab.py --before /tmp/before --after .    # each tree a checkout
    python benchmarks/ask_latency_ab.py --before /tmp/before --index DIR --squad ../shared/data/squad/dev-v1.1.json

Each round starts one process per tree, in turn (before, after, before, ...): it loads the
bundled article's assistant from that tree (the packaged embedder, the shipped reader), asks each
question once to warm up, then times `--asks` questions (the README's and the chat's examples, in
turn). With --index and --squad, both trees open that index instead (e.g. `qa index build` of
SQuAD v1.1 dev: the open run) and ask the file's first questions. Interleaving the trees and reporting the ratio of their medians keeps a shared machine's
drift out of the comparison. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

QUESTIONS = ["When will the presidents of Russia, Turkey, and Iran meet?", "Who did Putin meet in Sochi?",
             "Where will the UN talks resume?", "Who resigned?", "What did Assad say?"]

CHILD = """
import json, sys, time
from qa import Assistant
questions, asks, index = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
assistant = Assistant.load(index or None)
assistant.warm_up()
for q in questions:
    assistant.ask(q)
times = []
for i in range(asks):
    t = time.perf_counter()
    assistant.ask(questions[i % len(questions)])
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def squad_questions(path: Path, n: int) -> list[str]:
    data = json.loads(path.read_text())["data"]
    return [qa["question"] for article in data for para in article["paragraphs"] for qa in para["qas"]][:n]


def time_tree(tree: Path, asks: int, questions: list[str], index: Path | None) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(tree.resolve()), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(questions), str(asks),
                          str(index.resolve()) if index else ""], env=env, cwd=tree,
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--asks", type=int, default=40, help="timed questions per process")
    parser.add_argument("--index", type=Path, default=None, help="an index both trees open (default: the bundled article's)")
    parser.add_argument("--squad", type=Path, default=None, help="with --index: ask this SQuAD file's first questions")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ask_latency_ab.json")
    args = parser.parse_args()
    if (args.index is None) != (args.squad is None):
        parser.error("--index and --squad go together")
    questions = squad_questions(args.squad, args.asks) if args.squad else QUESTIONS
    runs: dict[str, list[list[float]]] = {"before": [], "after": []}
    for r in range(args.rounds):
        for name, tree in (("before", args.before), ("after", args.after)):
            runs[name].append(time_tree(tree, args.asks, questions, args.index))
            print(f"round {r + 1} {name}: p50 {statistics.median(runs[name][-1]) * 1000:.1f} ms", file=sys.stderr)
    p50 = {name: statistics.median([t for run in rs for t in run]) * 1000 for name, rs in runs.items()}
    per_round = [statistics.median(a) / statistics.median(b) for a, b in zip(runs["after"], runs["before"])]
    print(f"{'tree':8} {'ask p50 ms':>11}   ({args.rounds} interleaved rounds x {args.asks} asks)")
    for name in ("before", "after"):
        print(f"{name:8} {p50[name]:>11.1f}")
    print(f"after / before: {p50['after'] / p50['before']:.3f} (per round: {', '.join(f'{x:.3f}' for x in per_round)})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"before": str(args.before), "after": str(args.after), "p50_ms": p50,
                                    "ratio": p50["after"] / p50["before"], "ratio_per_round": per_round,
                                    "index": str(args.index) if args.index else "bundled article",
                                    "seconds": runs}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
