"""The two data types of the index: an article and a passage of it.

Every character offset in the system points into `Article.text`, which is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    id: str  # stable content hash: the same text added twice gets the same id
    title: str
    source: str  # file path or URL it came from ("" when pasted)
    published: str | None  # ISO date when known
    text: str  # the cleaned body, paragraphs separated by blank lines
    # what the page states about itself (None when it does not say; never guessed)
    author: str | None = None
    language: str | None = None  # as the page declares it ("en", "de-CH")
    site_name: str | None = None  # the outlet's own name ("The Guardian"); the outlet key is the URL's host


@dataclass(frozen=True)
class Passage:
    article_id: str
    index: int  # 0-based position among the article's passages (the "paragraph" of a citation)
    start: int  # character offsets into the article's text: text == article.text[start:end]
    end: int
    text: str
