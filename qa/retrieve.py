"""Find the passages most likely to hold the answer: dense (FAISS) and BM25 lists, fused by reciprocal rank.

Dense retrieval finds paraphrases; BM25 finds rare names and numbers the embedder blurs.
Reciprocal rank fusion needs no score calibration between the two. Each hit keeps both raw
scores so a user (and the evaluation) can see why it was chosen.
"""

from __future__ import annotations

from index.embed import Embedder
from index.store import PassageIndex
from qa.types import RetrievedPassage


def retrieve(index: PassageIndex, embedder: Embedder, question: str, top_k: int,
             candidates: int = 50, rrf_k: int = 60, mode: str = "fused") -> list[RetrievedPassage]:
    """The `top_k` best passages for `question`. mode: "fused", "dense" or "bm25"."""
    if not index.passages or top_k <= 0:
        return []
    depth = max(candidates, top_k)
    dense: dict[int, tuple[int, float]] = {}
    sparse: dict[int, tuple[int, float]] = {}
    if mode in ("fused", "dense"):
        ids, scores = index.dense_search(embedder.embed([question])[0], depth)
        dense = {int(i): (rank, float(s)) for rank, (i, s) in enumerate(zip(ids, scores))}
    if mode in ("fused", "bm25"):
        ids, scores = index.sparse_search(question, depth)
        sparse = {int(i): (rank, float(s)) for rank, (i, s) in enumerate(zip(ids, scores))}
    fused = {}
    for i in set(dense) | set(sparse):
        fused[i] = sum(1.0 / (rrf_k + ranks[i][0] + 1) for ranks in (dense, sparse) if i in ranks)
    # ties: the better dense similarity first, then index order (deterministic)
    order = sorted(fused, key=lambda i: (-fused[i], -dense.get(i, (0, -1.0))[1], i))[:top_k]
    hits = []
    for i in order:
        p = index.passages[i]
        article = index.articles[p.article_id]
        hits.append(RetrievedPassage(
            article_id=p.article_id, title=article.title, paragraph=p.index, score=round(fused[i], 6),
            text=p.text, start=p.start, end=p.end,
            dense_score=round(dense[i][1], 6) if i in dense else None,
            bm25_score=round(sparse[i][1], 6) if i in sparse else None,
            source=article.source))
    return hits
