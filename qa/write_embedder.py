"""The embedder a collection's writes use, so that a write never holds the lock questions need.

Questions embed their query under the collection's lock (the embedder's tokenizer is not safe to
share across threads). A write that embedded under the same lock stalled every question for the
whole of its embedding: 19 s for one question during a 24 s upload. So a write embeds with its
own copy of the packaged embedder (same model and precision, so the same vectors; about 90 MB
more, loaded at the first write) on half the CPU's threads, leaving the rest to questions, and
takes locks only to commit (`IndexStore.add_embedded`
holds the store's own lock for the files and the one transaction). An embedder the caller
passed in cannot be copied: a write then embeds under the collection's lock, as before.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from index.embed import Embedder, SentenceEmbedder


class _EmbedsUnderLock:
    """An embedder shared with questions: each call takes their lock, and only for that call."""

    def __init__(self, embedder: Embedder, lock: threading.RLock):
        self._embedder, self._lock = embedder, lock
        self.name, self.dim = embedder.name, embedder.dim

    def warm_up(self) -> None:
        with self._lock:
            self._embedder.warm_up()

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        with self._lock:
            return self._embedder.embed(texts, progress)


# each embedder's copy for writes, made once, gone with the embedder
_copies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_copies_lock = threading.Lock()


def embedder_for_writes(embedder: Embedder, lock: threading.RLock) -> Embedder:
    """An embedder that gives `embedder`'s vectors and never holds `lock` while it embeds (when
    it can be copied), else one that holds it only while it embeds. Writes in several threads
    take turns on the copy (its tokenizer is no more thread-safe than the original's)."""
    if not isinstance(embedder, SentenceEmbedder):
        return _EmbedsUnderLock(embedder, lock)
    with _copies_lock:
        copy = _copies.get(embedder)
        if copy is None:
            copy = _copies[embedder] = _EmbedsUnderLock(
                SentenceEmbedder(batch_size=embedder.batch_size, precision=embedder.precision,
                                 cache_dir=embedder.cache_dir, threads=max(1, embedder.threads // 2),
                                 max_seq_length=embedder.max_seq_length), threading.RLock())
        return copy
