"""The date and outlet a plain-text or Markdown article states about itself, in its opening lines.

News text states them in a few fixed forms, and only those are read:
- a dateline: "MOSCOW, Nov. 21, 2017 (Reuters) -" (the agency in brackets is the outlet);
- a byline with fields: "By Jane Doe | The Guardian | 21 November 2017";
- a labelled line: "Published: 2017-11-21", "Date: Nov 21, 2017", "Source: BBC News";
- Markdown front matter: `date:`, and `outlet:`, `publisher:`, `source:` or `site_name:`.

A date is kept only when it names a day, a month and a year, and is a real, plausible day (the
same rules `htmldate` applies to the dates of web pages, `index.html`): "Nov. 21" with no year is
no date, and neither is a number in the prose. A text that states none gets none: never a guess.
What this leaves out: HTML pages, whose metadata trafilatura reads (`index.html`).
"""

from __future__ import annotations

import re
from datetime import date, datetime

# the opening lines only: a date further down is something the story reports, not its own
_HEAD_LINES = 6
_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY_TEXT = (rf"(?:\d{{4}}-\d{{2}}-\d{{2}}(?:[T ][\d:.]+(?:Z|[+-]\d{{2}}:?\d{{2}})?)?"
             rf"|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
             rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}"
             rf"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,?\s+(?:{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}}"
             rf"|\d{{1,2}}\s+{_MONTHS},?\s+\d{{4}}))")
_LABELLED = re.compile(rf"^\s*(?:Published|Posted|Updated|Date|Dated|First published)(?: on)?\s*[:\-–]?\s*({_DAY_TEXT})",
                       re.IGNORECASE)
_SOURCE_LINE = re.compile(r"^\s*(?:Source|Outlet|Publisher|Published by)\s*:\s*(.{2,60}?)\s*$", re.IGNORECASE)
# "MOSCOW, Nov. 21, 2017 (Reuters) -", "GENEVA (AP) —", "LONDON, 21 November 2017 (AFP) –"
_DATELINE = re.compile(rf"^\s*[A-Z][A-Za-z .'’-]{{1,40}}?(?:,\s*[A-Z][A-Za-z .]{{1,20}})?"
                       rf"(?:,\s*(?P<day>{_DAY_TEXT}|{_MONTHS}\s+\d{{1,2}}))?\s*"
                       rf"\((?P<agency>[A-Z][A-Za-z .&/-]{{1,30}})\)\s*[-–—]")
_BYLINE = re.compile(r"^\s*By\s+[^|]{2,80}\|")
_ANY_DAY = re.compile(_DAY_TEXT, re.IGNORECASE)


def stated_date_and_outlet(text: str, front_matter: dict | None = None) -> tuple[str | None, str | None]:
    """(ISO date, outlet name) the text states in its opening lines or front matter; None for each
    it does not state."""
    published, outlet = None, None
    if front_matter:
        published = day_of(front_matter.get("date") or front_matter.get("published"))
        outlet = _name(next((front_matter[k] for k in ("outlet", "publisher", "source", "site_name")
                             if front_matter.get(k)), None))
    for line in [line for line in text.split("\n") if line.strip()][:_HEAD_LINES]:
        found_date, found_outlet = _line_facts(line)
        published = published or found_date
        outlet = outlet or found_outlet
    return published, outlet


def _line_facts(line: str) -> tuple[str | None, str | None]:
    if match := _LABELLED.match(line):
        return day_of(match.group(1)), None
    if match := _SOURCE_LINE.match(line):
        return None, _name(match.group(1))
    if match := _DATELINE.match(line):
        return day_of(match.group("day")), _name(match.group("agency"))
    if _BYLINE.match(line):
        fields = [f.strip() for f in line.split("|")[1:] if f.strip()]
        day = next((day_of(f) for f in fields if _ANY_DAY.fullmatch(f)), None)
        outlet = next((_name(f) for f in fields if not _ANY_DAY.search(f) and not re.search(r"\d", f)), None)
        return day, outlet
    return None, None


def _name(value) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 60:
        return None
    return " ".join(value.split())


def day_of(value) -> str | None:
    """A stated day as YYYY-MM-DD, or None when it lacks a day, a month or a year, or is not plausible."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat() if _plausible(value) else None
    if not isinstance(value, str) or not _ANY_DAY.fullmatch(value.strip()):
        return None
    from dateutil import parser

    text = value.strip()
    try:
        # two different defaults: a component missing from the text would show as a difference
        first = parser.parse(text, default=datetime(1901, 1, 1), fuzzy=False)
        second = parser.parse(text, default=datetime(1902, 2, 2), fuzzy=False)
    except (ValueError, OverflowError):
        return None
    if first.date() != second.date() or not _plausible(first.date()):
        return None
    return first.date().isoformat()


def _plausible(day: date) -> bool:
    # htmldate's own bounds for a page's date: not before 1995, not in the future
    from htmldate.validators import is_valid_date

    return is_valid_date(day.isoformat(), "%Y-%m-%d", earliest=datetime(1995, 1, 1), latest=datetime.now())
