"""What the assistant returns: a cited answer (or an honest "not found") and the passages it read.

`qa.formats.result_to_json(AskResult)` (its `dataclasses.asdict`, plus a citation's deprecated
"paragraph" alias of `passage`) is the JSON that `qa ask --json` prints and the UI's API returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index.types import Article, Passage  # re-exported: front ends reach the index's types through qa
from qa.scope import Scope  # re-exported: a scope is part of what a question asks

__all__ = ["Article", "AskResult", "Candidate", "Citation", "Passage", "RetrievedPassage", "Scope", "Turn"]


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str | None  # None when the assistant found no answer


@dataclass(frozen=True)
class Citation:
    article_id: str
    title: str
    passage: int  # 0-based number of the passage (the retrieval unit) within the article; not a paragraph
    start: int  # character offsets into the article text: article.text[start:end] == answer
    end: int
    source: str = ""  # file path or URL of the article, when known
    # 1-based numbers of the article's own paragraphs (blank-line separated blocks of
    # Article.text) that the quote lies in, as a reader of the article counts them
    paragraphs: tuple[int, ...] = ()
    published: str | None = None  # the article's date (ISO 8601), None when it does not say
    outlet: str = ""  # who published it: the site's own name, else its host ("" for a file or pasted text)


@dataclass(frozen=True)
class RetrievedPassage:
    article_id: str
    title: str
    paragraph: int
    score: float  # fused retrieval score (reciprocal rank fusion)
    text: str
    start: int  # offsets of the passage in its article
    end: int
    dense_score: float | None = None  # cosine similarity, when the dense retriever found it
    bm25_score: float | None = None  # BM25 score, when the sparse retriever found it
    source: str = ""
    # shares content words or meaning with the question (what a "passages read" list shows)
    related: bool = True
    # sources of other copies of the same story that ranked too (syndicated copies, `index.dedup`):
    # they take no slot of their own among the passages read, but each outlet still counts
    copies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """The closest span when no answer cleared the threshold: shown as unconfirmed, never as an answer."""

    answer: str
    score: float  # calibrated probability that it is right, in [0, 1]
    citation: Citation
    context: str  # the passage it lies in
    context_start: int  # answer == context[context_start:context_end]
    context_end: int


@dataclass(frozen=True)
class AskResult:
    """One question's outcome. `found=False` (answer and citation None) is a normal result."""

    question: str
    found: bool
    answer: str | None
    score: float | None  # calibrated probability that the answer is right, in [0, 1]
    citation: Citation | None
    context: str | None  # the cited passage's full text
    passages: list[RetrievedPassage] = field(default_factory=list)
    # the question as the reader read it, after resolving a follow-up against the history
    resolved_question: str = ""
    # offsets of the answer inside `context` (answer == context[context_start:context_end])
    context_start: int | None = None
    context_end: int | None = None
    # what retrieval searched for (the resolved question, plus the previous turn when unresolved)
    retrieval_query: str = ""
    # "high", "medium" or "low" when found: the label the score falls under (thresholds chosen
    # on held-out data so that "high" answers are right at least 90% of the time)
    confidence: str | None = None
    # when found is False: the closest span, if one came near the threshold
    candidate: Candidate | None = None
    # when the question cannot be read without an earlier turn that is not there ("When?" as a
    # first question): what to ask the user back; found is False and nothing was retrieved
    clarification: str | None = None
    # when found: the other stories that give the same answer, and accepted answers of other
    # stories that differ (`qa.news`); each a dict of article_id, title, outlet, published, answer,
    # start, end and outlets (its copies' too), a conflict also with its score and "older"
    support: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    # when the answer is a date ("Monday", "November 22"): that date read against its article's (ISO)
    answer_date: str | None = None
    # articles a date limit (since, until, as_of) left out because they state no date: said with
    # the answer, so a filter never hides them silently (`qa.scope.undated_note`)
    undated_left_out: int = 0

    @classmethod
    def not_found(cls, question: str, resolved_question: str, passages: list[RetrievedPassage],
                  retrieval_query: str = "", candidate: Candidate | None = None) -> "AskResult":
        """No answer cleared the bar: the passages read, and the closest span if one came near."""
        return cls(question, False, None, None, None, None, passages, resolved_question,
                   retrieval_query=retrieval_query, candidate=candidate)

    @classmethod
    def clarify(cls, question: str, resolved_question: str, clarification: str) -> "AskResult":
        """A question back to the user instead of a search (nothing was retrieved)."""
        return cls(question, False, None, None, None, None, [], resolved_question, clarification=clarification)
