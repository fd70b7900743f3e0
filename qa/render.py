"""The JSON form of an answer: what `qa ask --json` prints and the UI's `ask` endpoint returns."""

from __future__ import annotations

from dataclasses import asdict

from qa.types import AskResult, Citation


def result_to_json(result: AskResult) -> dict:
    return asdict(result)


def where(citation: Citation) -> str:
    """Where a quote is, as a reader of the article counts: "paragraph 3" (its own paragraphs)."""
    numbers = citation.paragraphs
    if not numbers:  # a citation made without the article's paragraphs: the passage's number
        return f"passage {citation.paragraph + 1}"
    if len(numbers) == 1:
        return f"paragraph {numbers[0]}"
    return f"paragraphs {numbers[0]}\u2013{numbers[-1]}"


def result_to_text(result: AskResult) -> str:
    """A short human reading of a result for the terminal."""
    if result.clarification:
        return result.clarification
    if not result.found:
        lines = ["Not in these articles: no passage answers that question."]
        candidate = result.candidate
        if candidate is not None:
            c = candidate.citation
            lines.append(f"Not stated clearly; closest: \u201c{candidate.answer}\u201d \u2014 {c.title}, {where(c)}, "
                         f"characters {c.start}\u2013{c.end} (unconfirmed, probability {candidate.score:.2f})")
        elif result.passages and result.passages[0].related:
            p = result.passages[0]
            lines.append(f"Closest passage: {p.title}, passage {p.paragraph + 1}: {p.text[:200]}")
        return "\n".join(lines)
    c = result.citation
    label = f"confidence {result.confidence}, {result.score:.2f}" if result.confidence else f"confidence {result.score:.2f}"
    return (f"{result.answer}\n\n\u201c{result.context}\u201d\n"
            f"\u2014 {c.title}, {where(c)}, characters {c.start}\u2013{c.end} ({label})")
