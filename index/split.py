"""Split an article into passages the reader can read, keeping character offsets.

A passage is a paragraph (blocks separated by blank lines). Fragments too short to answer
from are merged into the next paragraph; paragraphs too long for one reader window are cut
into windows at sentence boundaries (pysbd). Every passage satisfies
`passage.text == article.text[passage.start:passage.end]`.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

from index.types import Article, Passage

MIN_PASSAGE_WORDS = 25
MAX_PASSAGE_WORDS = 180
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, stripped of surrounding white space."""
    spans, pos = [], 0
    for match in list(PARAGRAPH_BREAK.finditer(text)) + [None]:
        end = match.start() if match else len(text)
        chunk = text[pos:end]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((pos + lead, pos + lead + len(stripped)))
        if match:
            pos = match.end()
    return spans


def paragraph_numbers(spans: list[tuple[int, int]], start: int, end: int) -> tuple[int, ...]:
    """1-based numbers of the paragraphs (as `paragraph_spans` gives them) that text[start:end] overlaps."""
    first = max(0, bisect.bisect_right([s for s, _ in spans], start) - 1)
    numbers = []
    for i in range(first, len(spans)):
        s, e = spans[i]
        if s >= end:
            break
        if e > start:
            numbers.append(i + 1)
    return tuple(numbers)


def _word_count(text: str) -> int:
    return len(text.split())


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence boundaries inside text[start:end], as absolute offsets."""
    spans = []
    for sentence in _segmenter().segment(text[start:end]):
        s, e = start + sentence.start, start + sentence.end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans or [(start, end)]


def _windows(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Greedy sentence-aligned windows of at most `max_words` words (a longer sentence stands alone)."""
    windows, current = [], None
    for s, e in sentence_spans(text, start, end):
        if current and _word_count(text[current[0]:e]) > max_words:
            windows.append(current)
            current = None
        current = (current[0], e) if current else (s, e)
    if current:
        windows.append(current)
    return windows


def split_article(article: Article, min_words: int = MIN_PASSAGE_WORDS,
                  max_words: int = MAX_PASSAGE_WORDS) -> list[Passage]:
    text = article.text
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for s, e in paragraph_spans(text):
        if pending:
            s = pending[0]
            pending = None
        if _word_count(text[s:e]) < min_words:
            pending = (s, e)
            continue
        merged.append((s, e))
    if pending:  # a short last fragment joins the previous passage, or stands alone
        if merged:
            merged[-1] = (merged[-1][0], pending[1])
        else:
            merged.append(pending)
    spans = []
    for s, e in merged:
        spans.extend(_windows(text, s, e, max_words) if _word_count(text[s:e]) > max_words else [(s, e)])
    return [Passage(article.id, i, s, e, text[s:e]) for i, (s, e) in enumerate(spans)]
