"""Clean scraped article text by general rules, and recognise its title.

Scraped pages carry site chrome: navigation ("Accessibility links", "Breaking News"), photo
captions repeated, layout crumbs ("XS", "SM"). The rules here are general, never strings of
one site: a line that repeats an earlier line is dropped, and so is a short fragment (a few
words, no sentence punctuation) that cannot be article prose. The title is the first line
that looks like a headline. What this leaves out: HTML (trafilatura extracts main text first,
see `index.load`) and splitting into passages (`index.split`).
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_FRAGMENT_WORDS = 3
SENTENCE_END = ('.', '!', '?', '"', '”', '’', "'", ':', ')', '»')
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")


def normalize_text(text: str) -> str:
    """NFC, Unix newlines, no control characters, single spaces inside lines."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def _words(line: str) -> list[str]:
    return [w for w in line.split() if any(ch.isalnum() for ch in w)]


def is_fragment(line: str) -> bool:
    """A few words without sentence punctuation: navigation, a menu item, a layout crumb."""
    return len(_words(line)) <= MAX_FRAGMENT_WORDS and not line.rstrip().endswith(SENTENCE_END)


def looks_like_headline(line: str) -> bool:
    words = _words(line)
    if not 4 <= len(words) <= 25 or line.rstrip().endswith((".", "!", ",", ";", ":")):
        return False
    capitalised = sum(1 for w in words if w[0].isupper() or w[0].isdigit())
    return capitalised / len(words) >= 0.6


def clean_lines(lines: list[str]) -> list[str]:
    """Drop empty lines, repeated lines and navigation fragments; keep order."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        key = line.strip().casefold()
        if not key or key in seen or is_fragment(line):
            continue
        seen.add(key)
        kept.append(line.strip())
    return kept


def clean_article_text(raw: str, title: str | None = None) -> tuple[str, str]:
    """Return (title, body). Body paragraphs (one per kept line) are joined by blank lines.

    When no title is given, the first headline-like line before the body is taken as the
    title and removed from the body; failing that, a short first line that the fragment rule
    dropped from the body (a file's plain title); failing that, the first line's opening words.
    """
    raw_lines = normalize_text(raw).split("\n")
    lines = clean_lines(raw_lines)
    if title is None:
        for i, line in enumerate(lines[:8]):
            if looks_like_headline(line):
                title = line
                del lines[i]
                break
    if title is None:
        # no headline, but a short first line ("Tiny report 12"): the file's title, which the
        # fragment rule dropped; kept as the title, so no words of the file are lost
        first = next((line.strip() for line in raw_lines if line.strip()), "")
        if first and is_fragment(first) and lines:
            title = first
    if title is None:
        first = lines[0] if lines else ""
        words = first.split()
        title = " ".join(words[:12]) + ("…" if len(words) > 12 else "")
    return title.strip(), "\n\n".join(lines)


_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!][^<>]*>|&(#\d+|#x[0-9A-Fa-f]+|[A-Za-z]+);")
_DROPPED_ELEMENTS = ("script", "style", "noscript", "template")
_BREAKING_ELEMENTS = ("br", "p", "div", "li", "td", "th", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                      "blockquote", "section", "article", "header", "footer", "pre", "hr")


def clean_question_text(text: str) -> str:
    """A question cleaned as an article's text is: markup stripped (tags removed, the text of
    script and style dropped, entities decoded), then `normalize_text` and one line of single
    spaces. Text without markup ("is 3 < 5?") is left as typed."""
    if _MARKUP.search(text):
        import lxml.html
        from lxml import etree

        try:
            root = lxml.html.fragment_fromstring(text, create_parent="div")
            for element in root.iter(*_DROPPED_ELEMENTS):
                element.drop_tree()
            etree.strip_elements(root, etree.Comment, with_tail=False)
            for element in root.iter(*_BREAKING_ELEMENTS):  # a block's end separates words
                element.tail = " " + (element.tail or "")
            text = "".join(root.itertext())
        except (etree.ParserError, ValueError):  # not parseable as HTML: keep the text, entities decoded
            text = html.unescape(text)
    return " ".join(normalize_text(text).split())
