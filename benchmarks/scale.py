"""Benchmark the index at 10k, 100k and 1M passages: build, search, memory, disk, add and remove.

    python benchmarks/scale.py                          # 10k, 100k, 1M (about 30 minutes on 2 cores)
    python benchmarks/scale.py --sizes 10000 --queries 50

Data:
- Real text throughout: the SQuAD 2.0 train articles (../shared/data/train, 442 articles, about
  20k passages) and real SQuAD train questions as queries.
- Ingestion (split + embed + commit) is measured end to end on real text for the smallest size.
- Larger corpora repeat the train articles as distinct articles (a copy number in the id and
  title). Their vectors are SYNTHETIC: each copy's passage vector is the real passage vector
  plus Gaussian noise (sigma 0.05 a dimension), re-normalised, so that copies are near but not
  identical, as related news stories are. Copy 0 keeps the real vectors. BM25 indexes the real
  texts, so its posting lists grow with the copies as a real archive's common words do.
- Adding: 100 real Wikinews paragraphs (../shared/data/news) as 100 new articles, embedded for
  real, into the largest index; then removing one article.

The baseline is the format-1 index this project shipped before (one `IndexFlatIP` over every
vector, bm25s over every text, all held in memory; an add rewrote everything), re-created here
and measured in the same run on the same data up to `--baseline-max` passages.

Prints a table and writes JSON to benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.embed import SentenceEmbedder  # noqa: E402
from index.ingest import ingest  # noqa: E402
from index.load import load_squad  # noqa: E402
from index.split import split_article  # noqa: E402
from index.store import IndexStore  # noqa: E402
from index.types import Article, Passage  # noqa: E402
from qa.retrieve import make_retriever, retrieve  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TRAIN = DATA / "train" / "squad-v2.0-train.json"
NEWS = DATA / "news" / "qamr-wikinews-test.squad.json"
SIGMA = 0.05
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newsqa" / "bench"


def percentiles(ms: list[float]) -> dict:
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def base_corpus(embedder) -> tuple[list[Article], list[list[Passage]], np.ndarray, list[str]]:
    """The train articles, their passages, real passage vectors (cached) and real questions."""
    articles, questions = load_squad(TRAIN)
    passages = [split_article(a) for a in articles]
    flat = [p.text for ps in passages for p in ps]
    CACHE.mkdir(parents=True, exist_ok=True)
    cache = CACHE / f"squad-train-{len(flat)}-{embedder.name.replace('/', '_')}.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        print(f"embedding the {len(flat):,} base passages once (cached in {cache})", flush=True)
        vectors = embedder.embed(flat, progress=True)
        np.save(cache, vectors)
    rng = np.random.default_rng(0)
    texts = [q.question for q in questions if not q.is_impossible]
    return articles, passages, vectors, [texts[i] for i in rng.choice(len(texts), 2000, replace=False)]


def corpus_parts(articles, passages, vectors, size: int, chunk: int = 50_000):
    """Yield (articles, passages, vectors) chunks of copies of the base corpus up to `size` passages."""
    rng = np.random.default_rng(1)
    offsets = np.cumsum([0] + [len(ps) for ps in passages])
    made, copy = 0, 0
    batch_a, batch_p, batch_v = [], [], []
    while made < size:
        for n, (article, ps) in enumerate(zip(articles, passages)):
            if made >= size:
                break
            clone = Article(f"{article.id}-{copy}", f"{article.title} #{copy}", f"squad-train/{copy}/{n}", None,
                            article.text)
            vec = vectors[offsets[n]:offsets[n + 1]]
            if copy:
                vec = vec + rng.normal(0, SIGMA, vec.shape).astype(np.float32)
                vec /= np.linalg.norm(vec, axis=1, keepdims=True)
            batch_a.append(clone)
            batch_p.extend(Passage(clone.id, p.index, p.start, p.end, p.text) for p in ps)
            batch_v.append(vec)
            made += len(ps)
            if sum(len(v) for v in batch_v) >= chunk:
                yield batch_a, batch_p, np.concatenate(batch_v)
                batch_a, batch_p, batch_v = [], [], []
        copy += 1
    if batch_a:
        yield batch_a, batch_p, np.concatenate(batch_v)


class FormatOneBaseline:
    """The index as format 1 kept it: everything in memory, every add rewrites the folder."""

    def __init__(self, folder: Path):
        import faiss

        self.folder, self.vectors, self.texts, self.articles, self.passages = folder, faiss.IndexFlatIP(384), [], {}, []
        self.bm25 = None

    def add(self, articles, passages, vectors) -> None:
        import bm25s
        import faiss
        import Stemmer

        self.vectors.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.articles.update({a.id: a for a in articles})
        self.passages.extend(passages)
        self.texts.extend(p.text for p in passages)
        self.bm25 = bm25s.BM25()
        tokens = bm25s.tokenize(self.texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False)
        self.bm25.index(tokens, show_progress=False)
        tmp = self.folder.with_name(self.folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with open(tmp / "articles.jsonl", "w") as f:
            f.writelines(json.dumps({"id": a.id, "title": a.title, "text": a.text}) + "\n" for a in self.articles.values())
        with open(tmp / "passages.jsonl", "w") as f:
            f.writelines(json.dumps([p.article_id, p.index, p.start, p.end]) + "\n" for p in self.passages)
        faiss.write_index(self.vectors, str(tmp / "vectors.faiss"))
        self.bm25.save(str(tmp / "bm25"))
        shutil.rmtree(self.folder, ignore_errors=True)
        os.rename(tmp, self.folder)

    def search(self, embedder, question: str, mode: str, k: int = 5, depth: int = 50):
        import bm25s
        import Stemmer

        dense, sparse = {}, {}
        if mode in ("dense", "fused"):
            _, ids = self.vectors.search(embedder.embed([question]), depth)
            dense = {int(i): r for r, i in enumerate(ids[0]) if i >= 0}
        if mode in ("bm25", "fused"):
            tokens = bm25s.tokenize([question], stopwords="en", stemmer=Stemmer.Stemmer("english"),
                                    show_progress=False, return_ids=False)[0]
            tokens = [t for t in tokens if t in self.bm25.vocab_dict]
            if tokens:
                ids, scores = self.bm25.retrieve([tokens], k=depth, show_progress=False, n_threads=0)
                sparse = {int(i): r for r, (i, s) in enumerate(zip(ids[0], scores[0])) if s > 0}
        fused = {i: sum(1 / (61 + ranks[i]) for ranks in (dense, sparse) if i in ranks) for i in set(dense) | set(sparse)}
        return [self.passages[i].text for i in sorted(fused, key=lambda i: -fused[i])[:k]]


def time_searches(search, questions: list[str]) -> list[float]:
    out = []
    for q in questions:
        t = time.perf_counter()
        search(q)
        out.append(1000 * (time.perf_counter() - t))
    return out


def dense_recall_vs_exact(store: IndexStore, embedder, questions: list[str], k: int = 10) -> float | None:
    """recall@k of the store's dense search against exact search over the same live vectors."""
    if not any(s.approximate for s in store._segments):
        return None
    hits = []
    query_vectors = embedder.embed(questions)
    scores = np.full((len(questions), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(questions), 0), dtype=np.int64)
    for segment in store._segments:
        for lo in range(0, len(segment.ids), 200_000):
            block = np.asarray(segment.vectors[lo:lo + 200_000], dtype=np.float32)
            s = query_vectors @ block.T
            scores = np.concatenate([scores, s], axis=1)
            best_ids = np.concatenate([best_ids, np.broadcast_to(segment.ids[lo:lo + 200_000], s.shape)], axis=1)
            top = np.argsort(-scores, axis=1)[:, :k]
            scores, best_ids = np.take_along_axis(scores, top, 1), np.take_along_axis(best_ids, top, 1)
    for q, vector in enumerate(query_vectors):
        got, _ = store.dense_search(vector, k)
        hits.append(len(set(got.tolist()) & set(best_ids[q].tolist())) / k)
    return round(float(np.mean(hits)), 4)


