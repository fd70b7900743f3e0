"""The audit trail of an index: who added, replaced, deleted or restored which article, and when.

One row per article per write, written by `index.store` inside the transaction that makes the
write (so a write is never without its record, nor a record without its write). A deleted or
replaced article's row keeps the article itself (its record and text, as JSON in `saved`), enough
to restore it. Who is acting is set by the caller around a write (`acting_as`: a server names
its user); otherwise it is the local account running the command.

The table is created with a new index, and on the first write to an index made before it existed,
so older indexes open and read as they are. What this leaves out: restoring (it needs the
embedder, see `qa.audit`).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import sqlite3
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path

from index import records
from index.errors import IndexNotFoundError
from index.types import Article

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    article_id TEXT NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL, result TEXT NOT NULL,
    saved TEXT)  -- a deleted or replaced article as JSON, to restore it
"""
ADD, REPLACE, DELETE, RESTORE = "add", "replace", "delete", "restore"

_actor: ContextVar[str | None] = ContextVar("index_audit_actor", default=None)
_action: ContextVar[str | None] = ContextVar("index_audit_action", default=None)


@contextlib.contextmanager
def acting_as(actor: str, action: str | None = None):
    """Writes in this block (in this thread or task) are recorded as `actor`'s, additions as `action`."""
    tokens = _actor.set(actor), _action.set(action)
    try:
        yield
    finally:
        _actor.reset(tokens[0])
        _action.reset(tokens[1])


def current_actor() -> str:
    actor = _actor.get()
    if actor is not None:
        return actor
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return "local"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def record_write(db: sqlite3.Connection, added: list[Article], removed: list[Article], removal: str) -> None:
    """Record a write; call inside its transaction. `removal`: DELETE, or REPLACE for older versions."""
    db.execute(TABLE_SQL)
    at, actor = _now(), current_actor()
    rows = [(at, actor, _action.get() or ADD, a.id, a.title, a.source or "", "added", None) for a in added]
    by_source = {a.source: a for a in added}
    for a in removed:
        newer = by_source.get(a.source)
        result = f"replaced by {newer.id}" if removal == REPLACE and newer is not None else "deleted"
        saved = json.dumps({"id": a.id, "title": a.title, "source": a.source, "published": a.published,
                            "text": a.text}, ensure_ascii=False)
        rows.append((at, actor, removal, a.id, a.title, a.source or "", result, saved))
    db.executemany("INSERT INTO audit (at, actor, action, article_id, title, source, result, saved) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _has_table(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'").fetchone() is not None


def _open(folder: Path) -> sqlite3.Connection:
    if not (folder / records.DATABASE).is_file():
        raise IndexNotFoundError(f"no index at {folder}")
    return records.connect(folder, readonly=True)


def read_entries(folder: Path, since: str | None = None) -> list[dict]:
    """The recorded writes, oldest first (`since`: an ISO date or time, UTC), without the saved texts."""
    db = _open(Path(folder))
    try:
        if not _has_table(db):
            return []
        rows = db.execute("SELECT seq, at, actor, action, article_id, title, source, result, saved IS NOT NULL "
                          "FROM audit WHERE at >= ? ORDER BY seq", (since or "",)).fetchall()
    finally:
        db.close()
    keys = ("seq", "at", "actor", "action", "article_id", "title", "source", "result", "restorable")
    return [dict(zip(keys, row[:-1] + (bool(row[-1]),))) for row in rows]


def saved_article(folder: Path, article_id: str) -> Article | None:
    """The article as it was when it was last deleted or replaced, or None when no record keeps it."""
    db = _open(Path(folder))
    try:
        if not _has_table(db):
            return None
        row = db.execute("SELECT saved FROM audit WHERE article_id = ? AND saved IS NOT NULL ORDER BY seq DESC "
                         "LIMIT 1", (article_id,)).fetchone()
    finally:
        db.close()
    if row is None:
        return None
    data = json.loads(row[0])
    return Article(data["id"], data["title"], data["source"], data["published"], data["text"])
