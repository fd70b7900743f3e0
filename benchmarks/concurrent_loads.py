"""Open and search an index over and over while another process adds, removes and compacts it.

    python benchmarks/concurrent_loads.py --loads 10000

Every load opens the index from scratch (as each `qa` command and the server's start do), checks
that what it sees is whole (each article's passage count equals its passages; every search hit
reads back), and searches both retrievers. The writer, a second process, loops: add two
articles, remove one, add it back, compact. Prints the loads, the failures and the writes done,
and writes JSON beside the other benchmark results. Uses a hashing stand-in embedder so that
the loads, not the model, are what is measured. A failure is any exception or inconsistency.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakes import HashEmbedder  # noqa: E402
from index.ingest import ingest  # noqa: E402
from index.load import load_paths  # noqa: E402
from index.store import IndexStore  # noqa: E402

SAMPLES = ROOT / "tests" / "samples"
BUNDLED = ROOT / "qa" / "data" / "putin-hosts-assad-in-sochi.txt"

WRITER = textwrap.dedent("""
    import os, sys, time
    sys.path[:0] = [{root!r}, {tests!r}]
    from fakes import HashEmbedder
    from index.ingest import ingest
    from index.load import load_paths
    from index.store import IndexStore
    store = IndexStore.open({folder!r}, HashEmbedder.name)
    extra = load_paths([{jsonl!r}]).articles
    writes = 0
    deadline = time.monotonic() + {seconds}
    while time.monotonic() < deadline and not os.path.exists({stop!r}):
        ingest(store, extra, HashEmbedder()); writes += 1
        store.remove([extra[0].id]); writes += 1
        ingest(store, extra[:1], HashEmbedder()); writes += 1
        store.remove([a.id for a in extra]); writes += 1
        if writes % 20 == 0:
            store.compact(); writes += 1
    print(writes, flush=True)
""")


def check_once(folder: Path, embedder: HashEmbedder) -> None:
    store = IndexStore.open(folder, embedder.name)
    try:
        with store.reading():  # one snapshot: a whole index, never half of a write
            check_snapshot(store, embedder)
    finally:
        store.close()


def check_snapshot(store: IndexStore, embedder: HashEmbedder) -> None:
    for info in store.article_infos():
        passages = store.passages_of(info["id"])
        if len(passages) != info["passages"]:
            raise AssertionError(f"article {info['id']}: {len(passages)} passages, record says {info['passages']}")
    ids, _ = store.dense_search(embedder.embed(["Mugabe resigned after 37 years"])[0], 10)
    sparse, _ = store.sparse_search("Mugabe resigned after 37 years", 10)
    if len(ids) == 0:
        raise AssertionError("dense search found nothing")
    store.passages_by_id(list(ids) + list(sparse))


def run(folder: Path, loads: int, writer_seconds: float, min_seconds: float = 0.0) -> dict:
    """At least `loads` loads, and for at least `min_seconds`, while the writer runs."""
    embedder = HashEmbedder()
    stop = folder.with_name("stop-writer")
    store = IndexStore.create(folder, embedder.name, embedder.dim)
    ingest(store, load_paths([BUNDLED]).articles, embedder)
    store.close()
    writer = subprocess.Popen([sys.executable, "-c", WRITER.format(
        root=str(ROOT), tests=str(ROOT / "tests"), folder=str(folder), jsonl=str(SAMPLES / "articles.jsonl"),
        seconds=writer_seconds, stop=str(stop))], stdout=subprocess.PIPE, text=True)
    failures: list[str] = []
    done = 0
    started = time.monotonic()
    while (done < loads or time.monotonic() - started < min_seconds) and writer.poll() is None:
        try:
            check_once(folder, embedder)
        except Exception as e:  # every kind of failure counts
            failures.append(f"{type(e).__name__}: {e}")
        done += 1
    stop.touch()
    writer_out, _ = writer.communicate(timeout=120)
    return {"loads": done, "failures": len(failures), "first_failures": failures[:5],
            "writes": int(writer_out.strip() or 0), "writer_exit": writer.returncode,
            "seconds": round(time.monotonic() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=10_000)
    parser.add_argument("--writer-seconds", type=float, default=None, help="default: until the loads are done")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "concurrent_loads.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp) / "idx", args.loads, args.writer_seconds or 3600)
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
