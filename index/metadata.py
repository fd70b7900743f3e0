"""Check and normalise an article's metadata before it is stored: title, source, published date.

Metadata comes from files we do not control (JSON records, saved pages, file names). A field of
the wrong type or shape is dropped with a warning, never stored as it came: a stored article's
title and source are always strings and its date an ISO 8601 string or None, so every reader
of the index (the chat's article list, citations, JSON output) can rely on the types.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
from datetime import date, datetime
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

# the warnings of the load in progress, for whoever gave the file (`collect_warnings`)
_WARNINGS: contextvars.ContextVar[list | None] = contextvars.ContextVar("metadata_warnings", default=None)


@contextlib.contextmanager
def collect_warnings():
    """Gather the (where, what) warnings of a load in this context, so they reach the person who
    gave the file, not only the server's log."""
    found: list[tuple[str, str]] = []
    token = _WARNINGS.set(found)
    try:
        yield found
    finally:
        _WARNINGS.reset(token)


def warn(where: str, what: str) -> None:
    """A field dropped from `where`: logged, and gathered for the uploader (`collect_warnings`)."""
    log.warning("%s: %s", where, what)
    found = _WARNINGS.get()
    if found is not None:
        found.append((where, what))

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def displayable(text: str) -> str:
    """Text that can be stored and printed: lone surrogates (undecodable bytes of a file name or a
    command-line argument) become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def source_of_path(path) -> str:
    """A file path as a storable source: bytes the file system gave that are not UTF-8 become U+FFFD."""
    return displayable(os.fspath(path))


def is_url(source: str | None) -> bool:
    """Whether a source is a web address (http or https, any case) rather than a file or pasted text.

    The one test of it: the replace policy (an article under an indexed URL replaces it), the
    outlet a source names, and how the chat shows a source all go by it."""
    return bool(source) and _URL.match(source.strip()) is not None


_URL = re.compile(r"^https?://", re.IGNORECASE)


def outlet_of(source: str | None) -> str:
    """The site an article came from: its URL's host without "www.", lower-cased ("" for a file or
    pasted text). It is what a user filters by ("bbc.co.uk"), so it is derived from the source rather
    than stored, and an index built before it existed has it too."""
    if not is_url(source):
        return ""
    try:
        host = urlsplit(source.strip()).hostname or ""
    except ValueError:  # a malformed address (an unclosed IPv6 bracket): no site to name
        return ""
    return host.removeprefix("www.")


def clean_title(value, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return displayable(title_text(value)) or None
    warn(where, f"dropped the title {value!r} (not text)")
    return None


_MARKUP = re.compile(r"<[A-Za-z!/]")


def title_text(value: str) -> str:
    """A title's words: markup taken out, and what scripts and styles hold never among them
    ("Harbor storm <script>alert(1)</script>closes port" is "Harbor storm closes port")."""
    if not _MARKUP.search(value):
        return " ".join(value.split())
    import lxml.html
    from lxml import etree

    try:
        tree = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return " ".join(value.split())
    drop_code(tree)
    return " ".join(tree.text_content().split())


def drop_code(tree) -> None:
    """Take script, style and template elements out of a parsed page, their text with them; the
    text after each stays. JSON-LD stays: it is the page's metadata, not code it runs."""
    for element in tree.xpath("//script[not(contains(@type, 'ld+json'))] | //style | //noscript | //template"
                              " | self::script | self::style"):
        parent = element.getparent()
        if parent is None:
            continue
        tail = element.tail or ""
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + " " + tail
        else:
            parent.text = (parent.text or "") + " " + tail
        parent.remove(element)


def clean_url(value, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.match(r"^https?://\S+$", value.strip()):
        return displayable(value.strip())
    warn(where, f"dropped the url {value!r} (not an http or https address)")
    return None


def clean_published(value, where: str) -> str | None:
    """An ISO 8601 date (or date and time) as text, or None; anything else is dropped with a warning."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = date.fromisoformat(text[:10])
                return parsed.isoformat()
            except ValueError:
                pass
        else:
            return parsed.date().isoformat() if len(text) == 10 else parsed.isoformat()
    warn(where, f"dropped the published date {value!r} (not an ISO date such as 2017-11-21)")
    return None
