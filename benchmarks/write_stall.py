"""Does a large write stall the questions asked meanwhile? Ask latency idle against during a write.

    python benchmarks/write_stall.py                      # a 10,000-record write
    python benchmarks/write_stall.py --records 2000       # a shorter run

With the packaged embedder and the shipped reader, over an index of the bundled article: asks
the example questions one after another for --idle-questions (idle), then starts adding
--records one-paragraph articles (as one JSON-lines upload would, through `Collection.add`) in a
thread, and keeps asking until the write has committed. Reports the p50 and p90 of each, their
ratio, and how long the write took. The write embeds on the same CPU, so some slowdown is the
CPU's share, not a lock: the ratio is what a user of a busy server sees. Prints a table and
writes JSON (benchmarks/results/write_stall.json).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = ["When will the presidents of Russia, Turkey, and Iran meet?", "Who did Putin meet in Sochi?",
             "Where will the UN talks resume?"]
TOWNS = ["Wellmouth", "Eastbury", "Northfield", "Lakeside", "Hillcrest", "Marston", "Redford", "Ashdale"]


def records(n: int):
    from qa.types import Article
    from index.ids import article_id

    for i in range(n):
        town = TOWNS[i % len(TOWNS)]
        title = f"{town} council meeting {i}"
        text = (f"The {town} council met on day {i} to discuss the budget for road number {i % 97}. "
                f"Councillor {i % 13} proposed {i % 7 + 2} new bus stops and a repair of the bridge on street {i}. "
                f"The vote was {i % 9 + 3} to {i % 4}, the town clerk said.")
        yield Article(article_id(title, text), title, f"https://{town.lower()}.example/news/{i}", None, text)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--idle-questions", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "write_stall.json")
    args = parser.parse_args()

    from qa import Assistant, Settings
    from qa.settings import BUNDLED_ARTICLE

    work = Path(tempfile.mkdtemp(prefix="write-stall-"))
    index = work / "index"
    assistant = Assistant.build([BUNDLED_ARTICLE], index, Settings(index_dir=index))
    assistant.warm_up()
    for q in QUESTIONS:
        assistant.ask(q)

    def ask_once(i: int) -> float:
        started = time.perf_counter()
        assistant.ask(QUESTIONS[i % len(QUESTIONS)])
        return time.perf_counter() - started

    idle = [ask_once(i) for i in range(args.idle_questions)]
    articles = list(records(args.records))
    done = threading.Event()
    write: dict = {}

    def run_write():
        started = time.perf_counter()
        write["added"] = len(assistant.collection.add(articles))
        write["seconds"] = time.perf_counter() - started
        done.set()

    threading.Thread(target=run_write, daemon=True).start()
    time.sleep(1.0)  # past the parsing, into the embedding
    during, i = [], 0
    while not done.is_set():
        during.append(ask_once(i))
        i += 1
    idle_again = [ask_once(i) for i in range(args.idle_questions // 2)]
    result = {
        "records": args.records, "added": write["added"], "write_s": round(write["seconds"], 1),
        "idle_p50_s": round(statistics.median(idle), 3), "idle_p90_s": round(percentile(idle, 0.9), 3),
        "during_p50_s": round(statistics.median(during), 3), "during_p90_s": round(percentile(during, 0.9), 3),
        "during_max_s": round(max(during), 3), "questions_during": len(during),
        "idle_after_p50_s": round(statistics.median(idle_again), 3),
    }
    result["p50_ratio"] = round(result["during_p50_s"] / result["idle_p50_s"], 2)
    print(f"{'':24}{'p50 s':>8}{'p90 s':>8}{'n':>6}")
    print(f"{'idle':24}{result['idle_p50_s']:>8}{result['idle_p90_s']:>8}{len(idle):>6}")
    print(f"{'during the write':24}{result['during_p50_s']:>8}{result['during_p90_s']:>8}{len(during):>6}")
    print(f"{'idle, after':24}{result['idle_after_p50_s']:>8}{'':>8}{len(idle_again):>6}")
    print(f"write of {args.records} records: {result['write_s']} s; p50 ratio during/idle: {result['p50_ratio']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
