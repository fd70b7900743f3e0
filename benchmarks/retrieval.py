"""Benchmark index building and retrieval on a SQuAD file: build time, passages/second, recall@k.

    python benchmarks/retrieval.py ../shared/data/squad/dev-v1.1.json --questions 1000

Builds the index of every paragraph (into the evaluation's corpus cache, so `python -m eval run`
reuses it), then asks a fixed-seed sample of questions in three modes (dense alone, BM25 alone,
fused) and counts a hit when a retrieved passage overlaps the question's own paragraph.
Prints a table and writes JSON beside the other benchmark results.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from tqdm import tqdm

from eval.corpus import squad_corpus_dir
from eval.gold_questions import load_gold
from qa import Assistant, Settings

KS = (1, 5, 10)
MODES = ("dense", "bm25", "fused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("squad", type=Path)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "retrieval.json")
    args = parser.parse_args()

    settings = Settings.from_env()
    gold = load_gold(args.squad)
    folder = squad_corpus_dir(gold, settings)
    started = time.perf_counter()
    assistant = Assistant.build(list(gold.articles), folder, settings, progress=True)
    build_s = time.perf_counter() - started
    n_passages = assistant.store.counts()[1]

    questions = [q for c in gold.conversations for q in c.turns if q.answers]
    sample = random.Random(args.seed).sample(questions, min(args.questions, len(questions)))
    hits = {(mode, k): 0 for mode in MODES for k in KS}
    for q in tqdm(sample, desc="retrieving", unit="q"):
        for mode in MODES:
            ranked = assistant.retrieve(q.question, max(KS), mode=mode)
            rank = next((i for i, p in enumerate(ranked, 1) if p.article_id == q.article_id
                         and p.start < q.context_end and p.end > q.context_start), None)
            for k in KS:
                hits[mode, k] += rank is not None and rank <= k
    recall = {mode: {f"recall@{k}": round(100 * hits[mode, k] / len(sample), 1) for k in KS} for mode in MODES}
    result = {"dataset": str(args.squad), "articles": len(gold.articles), "passages": n_passages,
              "build_seconds": round(build_s, 1), "passages_per_second": round(n_passages / build_s, 1),
              "questions": len(sample), "seed": args.seed, "recall": recall}
    print(f"\nindex build: {n_passages} passages in {build_s:.1f} s ({n_passages / build_s:.1f} passages/s)")
    print(f"{'mode':<8}" + "".join(f"{'recall@' + str(k):>11}" for k in KS))
    for mode in MODES:
        print(f"{mode:<8}" + "".join(f"{recall[mode][f'recall@{k}']:>11}" for k in KS))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
