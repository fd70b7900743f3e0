"""The on-disk index (format 2): records in SQLite, vectors in FAISS segments, BM25 in tantivy.

Layout of an index folder:
    index.sqlite       articles, passages, the list of live vector segments, tombstones, meta,
                       and the audit trail of writes (`index.audit`, recorded in each write's transaction)
    vectors/           immutable segments: seg-<batch>.npy (+ .ids.npy, + .ivf.faiss when large)
    bm25/              tantivy's index
    .write.lock        one writer at a time (readers never wait)

A write happens in this order, so that a crash at any point leaves the old state or the new:
    1. reserve a batch number and passage ids in the database, with a `pending` row (committed);
    2. write the new vector segment and the new BM25 documents (invisible: nothing refers to them);
    3. one database transaction inserts the articles and passages, lists the segment, tombstones
       what was removed or replaced, and deletes the `pending` row.
The next writer undoes any write whose `pending` row is still there. Readers see only what the
database lists: a BM25 or vector hit whose passage is not in the database is dropped.

Splitting and embedding are the caller's (`index.ingest`): a write takes passages with their
vectors. Adding writes only the new data; removing is a tombstone; compaction (automatic when small
segments pile up, or `qa index compact`) rewrites the live vectors as one segment, with an
approximate index once the collection is large enough for it to pay.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np

from index import audit, dedup, records
from index.errors import EmbedderMismatchError, IndexFormatError, IndexNotFoundError
from index.sparse import SparseIndex
from index.types import Article, Passage
from index.vectors import APPROXIMATE_MIN_VECTORS, Segment, remove_segment, search_segments, write_segment

FORMAT_VERSION = 2
METRIC = "inner_product"
VECTORS = "vectors"
BM25 = "bm25"
WRITE_LOCK = ".write.lock"
# How far a build got, in the meta table: BUILDING from its start, COMPLETE once it committed all
# its articles. An index only ever added to has neither.
BUILD_STATE, BUILDING, COMPLETE = "build", "building", "complete"
# Merge the small segments once there are more than this many (each costs a search per question);
# rebuild everything once tombstones are this share of the vectors.
MAX_SMALL_SEGMENTS = 8
MAX_TOMBSTONE_SHARE = 0.2
# Each large segment costs a probe of its inverted lists per question: past this many, rebuild as one.
MAX_APPROXIMATE_SEGMENTS = 8
# Scopes whose passage ids are kept between questions (a chat's users pick a few article sets)
MAX_CACHED_SCOPES = 64

log = logging.getLogger(__name__)


class PassageSearcher(Protocol):
    """The read side of an index: what retrieval and answering need. `IndexStore` is the one we ship."""

    embedder_name: str
    dim: int

    def refresh(self) -> bool: ...
    # `allowed`: passage ids the search is limited to (None: every passage)
    def dense_search(self, query_vector: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...
    def sparse_search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...
    def scoped_pids(self, article_ids=None, outlets=None, since=None, until=None) -> np.ndarray: ...
    def passages_by_id(self, pids: Iterable[int]) -> dict[int, tuple[Passage, str, str]]: ...
    def passages_of(self, article_id: str) -> list[Passage]: ...
    # article id -> its story's first version (itself when it is no copy; `index.dedup`)
    def stories(self, article_ids: Iterable[str]) -> dict[str, str]: ...
    def articles(self, ids: list[str] | None = None) -> list[Article]: ...
    def article_infos(self) -> list[dict]: ...
    def counts(self) -> tuple[int, int]: ...


class PassageWriter(Protocol):
    """The write side of an index. Each call is one crash-safe write; splitting and embedding are
    the caller's (`index.ingest`)."""

    def known_ids(self, article_ids: Iterable[str]) -> set[str]: ...
    def add_embedded(self, articles: list[Article], passages: list[Passage], vectors: np.ndarray,
                     replace_sources: set[str] | None = None) -> "AddResult": ...
    def remove(self, keys: Iterable[str]) -> list[Article]: ...
    def compact(self, full: bool = True) -> dict: ...
    def describe(self) -> dict: ...
    def build_state(self) -> str | None: ...
    def set_build_state(self, state: str) -> None: ...


