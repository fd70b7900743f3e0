"""HTML of the chat's messages: answers, clarifying questions, "not found" replies, and each
reply's text for its Copy button.

Every piece of article or user text goes through `html.escape` here, because articles are
untrusted and the page displays these strings as HTML. Highlighting uses the result's
character offsets only; nothing here searches text, retrieves or reads: that is `qa`'s job.

Buttons that open an article carry their target as JSON in `value` (the chat's sanitizer keeps
`value`, `class`, `title` and `type` and drops data-* attributes); `ui.scripts` turns a click on
them into a server event.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from urllib.parse import urlparse

from qa.formats import agreement_label, answer_with_date, byline, day_label, paragraph_label
from qa.types import AskResult, Candidate, Citation, RetrievedPassage

NOT_FOUND_HEADLINE = "I couldn't find that in the articles."
UNCLEAR_HEADLINE = "The articles don't state this clearly."
PASSAGE_PREVIEW_CHARS = 600  # passage lists stay scannable; the opened article is always whole


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


def likely_right(score: float) -> str:
    """A calibrated probability in words; never 0% or 100%, which no reader can promise."""
    return f"about {min(99, max(1, round(score * 100)))}% likely right"


def link_html(source: str, label: str = "source") -> str:
    url = safe_link(source) if source else None
    if url is None:
        return ""
    return (
        f'<a class="nqa-link" href="{html.escape(url, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer nofollow">{html.escape(label)}</a>'
    )


def open_button(article_id: str, inner_html: str, *, start: int | None = None, end: int | None = None,
                quote: bool = False, title: str = "Open the article", css: str = "") -> str:
    """A button that opens an article in the side panel, at [start, end) when given.

    `quote` marks that range as the quoted words; otherwise the paragraphs around it are outlined.
    """
    target = {"article": article_id}
    if start is not None and end is not None:
        target.update(start=start, end=end, quote=quote)
    value = html.escape(json.dumps(target), quote=True)
    classes = "nqa-open" + (f" {css}" if css else "")
    return (f'<button type="button" class="{classes}" value="{value}" '
            f'title="{html.escape(title, quote=True)}">{inner_html}</button>')


def highlight_span(context: str, start: int | None, end: int | None, css: str = "nqa-span") -> str:
    """The passage as HTML with [start, end) wrapped in <mark>.

    Offsets that do not fit the passage leave it unhighlighted rather than guessing a span.
    """
    if start is None or end is None or not (0 <= start < end <= len(context)):
        return escape_text(context)
    return (
        escape_text(context[:start])
        + f'<mark class="{css}">'
        + escape_text(context[start:end])
        + "</mark>"
        + escape_text(context[end:])
    )


def _preview(text: str) -> str:
    if len(text) <= PASSAGE_PREVIEW_CHARS:
        return text
    return text[:PASSAGE_PREVIEW_CHARS].rstrip() + "…"


def _score_text(passage: RetrievedPassage) -> str:
    parts = [f"fused {passage.score:.3f}"]
    if passage.dense_score is not None:
        parts.append(f"cosine {passage.dense_score:.2f}")
    if passage.bm25_score is not None:
        parts.append(f"BM25 {passage.bm25_score:.1f}")
    return " · ".join(parts)


# The article paragraphs each passage lies in, by (article id, start, end): numbered as citations
# number them, so "Other passages read" and "¶ 4" count alike (`Handlers.passage_paragraphs`).
Paragraphs = dict[tuple[str, int, int], tuple[int, ...]]


def _passage_where(passage: RetrievedPassage, paragraphs: Paragraphs | None = None) -> str:
    numbers = (paragraphs or {}).get((passage.article_id, passage.start, passage.end), ())
    # the citation's own label: "¶ 4", "¶ 4–5"; "passage N" only where the paragraphs are unknown
    label = paragraph_label(Citation(passage.article_id, passage.title, passage.paragraph, passage.start,
                                     passage.end, paragraphs=numbers))
    return f"<cite>{html.escape(passage.title)}</cite>, {html.escape(label)}"


def passage_item(passage: RetrievedPassage, paragraphs: Paragraphs | None = None) -> str:
    """One passage the reader read, as a list item: where it is from (a button that opens the
    article there) and its text; retrieval scores are left to `_scores_html`."""
    where = open_button(passage.article_id, _passage_where(passage, paragraphs), start=passage.start, end=passage.end,
                        title="Open the article at this passage", css="nqa-cite-button")
    link = link_html(passage.source)
    return (
        '<li class="nqa-passage">'
        f'<div class="nqa-passage-head">{where}{" · " + link if link else ""}</div>'
        f'<div class="nqa-passage-text">{escape_text(_preview(passage.text))}</div>'
        "</li>"
    )


def _is_at(passage: RetrievedPassage, citation: Citation | None) -> bool:
    return (citation is not None and passage.article_id == citation.article_id
            and passage.paragraph == citation.passage)


def _scores_html(passages: Sequence[RetrievedPassage], paragraphs: Paragraphs | None = None) -> str:
    """Retrieval scores, folded away: they rank passages for the reader and say nothing about
    whether an answer is right, so they are never shown as a confidence."""
    if not passages:
        return ""
    items = "".join(f"<li>{_passage_where(p, paragraphs)}: {html.escape(_score_text(p))}</li>" for p in passages)
    return ('<details class="nqa-scores"><summary>Retrieval scores</summary>'
            f'<ul class="nqa-score-list">{items}</ul></details>')


def passages_read_html(result: AskResult, cited: Citation | None, *, open_: bool,
                       paragraphs: Paragraphs | None = None) -> str:
    """ "Other passages read": the related passages besides the cited one, scores folded away."""
    related = [p for p in result.passages if p.related and not _is_at(p, cited)]
    unrelated = sum(1 for p in result.passages if not p.related and not _is_at(p, cited))
    if not related and not unrelated:
        return ""
    summary = f"Other passages read ({len(related)})" if related else "Other passages read: none related"
    parts = [f'<details class="nqa-sources"{" open" if open_ else ""}>', f"<summary>{summary}</summary>"]
    if related:
        parts.append(f'<ol class="nqa-passages">{"".join(passage_item(p, paragraphs) for p in related)}</ol>')
    if unrelated:
        noun = "passage" if unrelated == 1 else "passages"
        parts.append(f'<div class="nqa-note">{unrelated} unrelated {noun} not shown.</div>')
    parts.append(_scores_html(result.passages, paragraphs))
    parts.append("</details>")
    return "".join(parts)


def _resolved_note(result: AskResult) -> str:
    """Shows how a follow-up was understood, so a wrong rewrite is visible, not silent."""
    resolved = result.resolved_question.strip()
    if not resolved or resolved == result.question.strip():
        return ""
    return f'<div class="nqa-resolved">Understood as: “{escape_text(resolved)}”</div>'


def _citation_html(citation: Citation) -> str:
    label = paragraph_label(citation)
    cite = open_button(citation.article_id, f"<cite>{html.escape(citation.title)}</cite>, {html.escape(label)}",
                       start=citation.start, end=citation.end, quote=True,
                       title=f"Open the article at {label}", css="nqa-cite-button")
    link = link_html(citation.source)
    who = f'<span class="nqa-byline">{html.escape(byline(citation.outlet, citation.published))}</span>'
    return f'<div class="nqa-citation">— {cite} · {who}{" · " + link if link else ""}</div>'


def _story_button(story: dict, inner_html: str) -> str:
    """Opens another story's article at the words it gives (support or conflict)."""
    return open_button(story["article_id"], inner_html, start=story["start"], end=story["end"], quote=True,
                       title="Open the article at this quote", css="nqa-cite-button")


