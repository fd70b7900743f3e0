"""Each exchange of a conversation as Markdown: the question, the reply, its quote and citation.

The browser keeps these with the conversation and joins them into the file that the "Export"
button downloads (`ui.scripts.EXPORT_JS`).

Article text is escaped so that it stays text in any Markdown viewer (no links, images or HTML
that an article smuggled in).
"""

from __future__ import annotations

import re

from qa.types import AskResult, Citation
from qa.formats import paragraph_label
from ui.render import NOT_FOUND_HEADLINE, UNCLEAR_HEADLINE, likely_right, safe_link


def _md_escape(text: str) -> str:
    # Article text must not turn into links, images, code or HTML in someone's Markdown viewer.
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)


def _md_quote(text: str) -> str:
    """A passage as a block quote; a line starting with "#", "-", "+" or "1. " stays text, not
    a heading or a list."""
    lines = []
    for line in text.strip().splitlines():
        line = re.sub(r"^(\s*)([#+-])", r"\1\\\2", _md_escape(line))
        line = re.sub(r"^(\s*\d+)\.(?=\s)", r"\1\\.", line)
        lines.append("> " + line if line.strip() else ">")
    return "\n".join(lines)


def _md_citation(citation: Citation) -> str:
    where = f"{_md_escape(citation.title)}, {paragraph_label(citation)}"
    url = safe_link(citation.source) if citation.source else None
    return f"— *{where}*" + (f" (<{url}>)" if url and not re.search(r"[\s<>]", url) else "")


def exchange_markdown(question: str, result: AskResult | None = None, error: str | None = None,
                      scope_note: str = "") -> str:
    """One question and its reply as Markdown, for the exported conversation."""
    lines = [f"**Q:** {_md_escape(question)}", ""]
    if scope_note:
        lines[1:1] = ["", f"*{_md_escape(scope_note)}*"]
    resolved = result.resolved_question.strip() if result is not None else ""
    if resolved and resolved != result.question.strip():
        # how a follow-up was read, as the chat shows it: a wrong rewrite stays visible in the file too
        lines[1:1] = ["", f"*Understood as: “{_md_escape(resolved)}”*"]
    if error is not None:
        lines.append(f"**A:** ⚠ {_md_escape(error)}")
    elif result is None:
        pass
    elif result.clarification:
        lines.append(f"**A:** {_md_escape(result.clarification)}")
    elif result.found and result.answer is not None and result.citation is not None:
        lines.append(f"**A:** {_md_escape(result.answer)}")
        if result.score is not None and result.confidence is not None:  # the assistant's label, never guessed here
            lines += ["", f"*{result.confidence.capitalize()} confidence, {likely_right(result.score)}*"]
        if result.context:
            lines += ["", _md_quote(result.context)]
        lines += ["", _md_citation(result.citation)]
    elif result.candidate is not None:
        candidate = result.candidate
        lines += [f"**A:** {UNCLEAR_HEADLINE}", "",
                  f"Possible answer (**unconfirmed**, {likely_right(candidate.score)}): {_md_escape(candidate.answer)}",
                  "", _md_quote(candidate.context), "", _md_citation(candidate.citation)]
    else:
        lines.append(f"**A:** {NOT_FOUND_HEADLINE}")
    return "\n".join(lines).rstrip() + "\n"

