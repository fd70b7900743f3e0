"""Benchmark the passage embedder's precisions on SQuAD v1.1 dev paragraphs: speed, fidelity, retrieval.

    python benchmarks/embed_speed.py --passages 600 --rounds 12 --questions 1000

Speed: every variant embeds the same random chunk of passages in turn, in a shuffled order each
round, so a load spike on a shared machine hits all of them alike; the ratio to the fp32 baseline
is the median over rounds of baseline time / variant time (passages/s alone is only as good as
the machine's load, printed with it). Fidelity: cosine of each variant's passage vectors to the
baseline's. Retrieval: recall@5 on a fixed-seed sample of answerable questions, dense alone
(FAISS inner product) and fused with BM25 by reciprocal rank (k=60, 50 candidates each), as
qa.retrieve does; a hit is a retrieved passage overlapping the question's own paragraph.
Prints a table and writes JSON beside the other benchmark results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SQUAD = ROOT / ".." / "shared" / "data" / "squad" / "dev-v1.1.json"

from index.embed import FLOAT_MATMULS, SentenceEmbedder, _model_dir, _OnnxEncoder  # noqa: E402


class LegacyEmbedder:
    """The embedder as it was before precisions: one sentence-transformers encode call, batch 32."""

    def __init__(self):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(_model_dir()), device="cpu")

    def embed(self, texts, progress=False):
        return self.model.encode(list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True)


class TorchInt8Embedder:
    """sentence-transformers with torch dynamic int8 quantization of every Linear (per-channel weights)."""

    def __init__(self, batch_size=16):
        import torch
        from sentence_transformers import SentenceTransformer
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        model = SentenceTransformer(str(_model_dir()), device="cpu")
        self.model = quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        self.batch_size = batch_size

    def embed(self, texts, progress=False):
        return self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True)


class OnnxEmbedder:
    """A file of an ONNX conversion, one text per run: `fused.onnx` (fp32, attention fused) or
    `int8.onnx` (int8, with the MatMuls matching `float_matmuls` left float)."""

    def __init__(self, work: Path, file: str, float_matmuls: str | None = None):
        from index.embed import _convert

        folder = work / ("int8-some-float" if float_matmuls else "int8-all")
        if not (folder / "int8.onnx").exists():
            folder.mkdir(exist_ok=True)
            _convert(_model_dir(), folder, float_matmuls=float_matmuls)
        self.encoder = _OnnxEncoder(folder / file, _model_dir(), len(os.sched_getaffinity(0)), 256, 1)

    def embed(self, texts, progress=False):
        return self.encoder.encode(list(texts), progress)


def variants(work: Path) -> dict:
    """Name -> zero-argument factory. The first is the baseline."""
    return {
        "fp32 bs32 (before)": LegacyEmbedder,
        "fp32 bs16 sorted": lambda: SentenceEmbedder(precision="fp32"),
        "bf16 bs16": lambda: SentenceEmbedder(precision="bf16"),
        "torch int8 dynamic": TorchInt8Embedder,
        "onnx fp32 fused": lambda: OnnxEmbedder(work, "fused.onnx"),
        "onnx int8 FFN out float": lambda: OnnxEmbedder(work, "int8.onnx", FLOAT_MATMULS),
        "onnx int8 (shipped)": lambda: SentenceEmbedder(precision="int8", cache_dir=work / "cache"),
        "onnx int8 len128": lambda: SentenceEmbedder(precision="int8", max_seq_length=128,
                                                     cache_dir=work / "cache"),
    }


def recall_at_5(passages, p_vectors, questions, q_vectors, bm25_lists, depth=50, rrf_k=60, k=5):
    import faiss

    index = faiss.IndexFlatIP(p_vectors.shape[1])
    index.add(p_vectors)
    scores, ids = index.search(q_vectors, depth)

    def hit(q, i):
        p = passages[i]
        return p.article_id == q.article_id and p.start < q.context_end and p.end > q.context_start

    dense_hits = fused_hits = 0
    for row, q in enumerate(questions):
        dense = {int(i): (r, float(s)) for r, (i, s) in enumerate(zip(ids[row], scores[row])) if i >= 0}
        sparse = {int(i): (r, float(s)) for r, (i, s) in enumerate(zip(*bm25_lists[row]))}
        fused = {i: sum(1.0 / (rrf_k + m[i][0] + 1) for m in (dense, sparse) if i in m)
                 for i in set(dense) | set(sparse)}
        order = sorted(fused, key=lambda i: (-fused[i], -dense.get(i, (0, -1.0))[1], i))[:k]
        dense_hits += any(hit(q, int(i)) for i in ids[row][:k] if i >= 0)
        fused_hits += any(hit(q, i) for i in order)
    return round(100 * dense_hits / len(questions), 1), round(100 * fused_hits / len(questions), 1)


def cpu_flags() -> list[str]:
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return []
    wanted = {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}
    return sorted(wanted & set(flags.split(":", 1)[1].split()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("squad", type=Path, nargs="?", default=SQUAD)
    parser.add_argument("--passages", type=int, default=600, help="pool the timing chunks are drawn from")
    parser.add_argument("--chunk", type=int, default=96, help="passages per timed call")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--questions", type=int, default=1000, help="0: skip the retrieval columns")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default="", help="comma-separated variant names (the baseline is always run)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "embed_speed.json")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch

    from index.load import load_squad
    from index.sparse import SparseIndex
    from index.split import split_article

    articles, squad_questions = load_squad(args.squad)
    passages = [p for a in articles for p in split_article(a)]
    texts = [p.text for p in passages]
    rng = random.Random(args.seed)
    pool = rng.sample(texts, min(args.passages, len(texts)))
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="embed-speed-") as tmp:
        factories = variants(Path(tmp))
        names = list(factories)
        if args.only:
            keep = set(args.only.split(","))
            names = [names[0]] + [n for n in names[1:] if n in keep]
        embedders = {}
        for name in names:
            started = time.perf_counter()
            embedders[name] = factories[name]()
            embedders[name].embed(pool[:8])  # load and warm up
            print(f"loaded {name} in {time.perf_counter() - started:.1f} s", flush=True)

        # ---- speed, interleaved ----
        seconds = {n: [] for n in names}
        for r in range(args.rounds):
            chunk = rng.sample(pool, min(args.chunk, len(pool)))
            order = names[:]
            rng.shuffle(order)
            for name in order:
                started = time.perf_counter()
                embedders[name].embed(chunk)
                seconds[name].append(time.perf_counter() - started)
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{n} {len(chunk) / seconds[n][-1]:.0f}/s" for n in names), flush=True)
        load_after = os.getloadavg()

        # ---- fidelity and retrieval ----
        base = names[0]
        questions = [q for q in squad_questions if q.answers]
        questions = random.Random(args.seed).sample(questions, min(args.questions, len(questions)))
        if questions:  # the index's own BM25 (tantivy), with passage ids = positions in `passages`
            sparse = SparseIndex(Path(tmp) / "bm25")
            sparse.add(np.arange(len(texts), dtype=np.int64), texts, batch=0)
            sparse.close_writer()
            sparse.reload()
            bm25_lists = [sparse.search(q.question, 50) for q in questions]
        vectors = {}
        rows = []
        for name in names:
            started = time.perf_counter()
            p_vectors = embedders[name].embed(texts)
            vectors[name] = p_vectors
            cos = (p_vectors * vectors[base]).sum(1)
            row = {
                "variant": name,
                "name": getattr(embedders[name], "name", ""),
                "passages_per_second": round(args.chunk * args.rounds / sum(seconds[name]), 1),
                "ratio_to_baseline": round(statistics.median(
                    b / v for b, v in zip(seconds[base], seconds[name])), 2),
                "cos_min": round(float(cos.min()), 5),
                "cos_mean": round(float(cos.mean()), 5),
            }
            if questions:
                q_vectors = np.ascontiguousarray(embedders[name].embed([q.question for q in questions]),
                                                 dtype=np.float32)
                if name == base:
                    base_q = q_vectors
                q_cos = (q_vectors * base_q).sum(1)
                row["question_cos_min"] = round(float(q_cos.min()), 5)
                row["dense_recall@5"], row["fused_recall@5"] = recall_at_5(
                    passages, np.ascontiguousarray(p_vectors, dtype=np.float32), questions, q_vectors, bm25_lists)
            rows.append(row)
            print(f"measured {name} ({time.perf_counter() - started:.0f} s)", flush=True)

    result = {
        "dataset": str(args.squad), "passages": len(texts), "timing_pool": len(pool), "chunk": args.chunk,
        "rounds": args.rounds, "questions": len(questions), "seed": args.seed,
        "machine": {"cpus": len(os.sched_getaffinity(0)), "processor": platform.processor() or platform.machine(),
                    "cpu_flags": cpu_flags(), "torch_threads": torch.get_num_threads(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after]},
        "variants": rows,
    }
    print(f"\n{len(os.sched_getaffinity(0))} CPUs, load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after the timing; torch threads {torch.get_num_threads()}")
    header = f"{'variant':<26}{'pass/s':>8}{'ratio':>7}{'cos min':>9}{'cos mean':>9}"
    if questions:
        header += f"{'dense@5':>9}{'fused@5':>9}"
    print(header)
    for row in rows:
        line = (f"{row['variant']:<26}{row['passages_per_second']:>8}{row['ratio_to_baseline']:>7}"
                f"{row['cos_min']:>9.4f}{row['cos_mean']:>9.4f}")
        if questions:
            line += f"{row['dense_recall@5']:>9}{row['fused_recall@5']:>9}"
        print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
