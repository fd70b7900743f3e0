"""The records database of an index: articles, passages, vector segments and tombstones, in SQLite.

SQLite in WAL mode gives what the index needs from a database: a write is one transaction
(all of it or none, even after kill -9), readers in other processes keep reading a consistent
snapshot while a writer commits, and article texts are read from disk on demand rather than
held in memory. Passage texts are not stored: a passage is (article, start, end) and its text is
a slice of the article's, so every offset in the system points into one stored text.

What this leaves out: the vectors and the BM25 index (files beside the database, see
`index.vectors` and `index.sparse`), and the order of writes across the three (`index.store`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

from index.metadata import outlet_of
from index.types import Article, Passage

DATABASE = "index.sqlite"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- order of addition
    id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, source TEXT NOT NULL, published TEXT,
    text TEXT NOT NULL, passage_count INTEGER NOT NULL, added_at TEXT NOT NULL);
CREATE INDEX articles_by_source ON articles (source);
CREATE TABLE passages (
    pid INTEGER PRIMARY KEY,  -- the passage's id in the vector segments and the BM25 index
    article_id TEXT NOT NULL, idx INTEGER NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL);
CREATE INDEX passages_by_article ON passages (article_id, idx);
CREATE TABLE segments (name TEXT PRIMARY KEY, rows INTEGER NOT NULL, approximate INTEGER NOT NULL);
CREATE TABLE tombstones (pid INTEGER PRIMARY KEY);  -- removed passages whose vectors are still in a segment
CREATE TABLE pending (batch INTEGER PRIMARY KEY, segment TEXT NOT NULL);  -- writes begun, not committed
"""


def connect(folder: Path, readonly: bool = False) -> sqlite3.Connection:
    path = Path(folder) / DATABASE
    if readonly:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False,
                             isolation_level=None, timeout=30)
    else:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    db.execute("PRAGMA busy_timeout = 30000")
    # the outlet is derived from the source, not stored: a scope filters on it inside the query
    db.create_function("outlet", 1, outlet_of, deterministic=True)
    return db


def initialise(db: sqlite3.Connection, meta: dict[str, str]) -> None:
    db.execute("PRAGMA journal_mode = WAL")  # persistent: readers never block the writer
    with transaction(db):
        for statement in SCHEMA.strip().split(";"):
            if statement.strip():
                db.execute(statement)
        db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])


@contextlib.contextmanager
def transaction(db: sqlite3.Connection, write: bool = True):
    """BEGIN IMMEDIATE for writes (take the write lock up front), DEFERRED for consistent reads.

    A read inside an open transaction joins it, so several reads can share one snapshot."""
    if not write and db.in_transaction:
        yield db
        return
    db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def read_meta(db: sqlite3.Connection) -> dict[str, str]:
    return dict(db.execute("SELECT key, value FROM meta"))


def set_meta(db: sqlite3.Connection, **values) -> None:
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in values.items()])


def next_counter(db: sqlite3.Connection, key: str, n: int) -> int:
    """Reserve `n` numbers of a counter in meta; returns the first. Never reused, even after a crash."""
    first = int(db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])
    set_meta(db, **{key: first + n})
    return first


def insert_article(db: sqlite3.Connection, article: Article, passage_count: int, added_at: str) -> None:
    db.execute("INSERT INTO articles (id, title, source, published, text, passage_count, added_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (article.id, article.title, article.source, article.published, article.text, passage_count, added_at))


def insert_passages(db: sqlite3.Connection, pids, passages: list[Passage]) -> None:
    db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?)",
                   [(int(pid), p.article_id, p.index, p.start, p.end) for pid, p in zip(pids, passages)])


def delete_articles(db: sqlite3.Connection, article_ids: list[str]) -> list[int]:
    """Delete articles and their passages; their passage ids become tombstones. Returns those ids."""
    pids = []
    for article_id in article_ids:
        pids.extend(row[0] for row in db.execute("SELECT pid FROM passages WHERE article_id = ?", (article_id,)))
        db.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
    db.executemany("INSERT OR IGNORE INTO tombstones VALUES (?)", [(pid,) for pid in pids])
    return pids


