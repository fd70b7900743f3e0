"""Tell a quotable answer from a span of markup or punctuation.

Articles come from saved pages, Markdown and JSON, and cleaning does not catch everything: a
passage can keep an HTML tag, a template placeholder, a Markdown table rule or a row of
asterisks. A reader trained on clean prose still scores spans there, and a span such as
`<div class="x">` or `| --- |` quoted as an answer is worse than saying nothing. A span counts as
markup when fewer than half of its visible characters are letters or digits outside markup
(tags, comments, template tags, character entities, a Markdown link's target). The check looks
at the whole passage, so a span that starts inside a tag (`div class="x"`) is seen as part of it.

Left as answers: a bare web address (a question can ask for one), numbers with their units and
punctuation ("$1.5bn", "9/11", "U.S."). What this leaves out: whether the span answers anything.
"""

from __future__ import annotations

import re

# Markup that cleaning can leave in a passage. Tags need a letter after "<" (or "</"), so prose
# such as "a < b" or "<3" is not taken for a tag.
_MARKUP = re.compile(
    r"<!--.*?-->"
    r"|</?[A-Za-z][^<>]*>"
    r"|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"
    r"|&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);"
    r"|\]\([^()\s]*\)",
    re.DOTALL)
MIN_WORD_SHARE = 0.5  # of a span's visible characters that must be letters or digits outside markup


def markup_ranges(text: str) -> list[tuple[int, int]]:
    """(start, end) of each piece of markup in `text`, in order."""
    return [m.span() for m in _MARKUP.finditer(text)]


class MarkupCheck:
    """`is_markup(start, end)` for spans of one passage; the passage's markup is found once."""

    def __init__(self, text: str):
        self.text = text
        self._ranges: list[tuple[int, int]] | None = None

    def is_markup(self, start: int, end: int) -> bool:
        if self._ranges is None:
            self._ranges = markup_ranges(self.text)
        inside = [(max(s, start), min(e, end)) for s, e in self._ranges if s < end and e > start]
        words = visible = 0
        for i in range(start, end):
            char = self.text[i]
            if char.isspace():
                continue
            visible += 1
            if char.isalnum() and not any(s <= i < e for s, e in inside):
                words += 1
        return words == 0 or words < MIN_WORD_SHARE * visible


def is_markup(text: str, start: int = 0, end: int | None = None) -> bool:
    """Is text[start:end] mostly markup or punctuation (judged in the context of all of `text`)?"""
    return MarkupCheck(text).is_markup(start, len(text) if end is None else end)
