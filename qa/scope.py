"""A question's scope: which part of the collection it searches, checked once, where it is made.

`Scope.parse(articles, outlets, since, until)` is the one place a scope's values are checked and
put in the form the index filters by; a bad value raises the one `BadQuestionError` with a clear
message: a date that is not YYYY-MM-DD or not a real day, a scope that ends before it starts, a
name that is not text. An article id that is not indexed is no error: it allows nothing, so the
question is simply not found there. Outlets are accepted as a user writes them ("www.BBC.co.uk",
or a page's address) and kept as `index.metadata.outlet_of` names them. A date may carry a time
of day (a date picker's); the day is what counts.

`Assistant.ask(..., scope=)` and `ask_many` take a Scope; front ends build one with `parse` from
their own inputs. What this leaves out: finding the passages (`index.store.IndexStore.scoped_pids`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from index.metadata import is_url, outlet_of
from qa.errors import BadQuestionError

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ].*)?$")


@dataclass(frozen=True)
class Scope:
    """Which part of the collection a question searches; None in a field means no limit on it.

    A scope is a key (a server batches questions by scope), so its names are tuples. Build one
    with `Scope.parse`, which checks and normalises; the constructor takes values as they are."""

    articles: tuple[str, ...] | None = None  # article ids
    outlets: tuple[str, ...] | None = None  # outlet names, as `outlet_of` gives them
    since: str | None = None  # ISO date (YYYY-MM-DD), inclusive; articles without a date are left out
    until: str | None = None  # ISO date, inclusive

    @classmethod
    def parse(cls, articles=None, outlets=None, since=None, until=None) -> "Scope | None":
        """A checked scope from user input, or None when it sets no limit.

        Raises BadQuestionError naming the value that is wrong."""
        since, until = _day(since, "since"), _day(until, "until")
        if since is not None and until is not None and since > until:
            raise BadQuestionError(f"the scope starts on {since}, after it ends on {until}")
        outlet_names = _names(outlets, "outlet")
        scope = cls(_names(articles, "article id"),
                    None if outlet_names is None else tuple(dict.fromkeys(_outlet_name(o) for o in outlet_names)),
                    since, until)
        return None if scope.is_everything else scope

    @classmethod
    def check(cls, scope) -> "Scope | None":
        """A scope given to the assistant, checked again (it may have been built without `parse`)."""
        if scope is None:
            return None
        if not isinstance(scope, Scope):
            raise BadQuestionError(f"a scope must be a qa.Scope, not {type(scope).__name__}")
        return cls.parse(scope.articles, scope.outlets, scope.since, scope.until)

    @classmethod
    def as_of(cls, scope: "Scope | None", day) -> "Scope | None":
        """The scope as the collection stood on `day` (ISO date; None: today): only articles
        published on or before it, and so, like `until`, none without a date."""
        if day is None or day == "":
            return scope
        day = _day(day, "as_of")
        scope = cls.check(scope) or cls()
        until = day if scope.until is None else min(scope.until, day)
        return cls.parse(scope.articles, scope.outlets, scope.since, until)

    @property
    def is_everything(self) -> bool:
        return self.articles is None and self.outlets is None and self.since is None and self.until is None

    def filters(self) -> dict:
        """Keyword arguments for the store's `scoped_pids`."""
        return {"article_ids": self.articles, "outlets": self.outlets, "since": self.since, "until": self.until}


def _day(value, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, str) and _ISO_DAY.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            pass
    raise BadQuestionError(f"{name} must be a date written YYYY-MM-DD, such as 2017-11-21, not {value!r}")


def _names(values, what: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    try:
        values = [values] if isinstance(values, str) else list(values)
    except TypeError:
        raise BadQuestionError(f"a scope's {what}s must be a list of text, not {values!r}") from None
    for value in values:
        if not isinstance(value, str):
            raise BadQuestionError(f"each {what} of a scope must be text, not {value!r}")
    return tuple(dict.fromkeys(values))


def _outlet_name(name: str) -> str:
    """An outlet as a user may write it ("www.BBC.co.uk", "https://bbc.co.uk/news") in the form
    `outlet_of` gives ("bbc.co.uk"); "" stays "" (files and pasted text)."""
    name = name.strip()
    if is_url(name):
        return outlet_of(name)
    return name.lower().split("/")[0].removeprefix("www.")


def count_undated(scope: "Scope | None", infos: Callable[[], Iterable[dict]]) -> int:
    """How many articles a scope's date limit leaves out only because they state no date: those
    its article and outlet limits let through. `infos` gives `Collection.article_infos()` rows; it
    is called only for a scope with a date limit (it reads every article's row)."""
    if scope is None or (scope.since is None and scope.until is None):
        return 0
    articles = None if scope.articles is None else set(scope.articles)
    outlets = None if scope.outlets is None else set(scope.outlets)
    return sum(1 for info in infos() if not info.get("published")
               and (articles is None or info["id"] in articles)
               and (outlets is None or (info.get("outlet") or "") in outlets))


def undated_note(count: int) -> str:
    """"3 articles without a date were left out" ("" for none)."""
    if not count:
        return ""
    return f"{count} article{'s' if count != 1 else ''} without a date {'were' if count != 1 else 'was'} left out"
