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

from index import dedup
from index.ids import text_hash
from index.metadata import outlet_of
from index.types import Article, Passage

DATABASE = "index.sqlite"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- order of addition
    id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, source TEXT NOT NULL, published TEXT,
    text TEXT NOT NULL, passage_count INTEGER NOT NULL, added_at TEXT NOT NULL,
    author TEXT, language TEXT, site_name TEXT, text_hash TEXT, minhash BLOB, duplicate_of TEXT);
CREATE INDEX articles_by_source ON articles (source);
CREATE INDEX articles_by_text_hash ON articles (text_hash);
CREATE TABLE minhash_bands (band INTEGER NOT NULL, key BLOB NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX minhash_bands_by_key ON minhash_bands (band, key);
CREATE INDEX minhash_bands_by_article ON minhash_bands (article_id);
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


# Columns and tables added to format 2 since its first release: an older index gets them when a
# writer first opens it (`migrate`), and code that predates them still reads it (every query
# names its columns).
ADDED_COLUMNS = (("author", "TEXT"), ("language", "TEXT"), ("site_name", "TEXT"), ("text_hash", "TEXT"),
                 ("minhash", "BLOB"), ("duplicate_of", "TEXT"))
ADDED_SCHEMA = """
CREATE INDEX IF NOT EXISTS articles_by_text_hash ON articles (text_hash);
CREATE TABLE IF NOT EXISTS minhash_bands (band INTEGER NOT NULL, key BLOB NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS minhash_bands_by_key ON minhash_bands (band, key);
CREATE INDEX IF NOT EXISTS minhash_bands_by_article ON minhash_bands (article_id);
"""
LSH_META = "minhash_lsh"  # "num_perm/shingle_words/bands/rows" the stored signatures and bands were made with


def lsh_layout() -> str:
    return f"{dedup.NUM_PERM}/{dedup.SHINGLE_WORDS}/{dedup.BANDS}/{dedup.ROWS}"


def needs_migration(db: sqlite3.Connection) -> bool:
    columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
    return any(name not in columns for name, _ in ADDED_COLUMNS) or read_meta(db).get(LSH_META) != lsh_layout()


def migrate(db: sqlite3.Connection) -> int:
    """Bring an index of an earlier release of format 2 up to date, in one transaction (the
    caller holds the write lock): the added columns and tables, then each article's text hash,
    signature and band keys (computed from its stored text; nothing is embedded again). Returns
    the number of articles whose signatures were (re)computed."""
    with transaction(db):
        columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
        for name, kind in ADDED_COLUMNS:
            if name not in columns:
                db.execute(f"ALTER TABLE articles ADD COLUMN {name} {kind}")
        for statement in ADDED_SCHEMA.strip().split(";"):
            if statement.strip():
                db.execute(statement)
        if read_meta(db).get(LSH_META) == lsh_layout():
            return 0
        db.execute("DELETE FROM minhash_bands")
        rows = list(db.execute("SELECT id, text FROM articles ORDER BY seq"))
        for article_id, text in rows:
            sig = dedup.signature(text)
            db.execute("UPDATE articles SET text_hash = ?, minhash = ? WHERE id = ?",
                       (text_hash(text), dedup.to_blob(sig), article_id))
            insert_bands(db, article_id, sig)
        set_meta(db, **{LSH_META: lsh_layout()})
        return len(rows)


def insert_bands(db: sqlite3.Connection, article_id: str, sig) -> None:
    db.executemany("INSERT INTO minhash_bands VALUES (?, ?, ?)",
                   [(band, key, article_id) for band, key in enumerate(dedup.band_keys(sig))])


def first_version(db: sqlite3.Connection, sig, hash_of_text: str) -> str | None:
    """The id of the first version of the story whose copy has this signature and text hash, or
    None when it is a story of its own: the same words, or an estimated similarity of at least
    `dedup.THRESHOLD` with an article found through a shared LSH band."""
    row = db.execute("SELECT id, duplicate_of FROM articles WHERE text_hash = ? ORDER BY seq LIMIT 1",
                     (hash_of_text,)).fetchone()
    if row is not None:
        return row[1] or row[0]
    keys = list(enumerate(dedup.band_keys(sig)))
    rows = db.execute(
        f"WITH k(band, key) AS (VALUES {', '.join('(?, ?)' for _ in keys)}) "
        "SELECT a.seq, a.id, a.minhash, a.duplicate_of FROM articles a WHERE a.id IN ("
        "  SELECT b.article_id FROM k JOIN minhash_bands b ON b.band = k.band AND b.key = k.key)",
        [value for pair in keys for value in pair])
    best = None
    for seq, article_id, blob, duplicate_of in rows:
        if blob is None:
            continue
        score = dedup.similarity(sig, dedup.from_blob(blob))
        if score >= dedup.THRESHOLD and (best is None or (score, -seq) > best[0]):
            best = ((score, -seq), duplicate_of or article_id)
    return None if best is None else best[1]


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


def insert_article(db: sqlite3.Connection, article: Article, passage_count: int, added_at: str,
                   sig=None) -> str | None:
    """Insert an article, linked to the first version of its story when it is a copy of one
    already indexed (its own source, outlet and date are kept); returns that version's id or None."""
    sig = dedup.signature(article.text) if sig is None else sig
    hash_of_text = text_hash(article.text)
    duplicate_of = first_version(db, sig, hash_of_text)
    db.execute("INSERT INTO articles (id, title, source, published, text, passage_count, added_at, author, "
               "language, site_name, text_hash, minhash, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (article.id, article.title, article.source, article.published, article.text, passage_count, added_at,
                article.author, article.language, article.site_name, hash_of_text, dedup.to_blob(sig), duplicate_of))
    insert_bands(db, article.id, sig)
    return duplicate_of


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
        db.execute("DELETE FROM minhash_bands WHERE article_id = ?", (article_id,))
        # its copies stay one story: the earliest of them becomes the first version
        copies = [row[0] for row in db.execute("SELECT id FROM articles WHERE duplicate_of = ? ORDER BY seq",
                                               (article_id,))]
        if copies:
            db.execute("UPDATE articles SET duplicate_of = NULL WHERE id = ?", (copies[0],))
            db.execute("UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ?", (copies[0], article_id))
    db.executemany("INSERT OR IGNORE INTO tombstones VALUES (?)", [(pid,) for pid in pids])
    return pids


