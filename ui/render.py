"""HTML for the chat: an answer with its quote in context, citation, confidence and sources.

Every piece of article or user text goes through `html.escape` here, because articles are
untrusted and the chat displays these strings as HTML. Highlighting uses the result's
character offsets only; nothing here searches text, retrieves or reads: that is `qa`'s job.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from urllib.parse import urlparse

from qa.types import Article
from qa.types import AskResult, RetrievedPassage

NOT_FOUND_HEADLINE = "I couldn't find that in the articles."
CLOSEST_PASSAGES_SHOWN = 3
PASSAGE_PREVIEW_CHARS = 600  # source lists stay scannable; the cited paragraph is always whole


def escape_text(text: str) -> str:
    """Escape text for HTML and keep its line breaks visible."""
    return html.escape(text, quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def safe_link(source: str) -> str | None:
    """The source as a link target, or None unless it is an absolute http(s) URL.

    File paths and `javascript:`/`data:` URLs are never made clickable.
    """
    try:
        parsed = urlparse(source.strip())
    except ValueError:
        return None
    if parsed.scheme.lower() in ("http", "https") and parsed.netloc:
        return source.strip()
    return None


def confidence_level(score: float) -> str:
    if score >= 0.7:
        return "high"
    if score >= 0.4:
        return "medium"
    return "low"


def _link_html(source: str, label: str = "source") -> str:
    url = safe_link(source) if source else None
    if url is None:
        return ""
    return (
        f'<a class="nqa-link" href="{html.escape(url, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer nofollow">{html.escape(label)}</a>'
    )


def highlight_span(context: str, start: int | None, end: int | None) -> str:
    """The passage as HTML with [start, end) wrapped in <mark>.

    Offsets that do not fit the passage leave it unhighlighted rather than guessing a span.
    """
    if start is None or end is None or not (0 <= start < end <= len(context)):
        return escape_text(context)
    return (
        escape_text(context[:start])
        + '<mark class="nqa-span">'
        + escape_text(context[start:end])
        + "</mark>"
        + escape_text(context[end:])
    )


def _preview(text: str) -> str:
    if len(text) <= PASSAGE_PREVIEW_CHARS:
        return text
    return text[:PASSAGE_PREVIEW_CHARS].rstrip() + "…"


def _passage_score_html(passage: RetrievedPassage) -> str:
    parts = [f"score {passage.score:.3f}"]
    if passage.dense_score is not None:
        parts.append(f"cosine {passage.dense_score:.2f}")
    if passage.bm25_score is not None:
        parts.append(f"BM25 {passage.bm25_score:.1f}")
    return html.escape(" · ".join(parts))


def passage_item(passage: RetrievedPassage) -> str:
    """One retrieved passage as a list item: where it is from, its scores, its text."""
    where = (
        f'<cite>{html.escape(passage.title)}</cite>, paragraph {passage.paragraph + 1}'
    )
    link = _link_html(passage.source)
    return (
        '<li class="nqa-passage">'
        f'<div class="nqa-passage-head">{where}'
        f'{" · " + link if link else ""}'
        f' <span class="nqa-score">({_passage_score_html(passage)})</span></div>'
        f'<div class="nqa-passage-text">{escape_text(_preview(passage.text))}</div>'
        "</li>"
    )


def _is_cited(passage: RetrievedPassage, result: AskResult) -> bool:
    citation = result.citation
    return (
        citation is not None
        and passage.article_id == citation.article_id
        and passage.paragraph == citation.paragraph
    )


def _sources_html(passages: Sequence[RetrievedPassage], summary: str, *, open_: bool) -> str:
    if not passages:
        return ""
    items = "".join(passage_item(p) for p in passages)
    return (
        f'<details class="nqa-sources"{" open" if open_ else ""}>'
        f"<summary>{html.escape(summary)}</summary>"
        f'<ol class="nqa-passages">{items}</ol></details>'
    )


def _resolved_note(result: AskResult) -> str:
    """Shows how a follow-up was understood, so a wrong rewrite is visible, not silent."""
    resolved = result.resolved_question.strip()
    if not resolved or resolved == result.question.strip():
        return ""
    return f'<div class="nqa-resolved">Understood as: “{escape_text(resolved)}”</div>'


def answer_html(result: AskResult) -> str:
    """The chat message for a found answer."""
    citation = result.citation
    if not result.found or result.answer is None or citation is None:
        return not_found_html(result)
    parts = [
        '<div class="nqa-message nqa-found">',
        _resolved_note(result),
        f'<div class="nqa-answer">{escape_text(result.answer)}</div>',
    ]
    if result.score is not None:
        level = confidence_level(result.score)
        parts.append(
            f'<div class="nqa-confidence nqa-confidence-{level}">'
            f"Confidence: {level} ({result.score:.0%})</div>"
        )
    if result.context is not None:
        quote = highlight_span(result.context, result.context_start, result.context_end)
        parts.append(f'<blockquote class="nqa-quote">{quote}</blockquote>')
    link = _link_html(citation.source)
    parts.append(
        '<div class="nqa-citation">— '
        f"<cite>{html.escape(citation.title)}</cite>, paragraph {citation.paragraph + 1}"
        f'{" · " + link if link else ""}</div>'
    )
    others = [p for p in result.passages if not _is_cited(p, result)]
    noun = "passage" if len(others) == 1 else "passages"
    parts.append(_sources_html(others, f"Sources: {len(others)} other {noun}", open_=False))
    parts.append("</div>")
    return "".join(parts)


def not_found_html(result: AskResult) -> str:
    """The chat message when the articles do not contain the answer: no span, only the closest passages."""
    closest = list(result.passages[:CLOSEST_PASSAGES_SHOWN])
    parts = [
        '<div class="nqa-message nqa-not-found">',
        _resolved_note(result),
        f'<div class="nqa-answer">{html.escape(NOT_FOUND_HEADLINE)}</div>',
    ]
    if closest:
        parts.append(_sources_html(closest, "Closest passages", open_=True))
    else:
        parts.append('<div class="nqa-note">No passage was close enough to show.</div>')
    parts.append("</div>")
    return "".join(parts)


def error_html(message: str) -> str:
    return f'<div class="nqa-message nqa-error">⚠ {escape_text(message)}</div>'


def question_html(question: str) -> str:
    return f'<div class="nqa-question">{escape_text(question)}</div>'


def status_html(lines: Iterable[tuple[str, str]]) -> str:
    """Status lines for the article panel; each is (kind, text) with kind "ok" or "error"."""
    items = "".join(
        f'<li class="nqa-status-{html.escape(kind)}">{escape_text(text)}</li>' for kind, text in lines
    )
    return f'<ul class="nqa-status">{items}</ul>' if items else ""


def articles_html(articles: Sequence[Article]) -> str:
    """The list of indexed articles, newest last, with a link when the source is a web page."""
    if not articles:
        return '<div class="nqa-articles nqa-note">No articles indexed yet.</div>'
    items = []
    for article in articles:
        details = []
        if article.published:
            details.append(html.escape(article.published))
        link = _link_html(article.source, "link")
        if link:
            details.append(link)
        suffix = f' <span class="nqa-article-meta">{" · ".join(details)}</span>' if details else ""
        items.append(f'<li><span class="nqa-article-title">{html.escape(article.title)}</span>{suffix}</li>')
    noun = "article" if len(articles) == 1 else "articles"
    return (
        f'<div class="nqa-articles"><div class="nqa-articles-count">{len(articles)} {noun} indexed</div>'
        f'<ol>{"".join(items)}</ol></div>'
    )
