"""HTML of the side panels: the article list (open, delete), an opened article with its cited
paragraph, and status lines.

Every title, text and source is escaped; these strings are shown through `gr.HTML`, which does
no sanitizing of its own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from qa.formats import day_label
from qa.types import Article
from qa import paragraph_spans
from ui.render import link_html, escape_text, highlight_span, open_button

# Paragraphs are numbered from 1 with qa's own rule, the one `Citation.paragraphs` uses.


def _meta_html(outlet: str, published: str | None, source: str) -> str:
    """Outlet, date, and a link to the web page or the file's name."""
    details = []
    if outlet:
        details.append(f'<span class="nqa-outlet">{html.escape(outlet)}</span>')
    if published:
        details.append(html.escape(published))
    link = link_html(source, "link")
    if link:
        details.append(link)
    elif source:
        details.append(f'<span class="nqa-file">{html.escape(source)}</span>')
    return " · ".join(details)


def source_html(article: Article, *, outlet: str = "", source: str = "", start: int | None = None,
                end: int | None = None, quote: bool = False) -> str:
    """The whole article for the side panel: its paragraphs numbered, those holding
    [start, end) outlined (`nqa-cited`) and, for a quote, its words marked.

    `source` is the article's source as users may see it (a web address or a file's name).
    """
    text = article.text
    if start is None or end is None or not (0 <= start < end <= len(text)):
        start = end = None
    paragraphs = []
    cited_numbers = []
    for number, (p_start, p_end) in enumerate(paragraph_spans(text), 1):
        body = text[p_start:p_end]
        cited = start is not None and p_start < end and start < p_end
        if cited:
            cited_numbers.append(number)
        if cited and quote:
            body_html = highlight_span(body, max(start, p_start) - p_start, min(end, p_end) - p_start, "nqa-span")
        else:
            body_html = escape_text(body)
        paragraphs.append(
            f'<p class="nqa-para{" nqa-cited" if cited else ""}" id="nqa-para-{number}">'
            f'<span class="nqa-para-num">¶ {number}</span> {body_html}</p>'
        )
    note = ""
    if cited_numbers:
        where = "¶ " + ("–".join(str(n) for n in (cited_numbers[0], cited_numbers[-1]))
                        if len(cited_numbers) > 1 else str(cited_numbers[0]))
        note = (f'<div class="nqa-source-note">{"The quote is highlighted" if quote else "The passage is outlined"}'
                f" in {where}.</div>")
    meta = _meta_html(outlet, article.published, source)
    meta_html = f'<div class="nqa-source-meta">{meta}</div>' if meta else ""
    return (
        '<article class="nqa-source-doc">'
        f'<h2 class="nqa-source-title" tabindex="-1">{html.escape(article.title)}</h2>'
        f"{meta_html}"
        f"{note}"
        f'<div class="nqa-paras">{"".join(paragraphs)}</div>'
        "</article>"
    )


def status_html(lines: Iterable[tuple[str, str]]) -> str:
    """Status lines for the article panel; each is (kind, text) with kind "ok" or "error"."""
    items = "".join(
        f'<li class="nqa-status-{html.escape(kind)}">{escape_text(text)}</li>' for kind, text in lines
    )
    return f'<ul class="nqa-status">{items}</ul>' if items else ""


def articles_html(infos: Sequence[dict], deletable: bool = True, *, total: int | None = None, first: int = 1,
                  matching: int | None = None, query: str = "") -> str:
    """One page of the list of indexed articles: each opens in the side panel and can be deleted
    (unless not `deletable`: a read-only server).

    `infos` are the page's {"id", "title", "source" (as users may see it), "published", "outlet"}
    dicts; `total` counts the whole collection, `matching` those that match `query`, and `first`
    is the number of the page's first article among them (the list never sends more than a page).
    """
    total = len(infos) if total is None else total
    matching = total if matching is None else matching
    if not total:
        return '<div class="nqa-articles nqa-note">No articles indexed yet.</div>'
    items = []
    for info in infos:
        title = info.get("title") or "(untitled)"
        meta = _meta_html(info.get("outlet") or "", info.get("published"), info.get("source") or "")
        opener = open_button(info["id"], html.escape(title), css="nqa-article-title",
                             title="Read this article")
        delete = "" if not deletable else (f'<button type="button" class="nqa-delete" value="{html.escape(info["id"], quote=True)}" '
                  f'data-title="{html.escape(title, quote=True)}" aria-label="Delete {html.escape(title, quote=True)}" '
                  f'title="Delete this article for everyone using this server">Delete</button>')
        meta_html = f' <span class="nqa-article-meta">{meta}</span>' if meta else ""
        items.append(f'<li class="nqa-article">{opener}{meta_html} {delete}</li>')
    noun = "article" if total == 1 else "articles"
    count = f"{total:,} {noun} indexed"
    if query:
        count += f" · {matching:,} match “{html.escape(query)}”"
    if infos:
        shown = f"showing {first:,}–{first + len(infos) - 1:,}" if matching > len(infos) else ""
        count += f" · {shown}" if shown else ""
        listing = f'<ol start="{first}">{"".join(items)}</ol>'
    else:
        listing = '<div class="nqa-note">No article matches; try another word of a title or an outlet.</div>'
    return (f'<div class="nqa-articles"><div class="nqa-articles-count" role="status">{count}</div>'
            f"{listing}</div>")


def collection_html(total: int, newest: dict | None) -> str:
    """The first screen's line on what is loaded: how many articles, and the newest one."""
    if not total:
        return ('<div class="nqa-loaded">No articles are loaded yet: add some under “Add articles” '
                "to ask about them.</div>")
    noun = "article" if total == 1 else "articles"
    parts = [f"<strong>{total:,} {noun}</strong> loaded"]
    if newest:
        title = html.escape(newest.get("title") or "(untitled)")
        when = newest.get("published")
        parts.append(f"newest: {open_button(newest['id'], f'“{title}”', css='nqa-article-title', title='Read this article')}"
                     + (f" ({html.escape(day_label(when))})" if when else ""))
    return f'<div class="nqa-loaded">{" · ".join(parts)}</div>'


def question_note_html(max_chars: int | None, problem: str | None = None) -> str:
    """The line beside the question box: why a question was not asked, or the length limit."""
    if problem:
        return f'<div class="nqa-question-note nqa-question-problem" role="alert">{escape_text(problem)}</div>'
    limit = f"Up to {max_chars:,} characters. " if max_chars else ""
    return f'<div class="nqa-question-note">{limit}Enter asks.</div>'


def scope_note_html(text: str) -> str:
    return f'<div class="nqa-scope-summary">{escape_text(text)}</div>'