ARTICLE_INFO_COLUMNS = "id, title, source, published, passage_count, added_at, author, language, site_name, duplicate_of"
ARTICLE_INFO_KEYS = ("id", "title", "source", "published", "passages", "added_at", "author", "language", "site_name",
                     "duplicate_of")
ARTICLE_COLUMNS = "id, title, source, published, text, author, language, site_name"


def article_infos(db: sqlite3.Connection) -> list[dict]:
    rows = db.execute(f"SELECT {ARTICLE_INFO_COLUMNS} FROM articles ORDER BY seq")
    infos = [dict(zip(ARTICLE_INFO_KEYS, row)) for row in rows]
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
        rows = db.execute(f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY seq")
    else:
        rows = [row for i in ids
                for row in db.execute(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ?", (i,))]
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
        for row in db.execute(f"SELECT seq, {ARTICLE_COLUMNS} FROM articles "
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


def stories(db: sqlite3.Connection, article_ids) -> dict[str, str]:
    """article id -> the id of its story's first version (itself when it is no copy)."""
    out = {}
    for article_id in dict.fromkeys(article_ids):
        row = db.execute("SELECT duplicate_of FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is not None:
            out[article_id] = row[0] or article_id
    return out


def known_text(db: sqlite3.Connection, sources: list[str], hashes: list[str]) -> tuple[set[str], set[str]]:
    """(which of these sources, which of these text hashes) the index holds."""
    found_sources = {s for s in sources if db.execute("SELECT 1 FROM articles WHERE source = ? LIMIT 1", (s,)).fetchone()}
    found_hashes = {h for h in hashes
                    if db.execute("SELECT 1 FROM articles WHERE text_hash = ? LIMIT 1", (h,)).fetchone()}
    return found_sources, found_hashes


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
