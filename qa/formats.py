"""A result in the forms people read it: the JSON (`qa ask --json`, the chat's API), the terminal's text, and
where a quote is ("¶ 3"). The chat's HTML is `ui.render`'s."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from qa.types import AskResult, Citation


# Until the next release the JSON keeps a citation's passage number under its old name too.
DEPRECATED_CITATION_KEYS = {"paragraph": "passage"}


def result_to_json(result: AskResult) -> dict:
    """`asdict(result)`, with each citation as `citation_to_json` writes it."""
    data = asdict(result)
    data["citation"] = citation_to_json(result.citation)
    if result.candidate is not None:
        data["candidate"]["citation"] = citation_to_json(result.candidate.citation)
    return data


def citation_to_json(citation: Citation | None) -> dict | None:
    """`asdict(citation)` plus the deprecated alias "paragraph" (the old name of `passage`), for
    readers of the JSON written before the rename."""
    if citation is None:
        return None
    data = asdict(citation)
    for old, new in DEPRECATED_CITATION_KEYS.items():
        data[old] = data[new]
    return data


def paragraph_label(citation: Citation) -> str:
    """Where a quote is in its article, as a reader of it counts its paragraphs: "¶ 3", "¶ 3–4",
    "¶ 2, 5"; the passage's number when the article's paragraphs are not known. The one label of
    the terminal's answers, the chat's citations and its exported Markdown."""
    numbers = sorted(set(citation.paragraphs))
    if not numbers:
        return f"passage {citation.passage + 1}"
    if len(numbers) == 1:
        return f"\u00b6 {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"\u00b6 {numbers[0]}\u2013{numbers[-1]}"
    return "\u00b6 " + ", ".join(str(n) for n in numbers)


def day_label(published: str | None) -> str:
    """An ISO date as people read it in news ("21 Nov 2017"); "date unknown" when there is none."""
    try:
        day = date.fromisoformat((published or "")[:10])
    except ValueError:
        return published or "date unknown"
    return f"{day.day} {day:%b %Y}"


def byline(outlet: str, published: str | None) -> str:
    """Who reported a quote and when: "Outlet · 21 Nov 2017" (or "date unknown")."""
    return f"{outlet} \u00b7 {day_label(published)}" if outlet else day_label(published)


def answer_with_date(result: AskResult) -> str:
    """The answer, with the date it names when that had to be worked out: "Monday (20 Nov 2017)"."""
    if result.answer_date and day_label(result.answer_date) not in result.answer:
        return f"{result.answer} ({day_label(result.answer_date)})"
    return result.answer or ""


def agreement_label(result: AskResult) -> str:
    """"3 articles from 2 outlets agree" (the answer's story counted with those that support it)."""
    stories = 1 + len(result.support)
    outlets = {o for o in ([result.citation.outlet] if result.citation else []) if o}
    outlets |= {o for s in result.support for o in s.get("outlets") or [s.get("outlet")] if o}
    copies = next((p.copies for p in result.passages if result.citation and p.article_id == result.citation.article_id), ())
    if copies:
        from index.metadata import outlet_of

        outlets |= {outlet_of(s) or s for s in copies}
    noun = "article" if stories == 1 else "articles"
    tail = f" from {len(outlets)} outlet{'s' if len(outlets) != 1 else ''}" if outlets else ""
    return f"{stories} {noun}{tail} agree" if stories > 1 else f"1 article{tail}"


def result_to_text(result: AskResult) -> str:
    """A short human reading of a result for the terminal."""
    from qa.scope import undated_note

    left_out = undated_note(result.undated_left_out)
    text = _result_text(result)
    return f"{text}\n({left_out}: they state no date)" if left_out else text


def _result_text(result: AskResult) -> str:
    if result.clarification:
        return result.clarification
    if not result.found:
        lines = ["Not in these articles: no passage answers that question."]
        candidate = result.candidate
        if candidate is not None:
            c = candidate.citation
            lines.append(f"Not stated clearly; closest: \u201c{candidate.answer}\u201d \u2014 {c.title}, {paragraph_label(c)}, "
                         f"characters {c.start}\u2013{c.end} (unconfirmed, probability {candidate.score:.2f})")
        elif result.passages and result.passages[0].related:
            p = result.passages[0]
            lines.append(f"Closest passage: {p.title}, passage {p.paragraph + 1}: {p.text[:200]}")
        return "\n".join(lines)
    c = result.citation
    label = f"confidence {result.confidence}, {result.score:.2f}" if result.confidence else f"confidence {result.score:.2f}"
    text = (f"{answer_with_date(result)}\n\n\u201c{result.context}\u201d\n"
            f"\u2014 {c.title} ({byline(c.outlet, c.published)}), {paragraph_label(c)}, "
            f"characters {c.start}\u2013{c.end} ({label})")
    copies = next((p.copies for p in result.passages if p.article_id == c.article_id and p.copies), ())
    if copies:  # the same story from other outlets: one passage read, every outlet named
        from index.metadata import outlet_of

        text += "\n  also published by: " + ", ".join(dict.fromkeys(outlet_of(s) or s for s in copies))
    if result.support:
        text += f"\n{agreement_label(result)}:"
        for s in result.support:
            text += f"\n  \u201c{s['answer']}\u201d \u2014 {s['title']} ({byline(s['outlet'], s['published'])})"
    for s in result.conflicts:
        earlier = " (earlier reporting)" if s.get("older") else ""
        text += (f"\nBut {s['outlet'] or s['title']} ({day_label(s['published'])}) says \u201c{s['answer']}\u201d"
                 f"{earlier} \u2014 {s['title']}, characters {s['start']}\u2013{s['end']}")
    return text
