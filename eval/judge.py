"""Judgements on one gold question: which passage is its gold passage, is a citation right, what kind of question it is.

The gold passage is, in order of preference: the question's own SQuAD paragraph (any passage
overlapping its character range, since the index may merge or window paragraphs), the passage the
gold file names (`article_id` and/or `paragraph`), or else any passage containing a gold answer.
An unanswerable question without a named passage has none. What this leaves out: asking the
assistant and aggregating the judgements into metrics.
"""

from __future__ import annotations

import re

from eval.gold_questions import GoldQuestion

# longest first, so "how many" wins over "how"; whom/whose are folded into "who"
_WH_WORDS = ("how many", "how much", "how long", "how", "what", "which", "who", "whom", "whose", "when", "where", "why")
_WH_PATTERN = re.compile(r"\b(" + "|".join(w.replace(" ", r"\s+") for w in _WH_WORDS) + r")\b", re.IGNORECASE)
_FOLDED = {"whom": "who", "whose": "who", "how much": "how many"}


def question_type(question: str) -> str:
    """The question's first wh-word ("what", "how many", ...), or "other" (yes/no, imperatives)."""
    match = _WH_PATTERN.search(question)
    if not match:
        return "other"
    word = " ".join(match.group(1).lower().split())
    return _FOLDED.get(word, word)


def knows_gold_passage(question: GoldQuestion) -> bool:
    return question.context_start is not None or _names_passage(question) or question.has_answer


def is_gold_passage(question: GoldQuestion, article_id: str, paragraph: int, start: int, end: int, text: str) -> bool:
    if question.context_start is not None:
        return (
            article_id == question.article_id
            and start < question.context_end
            and end > question.context_start
        )
    if _names_passage(question):
        return (question.article_id is None or article_id == question.article_id) and (
            question.paragraph is None or paragraph == question.paragraph
        )
    return any(answer in text for answer in question.answers)


def is_citation_correct(question: GoldQuestion, citation, answer: str, article_text: str | None) -> bool:
    """The quote is the article's text at the cited offsets, and the cited place is the gold one.

    Without a SQuAD paragraph or a named passage, "the gold place" is an occurrence of a gold
    answer in the cited article that the quoted span overlaps.
    """
    if article_text is None or article_text[citation.start : citation.end] != answer:
        return False
    if question.context_start is not None:
        return (
            citation.article_id == question.article_id
            and citation.start >= question.context_start
            and citation.end <= question.context_end
        )
    if _names_passage(question):
        return (question.article_id is None or citation.article_id == question.article_id) and (
            question.paragraph is None or citation.passage == question.paragraph
        )
    return any(
        start < citation.end and start + len(gold) > citation.start
        for gold in question.answers
        for start in _occurrences(article_text, gold)
    )


def _names_passage(question: GoldQuestion) -> bool:
    return question.paragraph is not None or (question.article_id is not None and question.context_start is None)


def _occurrences(text: str, needle: str):
    start = text.find(needle)
    while start != -1:
        yield start
        start = text.find(needle, start + 1)
