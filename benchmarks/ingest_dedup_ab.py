"""Does recognising copies at ingestion slow ingestion down? A same-run A/B.

Ingests the same SQuAD v1.1 dev articles (real packaged embedder, real index on disk) into a
fresh index with copy detection (A: MinHash signature, LSH band lookup and band rows for every
article, as shipped) and without it (B: the same code with the signature, lookup and band rows
switched off), alternating A and B in a shuffled order each round so that the load of a shared
machine hits both alike. The ratio is the median over rounds of time A / time B (1.00: no cost),
in wall time and in this process's CPU time; the time spent inside the three steps of copy
detection, as a share of A's time, is the cost itself without the machine's noise.

    python benchmarks/ingest_dedup_ab.py [--articles 8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index import records  # noqa: E402
from index.embed import SentenceEmbedder  # noqa: E402
from index.ingest import ingest  # noqa: E402
from index.load import squad_articles  # noqa: E402
from index.store import IndexStore  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json"


@contextlib.contextmanager
def without_copy_detection():
    import index.store as store_module

    saved = (store_module.dedup.signature, records.first_version, records.insert_bands)
    store_module.dedup.signature = lambda text, *a, **k: np.zeros(1, dtype=np.uint64)
    records.first_version = lambda *a, **k: None
    records.insert_bands = lambda *a, **k: None
    try:
        yield
    finally:
        store_module.dedup.signature, records.first_version, records.insert_bands = saved


@contextlib.contextmanager
def timing_copy_detection(spent: list[float]):
    """Copy detection as shipped, with the wall time of its three steps added to `spent[0]`."""
    import index.store as store_module

    saved = (store_module.dedup.signature, records.first_version, records.insert_bands)

    def timed(fn):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started
        return run

    store_module.dedup.signature, records.first_version, records.insert_bands = (timed(f) for f in saved)
    try:
        yield
    finally:
        store_module.dedup.signature, records.first_version, records.insert_bands = saved


def run_once(articles, embedder, detect: bool, spent: list[float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one ingestion into a fresh index."""
    with tempfile.TemporaryDirectory() as tmp:
        store = IndexStore.create(Path(tmp) / "idx", embedder.name, embedder.dim)
        started, cpu = time.perf_counter(), time.process_time()
        with (timing_copy_detection(spent) if detect else without_copy_detection()):
            ingest(store, articles, embedder)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        store.close()
        return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ingest_dedup_ab.json")
    args = parser.parse_args()
    data = json.loads(DEV.read_text(encoding="utf-8"))
    articles = squad_articles({"data": data["data"][: args.articles]})[0]
    embedder = SentenceEmbedder(cache_dir=Path(tempfile.gettempdir()) / "newsqa-bench-embedder")
    embedder.warm_up()
    run_once(articles[:1], embedder, True, [0.0])  # warm caches
    times = {"with": [], "without": []}
    cpu = {"with": [], "without": []}
    spent = [0.0]
    rng = random.Random(0)
    for _ in range(args.rounds):
        order = ["with", "without"]
        rng.shuffle(order)
        for variant in order:
            wall, used = run_once(articles, embedder, variant == "with", spent)
            times[variant].append(wall)
            cpu[variant].append(used)
    ratios = [a / b for a, b in zip(times["with"], times["without"])]
    cpu_ratios = [a / b for a, b in zip(cpu["with"], cpu["without"])]
    share = spent[0] / sum(times["with"])
    passages = sum(len(a.text.split("\n\n")) for a in articles)
    result = {"articles": len(articles), "paragraphs": passages, "rounds": args.rounds,
              "seconds_with": [round(t, 3) for t in times["with"]],
              "seconds_without": [round(t, 3) for t in times["without"]],
              "median_ratio_with_over_without": round(statistics.median(ratios), 4),
              "cpu_seconds_with": [round(t, 3) for t in cpu["with"]],
              "cpu_seconds_without": [round(t, 3) for t in cpu["without"]],
              "median_cpu_ratio_with_over_without": round(statistics.median(cpu_ratios), 4),
              "copy_detection_share_of_wall_time": round(share, 5),
              "cpu_count": os.cpu_count(), "load_average": os.getloadavg()}
    print(f"{len(articles)} articles, {passages} paragraphs, {args.rounds} rounds")
    print(f"with copy detection:    median {statistics.median(times['with']):.2f} s "
          f"(CPU {statistics.median(cpu['with']):.2f} s)")
    print(f"without copy detection: median {statistics.median(times['without']):.2f} s "
          f"(CPU {statistics.median(cpu['without']):.2f} s)")
    print(f"ratio (median over rounds): wall {result['median_ratio_with_over_without']:.3f}, "
          f"CPU {result['median_cpu_ratio_with_over_without']:.3f}")
    print(f"copy detection's own share of the time with it: {100 * share:.2f} %")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
