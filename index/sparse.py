"""BM25 over passages with tantivy: incremental, with deletes and global statistics.

tantivy keeps the index as immutable segments that it merges in the background, so adding
passages writes only the new ones, a delete is a tombstone it purges at its next merge, and
BM25's document frequencies are always those of the whole collection. A search runs block-max
WAND over the posting lists, so a query costs milliseconds at a million passages.

Words are lower-cased, English stop words dropped, and Snowball-stemmed (as bm25s did before).
Each document holds the passage id (its key in the records database) and the id of the write
that added it, so a write that died before its records were committed can be undone by one
delete.

What this leaves out: which passages are live (the records database decides; a search may
return ids that it no longer has, which the caller drops).
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

import numpy as np

ANALYZER = "en_stem_stop"
WRITER_HEAP_BYTES = 64_000_000

log = logging.getLogger(__name__)


def _analyzer():
    import tantivy

    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.stopword("english"))
            .filter(tantivy.Filter.stemmer("english"))
            .build())


@functools.lru_cache(maxsize=1)
def _shared_analyzer():
    return _analyzer(), threading.Lock()


def content_terms(text: str) -> set[str]:
    """The words of `text` as BM25 indexes them: lower-cased, stop words out, stemmed.

    Two texts share a content word exactly when a BM25 search for one could match the other."""
    analyzer, lock = _shared_analyzer()
    with lock:
        return set(analyzer.analyze(text))


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", tokenizer_name=ANALYZER, index_option="freq")
    builder.add_integer_field("pid", stored=True, indexed=True)
    builder.add_integer_field("batch", indexed=True)
    return builder.build()


class SparseIndex:
    """A tantivy index in `folder`: one writer process at a time, any number of readers."""

    def __init__(self, folder: Path):
        import tantivy

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._schema = _schema()
        self._analyzer = _analyzer()
        self._index = tantivy.Index(self._schema, path=str(self.folder), reuse=True)
        self._index.register_tokenizer(ANALYZER, self._analyzer)
        self._writer = None

    # ---- writing (the caller holds the index's write lock) -----------------------------------
    def _writer_(self):
        if self._writer is None:
            self._writer = self._index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
        return self._writer

    def add(self, pids: np.ndarray, texts: list[str], batch: int) -> None:
        import tantivy

        writer = self._writer_()
        for pid, text in zip(pids, texts):
            writer.add_document(tantivy.Document(text=text, pid=int(pid), batch=int(batch)))
        writer.commit()

    def delete_pids(self, pids) -> None:
        pids = list(pids)
        if not pids:
            return
        writer = self._writer_()
        for pid in pids:
            writer.delete_documents_by_term("pid", int(pid))
        writer.commit()

    def delete_batch(self, batch: int) -> None:
        writer = self._writer_()
        writer.delete_documents_by_term("batch", int(batch))
        writer.commit()

    def close_writer(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()  # releases tantivy's own writer lock
            self._writer = None

    # ---- reading --------------------------------------------------------------------------
    def reload(self) -> None:
        self._index.reload()

    def terms(self, query: str) -> list[str]:
        return list(dict.fromkeys(self._analyzer.analyze(query)))

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(passage ids, BM25 scores), best first; only passages sharing a term with the query.

        `allowed` (passage ids; None: all) limits the search to those passages: a filter clause
        inside the query, scored 0, so the scores are the plain BM25 ones and the k results are
        the k best allowed passages."""
        import tantivy

        terms = self.terms(query)
        if not terms or k <= 0 or (allowed is not None and not len(allowed)):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "text", t)) for t in terms])
        if allowed is not None:
            only = tantivy.Query.const_score_query(
                tantivy.Query.term_set_query(self._schema, "pid", [int(pid) for pid in allowed]), 0.0)
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.Must, only)])
        searcher = self._index.searcher()
        hits = searcher.search(q, k, count=False).hits
        ids = np.array([searcher.doc(address)["pid"][0] for _, address in hits], dtype=np.int64)
        scores = np.array([score for score, _ in hits], dtype=np.float32)
        return ids, scores

    def count(self) -> int:
        return self._index.searcher().num_docs
