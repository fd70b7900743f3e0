"""BM25 over passages with bm25s (English stop words, Snowball stemming)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np


def _quiet_bm25s() -> None:
    # bm25s sets its own logger to DEBUG, which floods a CLI's warning-level output
    logging.getLogger("bm25s").setLevel(logging.WARNING)


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


class SparseIndex:
    def __init__(self, retriever):
        self._retriever = retriever

    @classmethod
    def build(cls, texts: list[str]) -> "SparseIndex":
        import bm25s

        _quiet_bm25s()
        retriever = bm25s.BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "SparseIndex":
        import bm25s

        _quiet_bm25s()
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0))

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(passage ids, scores), best first; only passages sharing a term with the query."""
        vocab = self._retriever.vocab_dict
        tokens = [t for t in tokenize([query])[0] if t in vocab]
        n_docs = int(self._retriever.scores["num_docs"])
        if not tokens or n_docs == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids, scores = self._retriever.retrieve([tokens], k=min(k, n_docs), show_progress=False, n_threads=0)
        ids, scores = ids[0], scores[0]
        keep = scores > 0
        return ids[keep].astype(np.int64), scores[keep].astype(np.float32)
