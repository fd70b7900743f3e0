"""The part of the collection a question searches, from the page's controls or the API's
parameters: which article ids, which outlets, which dates.

Only validation and wording live here; `qa` does the searching (`Assistant.ask`'s `articles`,
`outlets`, `since` and `until`).
"""

import re
from datetime import date
from typing import Any

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class UserInputError(ValueError):
    """Input the API rejects before it reaches the assistant (e.g. a malformed history)."""


def _date_or_none(value: Any, name: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise UserInputError(f"{name} must be a date written YYYY-MM-DD")
    text = value.strip()[:10]  # a date picker may add a time of day
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise UserInputError(f"{name} must be a date written YYYY-MM-DD, not “{value.strip()}”") from None


def _names_or_none(value: Any, name: str) -> tuple[str, ...] | None:
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise UserInputError(f"{name} must be a list of strings")
    return tuple(dict.fromkeys(value))


def scope_from_inputs(articles: Any = None, outlets: Any = None, since: Any = None,
                      until: Any = None) -> dict:
    """`ask`'s scope keyword arguments from the page's controls or the API's parameters; empty
    choices mean no limit and are left out. Raises UserInputError with the reason."""
    scope = {"articles": _names_or_none(articles, "articles"), "outlets": _names_or_none(outlets, "outlets"),
             "since": _date_or_none(since, "The “from” date"), "until": _date_or_none(until, "The “to” date")}
    if scope["since"] and scope["until"] and scope["since"] > scope["until"]:
        raise UserInputError("The “from” date is after the “to” date.")
    return {name: value for name, value in scope.items() if value is not None}


def scope_note(scope: dict) -> str:
    """The scope in words, shown with the answers it limited ("" for the whole collection)."""
    parts = []
    if "articles" in scope:
        n = len(scope["articles"])
        parts.append(f"{n} chosen article{'s' if n != 1 else ''}")
    if "outlets" in scope:
        parts.append("outlets " + ", ".join(scope["outlets"]))
    if "since" in scope:
        parts.append(f"from {scope['since']}")
    if "until" in scope:
        parts.append(f"until {scope['until']}")
    return "Searched only: " + " · ".join(parts) if parts else ""