class PassageStore(PassageSearcher, PassageWriter, Protocol):
    """Both sides of an index: what the assistant's collection opens."""


def upgrade_hint(folder: Path) -> str:
    return f"upgrade it with: qa index upgrade --index {folder}"


def rebuild_hint(folder: Path) -> str:
    return f"rebuild it with: qa index build PATH... --index {folder}"


def is_index(folder: Path) -> bool:
    return (Path(folder) / records.DATABASE).is_file()


@dataclass
class AddResult:
    added: list[Article] = field(default_factory=list)
    replaced: list[Article] = field(default_factory=list)  # older versions that `added` replaced
    copies: dict[str, str] = field(default_factory=dict)  # id of an added copy -> its story's first version


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("newsqa")
    except Exception:  # not installed as a distribution (running from a source tree)
        return "0+source"


class IndexStore:
    """An index folder, open for searching; writes take the folder's write lock."""

    def __init__(self, folder: Path, db: sqlite3.Connection, meta: dict[str, str]):
        self.folder = Path(folder)
        self._db = db
        self.embedder_name = meta["embedding_model"]
        self.dim = int(meta["embedding_dim"])
        self.created_at = meta.get("created_at", "")
        self._lock = threading.RLock()  # one connection, shared by the threads of a server
        self._sparse: SparseIndex | None = None
        self._segments: list[Segment] = []
        self._tombstones = np.zeros(0, dtype=np.int64)
        self._data_version: int | None = None
        # scope -> passage ids, for the current data version (a server asks many questions of one scope)
        self._scopes: dict[tuple, np.ndarray] = {}
        # every article's row (no text), for the current data version: a page load or a page of
        # the article list reads it, and at 100,000 articles one read takes about 2 s
        self._infos: tuple[tuple[int, int], list[dict]] | None = None  # (version it was read at, rows)
        self._load_snapshot()

    # ---- opening --------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path, embedder_name: str) -> "IndexStore":
        folder = Path(folder)
        if not is_index(folder):
            if (folder / "manifest.json").is_file():
                raise IndexFormatError(f"{folder} is an index of format 1, which this version no longer reads; "
                                       f"{upgrade_hint(folder)}")
            if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
                raise IndexFormatError(f"{folder} is not an index; {rebuild_hint(folder)}")
            raise IndexNotFoundError(f"no index at {folder}; build one with: qa index build PATH... --index {folder}")
        try:
            db = records.connect(folder)
            meta = records.read_meta(db)
        except sqlite3.DatabaseError as e:
            raise IndexFormatError(f"{folder} cannot be read ({e}); {rebuild_hint(folder)}") from e
        if meta.get("format_version") != str(FORMAT_VERSION):
            raise IndexFormatError(f"{folder} has index format {meta.get('format_version')!r}, this version "
                                   f"reads {FORMAT_VERSION}; {rebuild_hint(folder)}")
        if meta.get("embedding_model") != embedder_name:
            raise EmbedderMismatchError(
                f"{folder} was built with the embedder {meta.get('embedding_model')!r}, "
                f"but {embedder_name!r} is configured; {rebuild_hint(folder)}", stored=meta.get("embedding_model"))
        if records.needs_migration(db):
            try:
                with write_lock(folder):
                    if records.needs_migration(db):  # not done by another process meanwhile
                        n = records.migrate(db)
                        log.info("brought %s up to date (signatures of %d article(s) for copy detection)", folder, n)
            except (sqlite3.OperationalError, PermissionError) as e:
                db.close()
                raise IndexFormatError(f"{folder} was made by an earlier version and must be brought up to date "
                                       f"once, which needs write access ({e}); open it once where it is writable"
                                       ) from e
        store = cls(folder, db, meta)
        store._recover_if_idle()
        return store

    @classmethod
    def create(cls, folder: Path, embedder_name: str, dim: int) -> "IndexStore":
        """A new, empty index in `folder` (which must be missing or empty)."""
        folder = Path(folder)
        if folder.exists() and any(p.name != WRITE_LOCK for p in folder.iterdir()):
            raise IndexFormatError(f"{folder} is not empty; refusing to create an index there")
        folder.mkdir(parents=True, exist_ok=True)
        with write_lock(folder):
            tmp = folder / f"{records.DATABASE}.tmp-{os.getpid()}"
            tmp.unlink(missing_ok=True)
            db = sqlite3.connect(tmp, isolation_level=None)
            records.initialise(db, {
                "format_version": FORMAT_VERSION, "embedding_model": embedder_name, "embedding_dim": dim,
                "metric": METRIC, "created_at": _now(), "package_version": _package_version(),
                "next_pid": 0, "next_batch": 1, records.LSH_META: records.lsh_layout()})
            db.execute(audit.TABLE_SQL)
            db.close()
            (folder / VECTORS).mkdir(exist_ok=True)
            SparseIndex(folder / BM25)
            os.replace(tmp, folder / records.DATABASE)  # the index exists from this rename on, whole
        return cls.open(folder, embedder_name)

    # ---- reading --------------------------------------------------------------------------
    def _load_snapshot(self) -> None:
        """Open the segments the database lists, with its tombstones (retry if a compaction races)."""
        for attempt in range(20):
            with self._lock, records.transaction(self._db, write=False):
                version = self._db.execute("PRAGMA data_version").fetchone()[0]
                names = [row[0] for row in self._db.execute("SELECT name FROM segments ORDER BY name")]
                tombstones = np.array([row[0] for row in self._db.execute("SELECT pid FROM tombstones")],
                                      dtype=np.int64)
            try:
                opened = {s.name: s for s in self._segments}
                segments = [opened.get(name) or Segment.open(self.folder / VECTORS, name) for name in names]
            except (OSError, ValueError, RuntimeError):
                if attempt == 19:
                    raise
                continue  # a compaction removed a segment after we read the list: read it again
            if self._sparse is None:
                self._sparse = SparseIndex(self.folder / BM25)
            else:
                self._sparse.reload()
            self._segments, self._tombstones, self._data_version = segments, np.sort(tombstones), version
            self._scopes = {}
            return

    def refresh(self) -> bool:
        """Pick up what other processes committed since; True when something changed."""
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if version == self._data_version:
                return False
            self._load_snapshot()
            return True

    def dense_search(self, query_vector: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            return search_segments(self._segments, query_vector, k, self._tombstones, allowed)

    def sparse_search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            return self._sparse.search(query, k, allowed)

    def scoped_pids(self, article_ids: Iterable[str] | None = None, outlets: Iterable[str] | None = None,
                    since: str | None = None, until: str | None = None) -> np.ndarray:
        """Ids of the passages of the articles that pass every filter given (None: no filter on it).

        Outlets are as `outlet_of` names them; dates are ISO (YYYY-MM-DD), inclusive, and an
        article without a date passes no date filter. The result is cached until the index changes.
        """
        key = (None if article_ids is None else tuple(sorted(set(article_ids))),
               None if outlets is None else tuple(sorted(set(outlets))), since, until)
        with self._lock:
            found = self._scopes.get(key)
            if found is None:
                ids, names = (None if v is None else list(v) for v in key[:2])
                with self.reading():
                    found = np.array(records.scoped_pids(self._db, ids, names, since, until), dtype=np.int64)
                if len(self._scopes) >= MAX_CACHED_SCOPES:
                    self._scopes.pop(next(iter(self._scopes)))
                self._scopes[key] = found
            return found

    def passages_by_id(self, pids: Iterable[int]) -> dict[int, tuple[Passage, str, str]]:
        with self.reading():
            return records.passages_by_pid(self._db, pids)

    @contextlib.contextmanager
    def reading(self):
        """Reads inside this block see one snapshot, whatever other processes commit meanwhile."""
        with self._lock, records.transaction(self._db, write=False):
            yield self

    def passages_of(self, article_id: str) -> list[Passage]:
        with self.reading():
            return records.passages_of(self._db, article_id)

    def stories(self, article_ids: Iterable[str]) -> dict[str, str]:
        with self.reading():
            return records.stories(self._db, article_ids)

    def known_text(self, sources: Iterable[str], hashes: Iterable[str]) -> tuple[set[str], set[str]]:
        """Which of these sources (URLs, paths) and text hashes (`index.ids.text_hash`) are indexed."""
        with self.reading():
            return records.known_text(self._db, list(sources), list(hashes))

    def articles(self, ids: list[str] | None = None) -> list[Article]:
        with self.reading():
            return records.articles(self._db, ids)

    def article_infos(self) -> list[dict]:
        """Every article's row, without its text, oldest first; read again only when the database
        changed (a commit by another process moves `data_version`, a change made here moves the
        connection's `total_changes`). Each call gets its own copies."""
        with self._lock:
            version = (self._db.execute("PRAGMA data_version").fetchone()[0], self._db.total_changes)
            if self._infos is None or self._infos[0] != version:
                with self.reading():
                    self._infos = (version, records.article_infos(self._db))
            return [dict(info) for info in self._infos[1]]

    def counts(self) -> tuple[int, int]:
        """(articles, passages)."""
        with self.reading():
            return (self._db.execute("SELECT count(*) FROM articles").fetchone()[0],
                    self._db.execute("SELECT count(*) FROM passages").fetchone()[0])

    def describe(self) -> dict:
        with self._lock:
            meta = records.read_meta(self._db)
            segments = list(self._db.execute("SELECT name, rows, approximate FROM segments ORDER BY name"))
            tombstones = self._db.execute("SELECT count(*) FROM tombstones").fetchone()[0]
        n_articles, n_passages = self.counts()
        return {"path": str(self.folder), "format_version": FORMAT_VERSION,
                "embedding_model": meta["embedding_model"], "embedding_dim": int(meta["embedding_dim"]),
                "metric": meta["metric"], "article_count": n_articles, "passage_count": n_passages,
                "created_at": meta["created_at"], "updated_at": meta.get("updated_at", meta["created_at"]),
                "package_version": meta["package_version"], "build": meta.get(BUILD_STATE),
                "segments": [{"name": n, "vectors": r, "approximate": bool(a)} for n, r, a in segments],
                "tombstones": tombstones}

    # ---- writing --------------------------------------------------------------------------
    def known_ids(self, article_ids: Iterable[str]) -> set[str]:
        """Which of these article ids the index holds (what a resumed build skips)."""
        with self.reading():
            return records.existing_ids(self._db, list(article_ids))

    def add_embedded(self, articles: list[Article], passages: list[Passage], vectors: np.ndarray,
                     replace_sources: set[str] | None = None) -> AddResult:
        """Commit articles with their passages and vectors (row i of `vectors` is passages[i]) as one write.

        Articles already indexed (same id) are skipped; an indexed article whose source is in
        `replace_sources` and that is not among these is replaced (removed in the same transaction).
        """
        if len(vectors) != len(passages):
            raise ValueError(f"{len(vectors)} vectors for {len(passages)} passages")
        # the signatures before the lock: the write holds it only for the database's work
        signatures = {a.id: dedup.signature(a.text) for a in articles}
        result = AddResult()
        with self._lock, write_lock(self.folder):
            self._recover()
            known = records.existing_ids(self._db, [a.id for a in articles])
            new = {a.id: a for a in articles if a.id not in known}
            keep = [i for i, p in enumerate(passages) if p.article_id in new]
            passages = [passages[i] for i in keep]
            vectors = np.asarray(vectors, dtype=np.float32)[keep] if keep else np.zeros((0, self.dim), np.float32)
            if not new:
                return result
            new_ids = set(new)
            sources = sorted({a.source for a in new.values()} & (replace_sources or set()))
            stale = [a for a in records.articles_by_key(self._db, sources)
                     if a.source in sources and a.id not in new_ids]
            with records.transaction(self._db):
                batch = records.next_counter(self._db, "next_batch", 1)
                first_pid = records.next_counter(self._db, "next_pid", len(passages))
                segment = f"seg-{batch:010d}"
                self._db.execute("INSERT INTO pending VALUES (?, ?)", (batch, segment))
            pids = np.arange(first_pid, first_pid + len(passages), dtype=np.int64)
            if len(pids):
                write_segment(self.folder / VECTORS, segment, vectors, pids)
                self._sparse.add(pids, [p.text for p in passages], batch)
            counts: dict[str, int] = {}
            for p in passages:
                counts[p.article_id] = counts.get(p.article_id, 0) + 1
            with records.transaction(self._db):
                removed_pids = records.delete_articles(self._db, [a.id for a in stale])
                audit.record_write(self._db, list(new.values()), stale, audit.REPLACE)
                now = _now()
                for article in new.values():
                    first = records.insert_article(self._db, article, counts.get(article.id, 0), now,
                                                   signatures[article.id])
                    if first is not None:
                        result.copies[article.id] = first
                records.insert_passages(self._db, pids, passages)
                if len(pids):
                    self._db.execute("INSERT INTO segments VALUES (?, ?, ?)",
                                     (segment, len(pids), int(len(pids) >= APPROXIMATE_MIN_VECTORS)))
                self._db.execute("DELETE FROM pending WHERE batch = ?", (batch,))
                records.set_meta(self._db, updated_at=now)
            self._sparse.delete_pids(removed_pids)
            self._sparse.close_writer()
            self._load_snapshot()
            result.added, result.replaced = list(new.values()), stale
            self._compact_if_due()
        return result

    def build_state(self) -> str | None:
        """BUILDING, COMPLETE, or None for an index that no build made (see BUILD_STATE)."""
        with self.reading():
            return records.read_meta(self._db).get(BUILD_STATE)

    def set_build_state(self, state: str) -> None:
        with self._lock, write_lock(self.folder), records.transaction(self._db):
            records.set_meta(self._db, **{BUILD_STATE: state})

    def remove(self, keys: Iterable[str]) -> list[Article]:
        """Remove the articles with these ids or sources (URL or file path); returns those removed."""
        with self._lock, write_lock(self.folder):
            self._recover()
            found = {a.id: a for a in records.articles_by_key(self._db, list(keys))}
            if not found:
                return []
            with records.transaction(self._db):
                pids = records.delete_articles(self._db, list(found))
                audit.record_write(self._db, [], list(found.values()), audit.DELETE)
                records.set_meta(self._db, updated_at=_now())
            self._sparse.delete_pids(pids)
            self._sparse.close_writer()
            self._load_snapshot()
            self._compact_if_due()
        return list(found.values())

    def compact(self, full: bool = True) -> dict:
        """Rewrite live vectors as one segment (full) or merge only the small ones; drop tombstones."""
        with self._lock, write_lock(self.folder):
            self._recover()
            return self._compact(full)

    def _compact_if_due(self) -> None:
        small = [s for s in self._segments if not s.approximate]
        total = sum(len(s.ids) for s in self._segments)
        if total and len(self._tombstones) > MAX_TOMBSTONE_SHARE * total:
            self._compact(full=True)
        elif len(small) > MAX_SMALL_SEGMENTS:
            self._compact(full=False)  # the merged segment gets an approximate index once large enough
        elif len(self._segments) - len(small) > MAX_APPROXIMATE_SEGMENTS:
            self._compact(full=True)

    def _compact(self, full: bool) -> dict:
        chosen = self._segments if full else [s for s in self._segments if not s.approximate]
        if not chosen:
            return {"segments_merged": 0, "vectors": 0}
        dead = self._tombstones
        ids = np.concatenate([s.ids for s in chosen])
        live = ~np.isin(ids, dead)
        vectors = np.concatenate([np.asarray(s.vectors, dtype=np.float32) for s in chosen])[live]
        ids = ids[live]
        with records.transaction(self._db):
            batch = records.next_counter(self._db, "next_batch", 1)
            segment = f"seg-{batch:010d}"
            self._db.execute("INSERT INTO pending VALUES (?, ?)", (batch, segment))
        if len(ids):
            write_segment(self.folder / VECTORS, segment, vectors, ids)
        dropped = [s.name for s in chosen]
        with records.transaction(self._db):
            self._db.executemany("DELETE FROM segments WHERE name = ?", [(n,) for n in dropped])
            if len(ids):
                self._db.execute("INSERT INTO segments VALUES (?, ?, ?)",
                                 (segment, len(ids), int(len(ids) >= APPROXIMATE_MIN_VECTORS)))
            # a tombstone is needed while any segment still holds its vector
            still = np.concatenate([s.ids for s in self._segments if s.name not in dropped] or [np.zeros(0, np.int64)])
            cleared = [int(pid) for pid in dead if pid not in set(still.tolist())]
            self._db.executemany("DELETE FROM tombstones WHERE pid = ?", [(pid,) for pid in cleared])
            self._db.execute("DELETE FROM pending WHERE batch = ?", (batch,))
        self._sparse.delete_pids(cleared)  # purges BM25 documents an interrupted remove left behind
        self._sparse.close_writer()
        self._load_snapshot()
        for name in dropped:
            remove_segment(self.folder / VECTORS, name)
        return {"segments_merged": len(dropped), "vectors": int(len(ids)), "tombstones_cleared": len(cleared)}

    def _recover_if_idle(self) -> None:
        """A write that died left a `pending` row: undo it now if no writer is running."""
        with self._lock:
            if self._db.execute("SELECT 1 FROM pending LIMIT 1").fetchone() is None:
                return
            try:
                with write_lock(self.folder, wait=False):
                    self._recover()
            except BlockingIOError:
                return  # a live writer: its pending row is not an interrupted write
            self._load_snapshot()

    def _recover(self) -> None:
        """Undo writes that died before their commit, and delete files no committed state uses."""
        for batch, segment in list(self._db.execute("SELECT batch, segment FROM pending")):
            log.info("undoing an interrupted write (batch %s)", batch)
            self._sparse.delete_batch(batch)
            remove_segment(self.folder / VECTORS, segment)
            with records.transaction(self._db):
                self._db.execute("DELETE FROM pending WHERE batch = ?", (batch,))
        self._sparse.close_writer()
        live = {row[0] for row in self._db.execute("SELECT name FROM segments")}
        for path in (self.folder / VECTORS).glob("*"):
            name = path.name.split(".")[0]
            if name not in live or ".tmp-" in path.name:
                path.unlink(missing_ok=True)
        for path in self.folder.glob(f"{records.DATABASE}.tmp-*"):
            path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._db.close()


@contextlib.contextmanager
def write_lock(folder: Path, wait: bool = True):
    """One writer at a time per index folder; readers never wait. Released by the kernel on kill -9.

    wait=False raises BlockingIOError when another process holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / WRITE_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def remove_index(folder: Path) -> None:
    """Delete an index folder (for `build`, which starts over)."""
    shutil.rmtree(folder, ignore_errors=True)

