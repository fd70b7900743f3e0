"""The part of the collection a question searches, from the page's controls or the API's
parameters: which article ids, which outlets, which dates.

Only the page's input shapes and the wording live here: an empty control means no limit, and a
date picker may add a time of day. Checking the values is `qa.Scope.parse`'s (one error,
`BadQuestionError`, with the reason); searching is `qa`'s.
"""

from typing import Any

from qa.scope import Scope, undated_note


class UserInputError(ValueError):
    """Input the API rejects before it reaches the assistant (e.g. a malformed history)."""


def _unset(value: Any) -> bool:
    """An empty control: no choice, an empty list, a blank box."""
    return value is None or (isinstance(value, (str, list, tuple)) and not (value.strip() if isinstance(value, str)
                                                                            else value))


def scope_from_inputs(articles: Any = None, outlets: Any = None, since: Any = None,
                      until: Any = None, as_of: Any = None) -> Scope | None:
    """The Scope the page's controls or the API's parameters name, None for the whole collection.
    `as_of` (a day) answers as the collection stood then: articles published on or before it.

    Raises `BadQuestionError` (a `QAError`) with the reason when a value cannot be a scope."""
    values = [None if _unset(v) else v for v in (articles, outlets, since, until)]
    return Scope.as_of(Scope.parse(*values), None if _unset(as_of) else as_of)


def scope_note(scope: Scope | None) -> str:
    """The scope in words, shown with the answers it limited ("" for the whole collection)."""
    if scope is None:
        return ""
    parts = []
    if scope.articles is not None:
        n = len(scope.articles)
        parts.append(f"{n} chosen article{'s' if n != 1 else ''}")
    if scope.outlets is not None:
        parts.append("outlets " + ", ".join(scope.outlets))
    if scope.since is not None:
        parts.append(f"from {scope.since}")
    if scope.until is not None:
        parts.append(f"until {scope.until}")
    return "Searched only: " + " · ".join(parts)


def with_undated(note: str, count: int) -> str:
    """The scope's note with how many articles its dates left out for stating none."""
    left_out = undated_note(count)
    return f"{note} ({left_out})" if left_out and note else note