def agreement_html(result: AskResult) -> str:
    """ "3 articles from 2 outlets agree", expanding to each story with its outlets and date."""
    if not result.support:
        return ""
    items = "".join(_support_item(s) for s in result.support)
    return (f'<details class="nqa-support"><summary>{html.escape(agreement_label(result))}</summary>'
            f'<ul class="nqa-support-list">{items}</ul></details>')


def _support_item(story: dict) -> str:
    cite = _story_button(story, f"<cite>{html.escape(story['title'])}</cite>")
    who = byline(", ".join(story.get("outlets") or [story["outlet"]]), story["published"])
    return (f'<li class="nqa-support-item">{cite} · <span class="nqa-byline">{html.escape(who)}</span>: '
            f'“{escape_text(story["answer"])}”</li>')


def conflicts_html(result: AskResult) -> str:
    """Each other story that answers otherwise: "But Outlet (date) says …", with its own citation."""
    parts = []
    for c in result.conflicts:
        who = c["outlet"] or c["title"]
        earlier = ' <span class="nqa-older">(earlier reporting)</span>' if c.get("older") else ""
        cite = _story_button(c, f"<cite>{html.escape(c['title'])}</cite>")
        parts.append(f'<div class="nqa-conflict{" nqa-conflict-older" if c.get("older") else ""}">But '
                     f'{html.escape(who)} ({html.escape(day_label(c["published"]))}) says '
                     f'“<strong>{escape_text(c["answer"])}</strong>”{earlier} — {cite}</div>')
    return "".join(parts)


def _copy_button(text: str) -> str:
    return (f'<button type="button" class="nqa-copy" value="{html.escape(text, quote=True)}" '
            'title="Copy the answer and its citation as text">Copy</button>')


