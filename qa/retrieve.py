"""Find the passages most likely to hold the answer: retrievers, and a fusion of any of them.

Dense retrieval (embedder + FAISS) finds paraphrases; BM25 (tantivy) finds rare names and
numbers the embedder blurs. Reciprocal rank fusion needs no score calibration between them.
Each hit keeps every retriever's raw score so a user (and the evaluation) can see why it was
chosen. A new retriever is one class with `name` and `search`; `FusedRetriever` takes any list.
A search can be limited to some passages (`allowed`, the passages of the articles in a question's
scope): each retriever applies the limit inside its own search, so the k hits are the k best
allowed passages rather than whatever survives filtering a fixed top k.

What this leaves out: reading the passages (`qa.reader`) and the answer policy (`qa.assistant`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol, Sequence

import numpy as np

from index.embed import Embedder
from index.sparse import content_terms
from index.store import PassageSearcher
from qa.types import RetrievedPassage


@dataclass(frozen=True)
class Hit:
    pid: int  # the passage's id in the store
    score: float  # the retriever's own score (for a fusion, the fused score)
    scores: dict[str, float]  # each underlying retriever's raw score, by retriever name


class Retriever(Protocol):
    name: str

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        """The k best passages for `query`, best first; only passages whose id is in `allowed`
        when it is given."""


class DenseRetriever:
    name = "dense"

    def __init__(self, store: PassageSearcher, embedder: Embedder):
        self.store, self.embedder = store, embedder

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        if allowed is not None and not len(allowed):
            return []  # nothing in scope: no need to embed the question
        ids, scores = self.store.dense_search(self.embedder.embed([query])[0], k, allowed)
        return [Hit(int(i), float(s), {self.name: float(s)}) for i, s in zip(ids, scores)]


class BM25Retriever:
    name = "bm25"

    def __init__(self, store: PassageSearcher):
        self.store = store

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        ids, scores = self.store.sparse_search(query, k, allowed)
        return [Hit(int(i), float(s), {self.name: float(s)}) for i, s in zip(ids, scores)]


class FusedRetriever:
    """Reciprocal rank fusion: score = sum over retrievers of 1 / (rrf_k + rank)."""

    name = "fused"

    def __init__(self, retrievers: Sequence[Retriever], rrf_k: int = 60, depth: int = 50):
        self.retrievers, self.rrf_k, self.depth = list(retrievers), rrf_k, depth

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        fused: dict[int, float] = {}
        raw: dict[int, dict[str, float]] = {}
        for retriever in self.retrievers:
            for rank, hit in enumerate(retriever.search(query, max(self.depth, k), allowed)):
                fused[hit.pid] = fused.get(hit.pid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
                raw.setdefault(hit.pid, {}).update(hit.scores)
        first = self.retrievers[0].name if self.retrievers else ""
        # ties: the first retriever's better raw score, then the older passage (deterministic)
        order = sorted(fused, key=lambda i: (-fused[i], -raw[i].get(first, float("-inf")), i))
        return [Hit(i, fused[i], raw[i]) for i in order[:k]]


def make_retriever(name: str, store: PassageSearcher, embedder: Embedder, rrf_k: int = 60,
                   depth: int = 50) -> Retriever:
    """The retriever a `Settings.retriever` name stands for."""
    if name == "dense":
        return DenseRetriever(store, embedder)
    if name == "bm25":
        return BM25Retriever(store)
    if name == "fused":
        return FusedRetriever([DenseRetriever(store, embedder), BM25Retriever(store)], rrf_k, depth)
    raise ValueError(f"unknown retriever {name!r} (dense, bm25 or fused)")


def retrieve(retriever: Retriever, store: PassageSearcher, query: str, top_k: int,
             allowed: np.ndarray | None = None, related_min_cosine: float = 1.0) -> list[RetrievedPassage]:
    """The `top_k` best passages, with their texts read from the store (only `allowed` ones, if given)."""
    if top_k <= 0:
        return []
    # a hit whose passage was removed since the search drops out, and so does a copy's passage
    # (below): ask deeper to make up
    hits = retriever.search(query, 2 * top_k + 5, allowed)
    found = store.passages_by_id(h.pid for h in hits)
    stories = store.stories(p.article_id for p, _, _ in found.values())
    query_terms = question_terms(query)
    out = []
    # a story's passages come from the first of its copies that ranks; the other copies only add
    # their sources (each outlet still counts), never a second slot among the passages read
    reader_of: dict[str, str] = {}
    copies: dict[str, list[str]] = {}
    for hit in hits:
        if hit.pid not in found:
            continue
        passage, title, source = found[hit.pid]
        story = stories.get(passage.article_id, passage.article_id)
        chosen = reader_of.setdefault(story, passage.article_id)
        if chosen != passage.article_id:
            if source and source not in copies.setdefault(chosen, []):
                copies[chosen].append(source)
            continue
        if len(out) == top_k:
            continue  # full: only the copies' sources are still gathered
        dense, bm25 = hit.scores.get("dense"), hit.scores.get("bm25")
        out.append(RetrievedPassage(
            article_id=passage.article_id, title=title, paragraph=passage.index, score=round(hit.score, 6),
            text=passage.text, start=passage.start, end=passage.end,
            dense_score=_rounded(dense), bm25_score=_rounded(bm25), source=source,
            related=is_related(query_terms, passage.text, dense, related_min_cosine)))
    return [replace(p, copies=tuple(s for s in copies.get(p.article_id, ()) if s != p.source))
            if copies.get(p.article_id) else p for p in out]


_QUESTION_WORDS = "what when where which who whom whose why how"


def question_terms(question: str) -> set[str]:
    """The content words of a question (as BM25 analyses them), less its question words: "where"
    or "who" in a passage says nothing about whether it bears on the question."""
    return content_terms(question) - content_terms(_QUESTION_WORDS)


def is_related(query_terms: set[str], text: str, dense_score: float | None, min_cosine: float) -> bool:
    """Does a passage bear on the question: a content word in common (stemmed, stop words out, as
    BM25 matches them), or a cosine similarity of at least `min_cosine` (a paraphrase)?

    Retrieval always returns its top k, even when nothing in the collection is about the question;
    this tells the passages that are from those that only came nearest."""
    if dense_score is not None and dense_score >= min_cosine:
        return True
    return bool(query_terms & content_terms(text))


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 6)
