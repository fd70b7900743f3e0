"""What the assistant returns: a cited answer (or an honest "not found") and the passages it read.

`dataclasses.asdict(AskResult)` is the JSON that `qa ask --json` prints and the UI's API returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index.types import Article, Passage  # re-exported: front ends reach the index's types through qa

__all__ = ["Article", "AskResult", "Citation", "Passage", "RetrievedPassage", "Turn"]


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str | None  # None when the assistant found no answer


@dataclass(frozen=True)
class Citation:
    article_id: str
    title: str
    paragraph: int  # 0-based passage number within the article
    start: int  # character offsets into the article text: article.text[start:end] == answer
    end: int
    source: str = ""  # file path or URL of the article, when known


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


@dataclass(frozen=True)
class AskResult:
    """One question's outcome. `found=False` (answer and citation None) is a normal result."""

    question: str
    found: bool
    answer: str | None
    score: float | None  # reader confidence in [0, 1]
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