def answer_html(result: AskResult, scope_note: str = "", paragraphs: Paragraphs | None = None) -> str:
    """The chat message for any result: a clarifying question, an answer, or "not found".

    `paragraphs` numbers the passages read as the article's paragraphs (else "passage N")."""
    if result.clarification:
        return clarification_html(result)
    if not result.found or result.answer is None or result.citation is None:
        return not_found_html(result, scope_note, paragraphs)
    citation = result.citation
    parts = [
        '<div class="nqa-message nqa-found">',
        _resolved_note(result),
        f'<div class="nqa-answer">{escape_text(answer_with_date(result))}</div>',
    ]
    if result.score is not None and result.confidence is not None:
        # the label is the assistant's (`qa.confidence`): it is never guessed here from the score
        level = result.confidence
        parts.append(
            f'<div class="nqa-confidence nqa-confidence-{html.escape(level)}">'
            f"{html.escape(level.capitalize())} confidence · {likely_right(result.score)}</div>"
        )
    if result.context is not None:
        quote = highlight_span(result.context, result.context_start, result.context_end)
        parts.append(f'<blockquote class="nqa-quote">{quote}</blockquote>')
    parts.append(_citation_html(citation))
    parts.append(agreement_html(result))
    parts.append(conflicts_html(result))
    parts.append(_scope_html(scope_note))
    parts.append(passages_read_html(result, citation, open_=False, paragraphs=paragraphs))
    parts.append(f'<div class="nqa-actions">{_copy_button(copy_text(result))}</div>')
    parts.append("</div>")
    return "".join(parts)


def _scope_html(scope_note: str) -> str:
    return f'<div class="nqa-scope-note">{html.escape(scope_note)}</div>' if scope_note else ""


def _candidate_html(candidate: Candidate) -> str:
    quote = highlight_span(candidate.context, candidate.context_start, candidate.context_end, "nqa-candidate-span")
    return (
        '<div class="nqa-candidate">'
        '<div class="nqa-candidate-head"><span class="nqa-unconfirmed">Unconfirmed</span> '
        f"possible answer: <strong>{escape_text(candidate.answer)}</strong> "
        f'<span class="nqa-candidate-odds">({likely_right(candidate.score)})</span></div>'
        f'<blockquote class="nqa-quote nqa-candidate-quote">{quote}</blockquote>'
        f"{_citation_html(candidate.citation)}"
        "</div>"
    )


def not_found_html(result: AskResult, scope_note: str = "", paragraphs: Paragraphs | None = None) -> str:
    """The chat message when no answer cleared the bar: the closest span, if any, marked as
    unconfirmed, and the related passages that were read."""
    candidate = result.candidate
    headline = UNCLEAR_HEADLINE if candidate is not None else NOT_FOUND_HEADLINE
    parts = [
        '<div class="nqa-message nqa-not-found">',
        _resolved_note(result),
        f'<div class="nqa-answer">{html.escape(headline)}</div>',
    ]
    if candidate is not None:
        parts.append(_candidate_html(candidate))
    parts.append(_scope_html(scope_note))
    read = passages_read_html(result, candidate.citation if candidate else None, open_=candidate is None,
                              paragraphs=paragraphs)
    if read:
        parts.append(read)
    elif candidate is None:
        parts.append('<div class="nqa-note">No passage was close enough to show.</div>')
    parts.append(f'<div class="nqa-actions">{_copy_button(copy_text(result))}</div>')
    parts.append("</div>")
    return "".join(parts)


def clarification_html(result: AskResult) -> str:
    """A question back to the user, in the assistant's voice: nothing was searched yet."""
    return ('<div class="nqa-message nqa-clarify">'
            f'<div class="nqa-answer">{escape_text(result.clarification or "")}</div></div>')


def error_html(message: str) -> str:
    return f'<div class="nqa-message nqa-error">⚠ {escape_text(message)}</div>'


def question_html(question: str) -> str:
    return f'<div class="nqa-question">{escape_text(question)}</div>'


# --- a reply as plain text -------------------------------------------------------------------

def _citation_text(citation: Citation) -> str:
    where = f"{citation.title} ({byline(citation.outlet, citation.published)}), {paragraph_label(citation)}"
    url = safe_link(citation.source) if citation.source else None
    return f"— {where}" + (f" ({url})" if url else "")


def copy_text(result: AskResult) -> str:
    """What a reply's Copy button copies: the answer, its quote in context and its citation."""
    if result.clarification:
        return result.clarification
    if result.found and result.answer is not None and result.citation is not None:
        lines = [answer_with_date(result)]
        if result.context:
            lines += ["", f"“{result.context.strip()}”"]
        lines.append(_citation_text(result.citation))
        return "\n".join(lines)
    candidate = result.candidate
    if candidate is None:
        return NOT_FOUND_HEADLINE
    return "\n".join([UNCLEAR_HEADLINE, f"Possible answer (unconfirmed): {candidate.answer}", "",
                      f"“{candidate.context.strip()}”", _citation_text(candidate.citation)])
