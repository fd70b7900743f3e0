"""The audit trail as the CLI and a server use it: read it, and restore an article from it.

Recording is the index's own (`index.audit`, inside each write's transaction); this module adds
checking the user's input and restoring, which embeds the article again through the collection.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from index.audit import RESTORE, acting_as, current_actor, read_entries, saved_article
from index.types import Article
from qa.errors import BadArticleError, QAError

__all__ = ["acting_as", "read_log", "restore"]


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return (datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)).isoformat()
    except ValueError as e:
        raise QAError(f"--since takes a date, YYYY-MM-DD (or an ISO time), not {value!r}") from e


def read_log(index: Path, since: str | None = None) -> list[dict]:
    """The recorded writes to the index in `index`, oldest first."""
    return read_entries(Path(index), _since(since))


def restore(index: Path, article_id: str, settings=None) -> Article:
    """Add back, as it was, an article the audit trail recorded as deleted or replaced."""
    from qa.collection import Collection

    article = saved_article(Path(index), article_id.strip())
    if article is None:
        raise BadArticleError(f"the audit trail of {index} keeps no deleted or replaced article with the id "
                              f"{article_id!r}; `qa index log --index {index}` lists them")
    collection = Collection.open(index, settings)
    if collection.article(article.id) is not None:
        raise BadArticleError(f"the article {article.id} (“{article.title}”) is in the index already")
    with acting_as(current_actor(), RESTORE):
        collection.add([article])
    return article