def segment_cost(vectors: np.ndarray, query_vectors: np.ndarray, work: Path) -> dict:
    """Dense search p50 over the same exact vectors as 1, 4, 8, 16 and 32 segments: what merging saves."""
    from index.vectors import Segment, search_segments, write_segment

    out = {}
    ids = np.arange(len(vectors), dtype=np.int64)
    for n in (1, 4, 8, 16, 32):
        folder = work / f"segments-{n}"
        bounds = np.linspace(0, len(vectors), n + 1).astype(int)
        for i in range(n):
            write_segment(folder, f"s{i:03d}", vectors[bounds[i]:bounds[i + 1]], ids[bounds[i]:bounds[i + 1]],
                          approximate_min=10**9)
        segments = [Segment.open(folder, f"s{i:03d}") for i in range(n)]
        out[n] = percentiles(time_searches(lambda q: search_segments(segments, q, 50, None), list(query_vectors)))
        shutil.rmtree(folder)
    return out


def rss_probe(folder: Path, questions_file: Path) -> None:
    """Run in a fresh process: open the index, answer the queries, print the peak RSS in MB."""
    embedder = SentenceEmbedder()
    embedder.warm_up()
    questions = json.loads(questions_file.read_text())
    before = peak_rss_mb()
    store = IndexStore.open(folder, embedder.name)
    retriever = make_retriever("fused", store, embedder)
    for q in questions:
        retrieve(retriever, store, q, 5)
    print(json.dumps({"model_only_mb": round(before), "peak_rss_mb": round(peak_rss_mb())}))


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not getrusage's ru_maxrss: that keeps the parent's peak
    across fork and exec, so a probe started by a large process would report the parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_rss(folder: Path, questions: list[str]) -> dict:
    qfile = folder.with_name("questions.json")
    qfile.write_text(json.dumps(questions))
    out = subprocess.run([sys.executable, __file__, "--rss-probe", str(folder), str(qfile)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline-max", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.json")
    parser.add_argument("--rss-probe", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_probe:
        return rss_probe(*args.rss_probe)

    embedder = SentenceEmbedder()
    embedder.warm_up()
    articles, passages, vectors, all_questions = base_corpus(embedder)
    questions = all_questions[:args.queries]
    news = load_squad(NEWS)[0][:100]
    work = Path(args.work or tempfile.mkdtemp(prefix="newsqa-scale-"))
    results = {"sigma": SIGMA, "queries": len(questions), "sizes": {}, "cpu_count": os.cpu_count()}

    # what a search pays per extra segment: the base vectors split into 1..32 exact segments
    results["segments_cost_dense_top50"] = segment_cost(vectors, embedder.embed(questions), work)
    print("dense search over 1/4/8/16/32 segments:", results["segments_cost_dense_top50"], flush=True)

    # ingestion on real text, end to end, at the smallest size
    smallest = min(args.sizes)
    take, count = [], 0
    for article, ps in zip(articles, passages):
        if count >= smallest:
            break
        take.append(article)
        count += len(ps)
    folder = work / "ingest"
    shutil.rmtree(folder, ignore_errors=True)
    store = IndexStore.create(folder, embedder.name, embedder.dim)
    t = time.perf_counter()
    ingest(store, take, embedder, progress=True)
    ingest_s = time.perf_counter() - t
    t = time.perf_counter()
    embedder.embed([p.text for a in take for p in split_article(a)])
    embed_s = time.perf_counter() - t
    results["ingest_real_text"] = {"passages": count, "seconds": round(ingest_s, 1),
                                   "passages_per_second": round(count / ingest_s, 1),
                                   "embedding_alone_passages_per_second": round(count / embed_s, 1)}
    print(f"ingest {count:,} real passages: {ingest_s:.1f} s, {count / ingest_s:.1f} passages/s "
          f"(embedding alone {count / embed_s:.1f}/s)", flush=True)
    store.close()
    shutil.rmtree(folder, ignore_errors=True)

    for size in sorted(args.sizes):
        row: dict = {}
        folder = work / f"idx-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        store = IndexStore.create(folder, embedder.name, embedder.dim)
        t = time.perf_counter()
        n = 0
        for part_articles, part_passages, part_vectors in corpus_parts(articles, passages, vectors, size):
            store.add_embedded(part_articles, part_passages, part_vectors)
            n += len(part_passages)
        store.compact()
        build_s = time.perf_counter() - t
        row.update(passages=n, build_seconds_vectors_given=round(build_s, 1),
                   store_passages_per_second=round(n / build_s), disk_mb=round(folder_bytes(folder) / 2**20),
                   segments=store.describe()["segments"])
        store.close()
        store = IndexStore.open(folder, embedder.name)
        embed_ms = time_searches(lambda q: embedder.embed([q]), questions)
        row["question_embedding"] = percentiles(embed_ms)
        for mode in ("dense", "bm25", "fused"):
            retriever = make_retriever(mode, store, embedder)
            row[mode] = percentiles(time_searches(lambda q: retrieve(retriever, store, q, 5), questions))
        row["dense_recall@10_vs_exact"] = dense_recall_vs_exact(store, embedder, questions)
        row["rss"] = measure_rss(folder, questions)
        print(f"{n:>9,} passages: build {build_s:.1f} s; fused p50 {row['fused']['p50_ms']} ms; "
              f"recall@10 {row['dense_recall@10_vs_exact']}; rss {row['rss']}", flush=True)

        if size <= args.baseline_max:
            base = FormatOneBaseline(work / f"baseline-{size}")
            t = time.perf_counter()
            for part_articles, part_passages, part_vectors in corpus_parts(articles, passages, vectors, size,
                                                                           chunk=10**9):
                base.add(part_articles, part_passages, part_vectors)
            baseline = {"build_seconds_vectors_given": round(time.perf_counter() - t, 1),
                        "disk_mb": round(folder_bytes(base.folder) / 2**20)}
            for mode in ("dense", "bm25", "fused"):
                baseline[mode] = percentiles(time_searches(lambda q: base.search(embedder, q, mode), questions))
            row["baseline_format1"] = baseline

        # adding 100 real news articles (embedded for real), then removing one
        t = time.perf_counter()
        added = ingest(store, news, embedder)
        row["add_100_articles_seconds"] = round(time.perf_counter() - t, 2)
        row["added_passages"] = sum(len(split_article(a)) for a in added.added)
        t = time.perf_counter()
        store.remove([added.added[0].id])
        row["remove_one_seconds"] = round(time.perf_counter() - t, 3)
        if "baseline_format1" in row:
            extra = [p for a in news for p in split_article(a)]
            t = time.perf_counter()
            base.add(news, extra, embedder.embed([p.text for p in extra]))
            row["baseline_format1"]["add_100_articles_seconds"] = round(time.perf_counter() - t, 2)
            shutil.rmtree(base.folder, ignore_errors=True)
        print(f"  add 100 articles {row['add_100_articles_seconds']} s, remove one {row['remove_one_seconds']} s",
              flush=True)
        results["sizes"][str(n)] = row
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)


def print_table(results: dict) -> None:
    print(f"\n{'passages':>10} {'build s':>8} {'disk MB':>8} {'dense p50/p95':>15} {'bm25 p50/p95':>15} "
          f"{'fused p50/p95':>15} {'recall@10':>9} {'RSS MB':>7} {'add 100 s':>9}")
    for n, row in results["sizes"].items():
        cells = [f"{row[m]['p50_ms']}/{row[m]['p95_ms']}" for m in ("dense", "bm25", "fused")]
        print(f"{int(n):>10,} {row['build_seconds_vectors_given']:>8} {row['disk_mb']:>8} {cells[0]:>15} "
              f"{cells[1]:>15} {cells[2]:>15} {str(row['dense_recall@10_vs_exact']):>9} {row['rss']['peak_rss_mb']:>7} {row['add_100_articles_seconds']:>9}")
        if "baseline_format1" in row:
            b = row["baseline_format1"]
            cells = [f"{b[m]['p50_ms']}/{b[m]['p95_ms']}" for m in ("dense", "bm25", "fused")]
            print(f"{'  format 1':>10} {b['build_seconds_vectors_given']:>8} {b['disk_mb']:>8} {cells[0]:>15} "
                  f"{cells[1]:>15} {cells[2]:>15} {'':>9} {'':>7} {b.get('add_100_articles_seconds', ''):>9}")


if __name__ == "__main__":
    main()
