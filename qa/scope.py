"""A question's scope (`qa.types.Scope`) checked and put in the form the index filters by.

Bad values get one clear BadQuestionError: a date that is not YYYY-MM-DD or not a real day, a
scope that ends before it starts, a name that is not text. An article id that is not indexed is no
error: it allows nothing, so the question is simply not found there. Outlets are accepted as a
user writes them ("www.BBC.co.uk", or a page's address) and compared as `index.metadata.outlet_of`
names them. What this leaves out: finding the passages (`index.store.IndexStore.scoped_pids`).
"""

from __future__ import annotations

import re
from datetime import date

from index.metadata import outlet_of
from qa.errors import BadQuestionError
from qa.types import Scope

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def scope_filters(scope: Scope | None) -> dict | None:
    """Keyword arguments for `scoped_pids` (article_ids, outlets, since, until), or None for no limit."""
    if scope is None:
        return None
    if not isinstance(scope, Scope):
        raise BadQuestionError(f"a scope must be a qa.Scope, not {type(scope).__name__}")
    since, until = _scope_date(scope.since, "since"), _scope_date(scope.until, "until")
    if since is not None and until is not None and since > until:
        raise BadQuestionError(f"the scope starts on {since}, after it ends on {until}")
    articles = _scope_names(scope.articles, "article id")
    outlets = _scope_names(scope.outlets, "outlet")
    if outlets is not None:
        outlets = [_outlet_name(o) for o in outlets]
    if articles is None and outlets is None and since is None and until is None:
        return None
    return {"article_ids": articles, "outlets": outlets, "since": since, "until": until}


def _scope_date(value, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, str) and _ISO_DAY.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise BadQuestionError(f"{name} must be a date written YYYY-MM-DD, such as 2017-11-21, not {value!r}")


def _scope_names(values, what: str) -> list[str] | None:
    if values is None:
        return None
    try:
        values = [values] if isinstance(values, str) else list(values)
    except TypeError:
        raise BadQuestionError(f"a scope's {what}s must be a list of text, not {values!r}") from None
    for value in values:
        if not isinstance(value, str):
            raise BadQuestionError(f"each {what} of a scope must be text, not {value!r}")
    return values


def _outlet_name(name: str) -> str:
    """An outlet as a user may write it ("www.BBC.co.uk", "https://bbc.co.uk/news") in the form
    `outlet_of` gives ("bbc.co.uk"); "" stays "" (files and pasted text)."""
    name = name.strip()
    if re.match(r"^https?://", name, re.IGNORECASE):
        return outlet_of(name)
    return name.lower().split("/")[0].removeprefix("www.")