ARTICLE_INFO_COLUMNS = "id, title, source, published, passage_count, added_at"


def article_infos(db: sqlite3.Connection) -> list[dict]:
    rows = db.execute(f"SELECT {ARTICLE_INFO_COLUMNS} FROM articles ORDER BY seq")
    infos = [dict(zip(("id", "title", "source", "published", "passages", "added_at"), row)) for row in rows]
    for info in infos:
        info["outlet"] = outlet_of(info["source"])
    return infos


def scoped_pids(db: sqlite3.Connection, article_ids: list[str] | None = None, outlets: list[str] | None = None,
                since: str | None = None, until: str | None = None) -> list[int]:
    """Ids of the passages of the articles that pass every filter given (None: no filter), ascending.

    Dates are ISO (YYYY-MM-DD) and inclusive, compared with the date part of `published`; an
    article without a date passes no date filter. Lists travel as one JSON parameter, so a scope
    of any size is one statement.
    """
    where, params = [], []
    if article_ids is not None:
        where.append("a.id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(article_ids)))
    if outlets is not None:
        where.append("outlet(a.source) IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(outlets)))
    if since is not None:
        where.append("a.published IS NOT NULL AND substr(a.published, 1, 10) >= ?")
        params.append(since)
    if until is not None:
        where.append("a.published IS NOT NULL AND substr(a.published, 1, 10) <= ?")
        params.append(until)
    sql = "SELECT p.pid FROM passages p JOIN articles a ON a.id = p.article_id"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [row[0] for row in db.execute(sql + " ORDER BY p.pid", params)]


def articles(db: sqlite3.Connection, ids: list[str] | None = None) -> list[Article]:
    if ids is None:
        rows = db.execute("SELECT id, title, source, published, text FROM articles ORDER BY seq")
    else:
        rows = [row for i in ids
                for row in db.execute("SELECT id, title, source, published, text FROM articles WHERE id = ?", (i,))]
    return [Article(*row) for row in rows]


def existing_ids(db: sqlite3.Connection, ids: list[str]) -> set[str]:
    found = set()
    for lo in range(0, len(ids), 500):
        chunk = ids[lo:lo + 500]
        found.update(row[0] for row in db.execute(
            f"SELECT id FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk))
    return found


def articles_by_key(db: sqlite3.Connection, keys: list[str]) -> list[Article]:
    """Articles whose id or source (URL or file path) is one of `keys`, in order of addition."""
    rows = {}
    for key in keys:
        for row in db.execute("SELECT seq, id, title, source, published, text FROM articles "
                              "WHERE id = ? OR source = ?", (key, key)):
            rows[row[0]] = row[1:]
    return [Article(*rows[seq]) for seq in sorted(rows)]


def passages_by_pid(db: sqlite3.Connection, pids) -> dict[int, tuple[Passage, str, str]]:
    """pid -> (passage with its text, article title, article source), for the pids still present."""
    out = {}
    for pid in pids:
        row = db.execute(
            "SELECT p.article_id, p.idx, p.char_start, p.char_end, a.title, a.source, "
            "substr(a.text, p.char_start + 1, p.char_end - p.char_start) "
            "FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.pid = ?", (int(pid),)).fetchone()
        if row is not None:
            article_id, idx, start, end, title, source, text = row
            out[int(pid)] = (Passage(article_id, idx, start, end, text), title, source)
    return out


def passages_of(db: sqlite3.Connection, article_id: str) -> list[Passage]:
    # the article's text read once and sliced here: a substr() per passage row would read the whole
    # text blob again for every passage, quadratic in the article's length
    found = db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
    if found is None:
        return []
    text = found[0]
    rows = db.execute("SELECT idx, char_start, char_end FROM passages WHERE article_id = ? ORDER BY idx",
                      (article_id,))
    return [Passage(article_id, idx, start, end, text[start:end]) for idx, start, end in rows]
