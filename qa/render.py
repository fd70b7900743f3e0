"""The JSON form of an answer: what `qa ask --json` prints and the UI's `ask` endpoint returns."""

from __future__ import annotations

from dataclasses import asdict

from qa.types import AskResult


def result_to_json(result: AskResult) -> dict:
    return asdict(result)


def result_to_text(result: AskResult) -> str:
    """A short human reading of a result for the terminal."""
    if not result.found:
        lines = ["Not in these articles: no passage answers that question."]
        if result.passages:
            p = result.passages[0]
            lines.append(f"Closest passage: {p.title}, paragraph {p.paragraph + 1}: {p.text[:200]}")
        return "\n".join(lines)
    c = result.citation
    return (f"{result.answer}\n\n\u201c{result.context}\u201d\n"
            f"\u2014 {c.title}, paragraph {c.paragraph + 1}, characters {c.start}\u2013{c.end}"
            f" (confidence {result.score:.2f})")
