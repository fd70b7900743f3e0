"""Articles into an index: split → embed → `store.add_embedded`, in committed batches.

`ingest` is the single-process path: the articles not indexed yet (by id) are split into
passages and embedded about `commit_every` passages at a time, and each batch is committed as
one write, so an interrupted long build keeps what was committed and the next run resumes
after it (the known articles are neither split nor embedded again). `ingest_parts` is where the
Ray path (`index.distributed.embed_on_ray`) meets it: parts already split and embedded on the
workers, committed one write each.

The replace policy lives here: an article whose source is a web address, or a file that holds
no other article, replaces an indexed article under the same source (a corrected version), unless
`replace` is False. What this leaves out: loading files (`index.load`), the embedding model
(`index.embed`) and how a write is made crash-safe (`index.store`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Protocol

import numpy as np

from index.embed import Embedder
from index.metadata import is_url
from index.split import split_article
from index.store import AddResult
from index.types import Article, Passage

# Passages embedded and committed per batch: an interrupted long build keeps what was committed.
COMMIT_EVERY_PASSAGES = 2048


class EmbeddedWriter(Protocol):
    """The two calls of a store's write side that ingestion needs (`index.store.PassageWriter`)."""

    def known_ids(self, article_ids: Iterable[str]) -> set[str]: ...
    def add_embedded(self, articles: list[Article], passages: list[Passage], vectors: np.ndarray,
                     replace_sources: set[str] | None = None) -> AddResult: ...


class EmbeddedPart(Protocol):
    """Whole articles, all their passages and a vector per passage (`index.distributed.IndexPart`)."""

    articles: list[Article]
    passages: list[Passage]
    vectors: np.ndarray


def ingest(store: EmbeddedWriter, articles: list[Article], embedder: Embedder, *, progress: bool = False,
           commit_every: int = COMMIT_EVERY_PASSAGES, replace: bool = True) -> AddResult:
    """Index the articles the store does not hold yet; `replaced` lists the older versions they replaced."""
    known = store.known_ids(a.id for a in articles)
    unique: dict[str, Article] = {}
    for article in articles:
        if article.id not in known:
            unique.setdefault(article.id, article)
    articles_per_source = Counter(article.source for article in articles)
    split = [(article, split_article(article)) for article in unique.values()]
    bar = _progress_bar(sum(len(ps) for _, ps in split)) if progress else None
    result = AddResult()
    try:
        for batch in _batches(split, commit_every):
            passages = [p for _, ps in batch for p in ps]
            vectors = embedder.embed([p.text for p in passages])
            stale = {a.source for a, _ in batch if replace and replaces_by_source(a.source, articles_per_source)}
            part = store.add_embedded([a for a, _ in batch], passages, vectors, replace_sources=stale)
            result.added.extend(part.added)
            result.replaced.extend(part.replaced)
            result.copies.update(part.copies)
            if bar is not None:
                bar.update(len(passages))
    finally:
        if bar is not None:
            bar.close()
    return result


def ingest_parts(store: EmbeddedWriter, parts: Iterable[EmbeddedPart]) -> tuple[AddResult, set[str]]:
    """Commit parts embedded elsewhere (the Ray workers), one write each; returns what was added
    and the id of every article the parts held (added now or indexed before)."""
    result = AddResult()
    seen: set[str] = set()
    for part in parts:
        seen.update(a.id for a in part.articles)
        written = store.add_embedded(part.articles, part.passages, part.vectors)
        result.added.extend(written.added)
        result.copies.update(written.copies)
    return result, seen


def replaces_by_source(source: str, articles_per_source: Counter) -> bool:
    """Whether an article's source identifies it alone: a web address, or a file that holds no
    other article of this call (one record of a JSON file does not stand for the file)."""
    return bool(source) and (is_url(source) or articles_per_source[source] == 1)


def _batches(split: list[tuple[Article, list[Passage]]], commit_every: int):
    """Whole articles, about `commit_every` passages per batch."""
    batch: list[tuple[Article, list[Passage]]] = []
    size = 0
    for article, passages in split:
        batch.append((article, passages))
        size += len(passages)
        if size >= commit_every:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _progress_bar(total: int):
    if not total:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="embedding", unit="passage", dynamic_ncols=True)
