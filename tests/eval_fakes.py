"""A deterministic stand-in for `qa.Assistant`, for fast tests of the evaluation runner.

Passages are the articles' blank-line-separated paragraphs; retrieval ranks them by words shared
with the question; a follow-up is "resolved" by prefixing the previous question; the reader quotes
the answer its table gives for the question if that text occurs in a passage it reads. It records
every call, so tests can check what the runner asked. What it leaves out: anything learned.
"""

from __future__ import annotations

import re

from index.types import Article, Passage
from qa.types import AskResult, Citation, RetrievedPassage


def make_article(article_id: str, title: str, paragraphs: list[str]) -> Article:
    return Article(article_id, title, "", None, "\n\n".join(paragraphs))


class FakeAssistant:
    def __init__(self, articles: list[Article], answers: dict[str, str], score: float = 0.8,
                 confidence: str | None = None):
        self._articles = list(articles)
        self._answers = dict(answers)  # question as asked -> answer text
        self._score = score
        self._confidence = confidence  # the label given with every answer
        self._passages = {article.id: _paragraphs(article) for article in self._articles}
        self.asked: list[tuple[str, list]] = []  # (question, history) of each ask call
        self.read_calls: list[tuple[str, list[Passage]]] = []

    @property
    def collection(self) -> "FakeAssistant":
        return self  # the stand-in is its own collection: it lists articles and their passages

    def articles(self) -> list[Article]:
        return list(self._articles)

    def passages_of(self, article_id: str) -> list[Passage]:
        return list(self._passages.get(article_id, []))

    def retrieve(self, question: str, top_k: int) -> list[RetrievedPassage]:
        words = _words(question)
        ranked = sorted(
            (passage for passages in self._passages.values() for passage in passages),
            key=lambda p: -len(words & _words(p.text)),
        )
        return [self._retrieved(passage, rank) for rank, passage in enumerate(ranked[:top_k])]

    def ask(self, question: str, history=None, *, top_k: int | None = None) -> AskResult:
        self.asked.append((question, list(history or [])))
        resolved = f"{history[-1].question} {question}" if history else question
        retrieved = self.retrieve(resolved, 5 if top_k is None else top_k)
        passages = [self._passage_of(r) for r in retrieved]
        return self._read(question, resolved, passages, retrieved)

    def read(self, question: str, passages: list[Passage]) -> AskResult:
        self.read_calls.append((question, list(passages)))
        return self._read(question, question, passages, [self._retrieved(p, 0) for p in passages])

    def _read(self, question, resolved, passages, retrieved) -> AskResult:
        answer = self._answers.get(question)
        for passage in passages:
            offset = passage.text.find(answer) if answer else -1
            if offset >= 0:
                article = self._article(passage.article_id)
                start = passage.start + offset
                citation = Citation(article.id, article.title, passage.index, start, start + len(answer))
                return AskResult(question, True, answer, self._score, citation, passage.text, retrieved,
                                 resolved, offset, offset + len(answer), confidence=self._confidence)
        return AskResult(question, False, None, 0.1, None, None, retrieved, resolved)

    def _article(self, article_id: str) -> Article:
        return next(article for article in self._articles if article.id == article_id)

    def _retrieved(self, passage: Passage, rank: int) -> RetrievedPassage:
        title = self._article(passage.article_id).title
        return RetrievedPassage(passage.article_id, title, passage.index, 1.0 / (rank + 1), passage.text,
                                passage.start, passage.end)

    def _passage_of(self, retrieved: RetrievedPassage) -> Passage:
        return self._passages[retrieved.article_id][retrieved.paragraph]


def _paragraphs(article: Article) -> list[Passage]:
    passages, start = [], 0
    for chunk in article.text.split("\n\n"):
        passages.append(Passage(article.id, len(passages), start, start + len(chunk), chunk))
        start += len(chunk) + 2
    return passages


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))
