"""The assistant: one object behind the CLI, the Python API, the chat UI and the evaluation.

    from qa import Assistant, Scope
    assistant = Assistant.load()                      # the bundled article's index
    result = assistant.ask("When will the presidents meet?")
    result.answer, result.citation                    # a verbatim quote and where it is

ask = resolve follow-up -> retrieve (dense + BM25, fused, within the question's `Scope`) -> read
the top passages -> the answer policy (`qa.answer_policy`): the best span over all of them, or
"not found" when no span beats the reader's no-answer threshold. A bare follow-up with nothing to
follow ("When?" as a first question) gets a question back instead of a search.

The assistant only answers. It composes the collection (`qa.collection`: which index, opened or
built by one policy, and adding and removing articles: `assistant.collection`), the retriever,
the reader and the answer policy. Constructing does no I/O; models load on first use or `warm_up()`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.clean import clean_question_text
from index.embed import Embedder
from index.metadata import displayable
from index.store import PassageSearcher
from index.types import Article, Passage
from qa.answer_policy import AnswerPolicy
from qa.collection import Collection
from qa.errors import BadQuestionError
from qa.followup import clarification, name_as_written, resolve_followup, retrieval_query
from qa.reader.registry import make_reader
from qa.reader.transformers_reader import PassageReading, Reader
from qa.retrieve import Retriever, is_related, make_retriever, question_terms, retrieve
from qa.scope import Scope, count_undated
from qa.settings import Settings
from qa.types import AskResult, RetrievedPassage, Turn

log = logging.getLogger(__name__)
MAX_TOP_K = 100  # passages read per question: beyond this, reading takes seconds and adds nothing

History = Sequence[Turn | tuple] | None


class Assistant:
    """Composes the parts that `Settings` names: the collection (index and embedder), retriever and reader."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 reader: Reader | None = None, *, collection: Collection | None = None):
        if settings is None:
            settings = collection.settings if collection is not None else Settings.from_env()
        self.settings = settings
        # the reader first: a named reader whose weights are absent fails before an index is opened or built
        self.reader = reader if reader is not None else make_reader(settings)
        self.collection = collection if collection is not None else Collection(settings, embedder)
        self.policy = AnswerPolicy(self.reader, self._article, settings.no_answer_threshold)

    @property
    def embedder(self) -> Embedder:
        return self.collection.embedder  # the collection may switch it to the precision of its index

    @property
    def store(self) -> PassageSearcher:
        return self.collection.store

    @property
    def _lock(self):
        # the collection's: a read never runs beside a write (the embedder's tokenizer is not thread-safe)
        return self.collection.lock

    # ---- over an index ------------------------------------------------------------------------
    @classmethod
    def load(cls, index_dir: str | Path | None = None, settings: Settings | None = None, *,
             embedder: Embedder | None = None, reader: Reader | None = None) -> "Assistant":
        """An assistant over an existing index (None: the bundled article's, built on first use)."""
        settings = settings if settings is not None else Settings.from_env()
        reader = reader if reader is not None else make_reader(settings)
        return cls(reader=reader, collection=Collection.open(index_dir, settings, embedder))

    @classmethod
    def build(cls, sources: Sequence[str | Path | Article], index_dir: str | Path, settings: Settings | None = None,
              progress: bool = False, ray: str | None = None, *, embedder: Embedder | None = None,
              reader: Reader | None = None) -> "Assistant":
        """An assistant over an index at `index_dir` holding exactly these articles (`Collection.build`)."""
        settings = settings if settings is not None else Settings.from_env()
        reader = reader if reader is not None else make_reader(settings)
        return cls(reader=reader, collection=Collection.build(sources, index_dir, settings, embedder, progress, ray))

    @classmethod
    def upgrade(cls, index_dir: str | Path, settings: Settings | None = None, *,
                embedder: Embedder | None = None, reader: Reader | None = None) -> "Assistant":
        """An assistant over an index of format 1, converted to today's format (`Collection.upgrade`)."""
        settings = settings if settings is not None else Settings.from_env()
        reader = reader if reader is not None else make_reader(settings)
        return cls(reader=reader, collection=Collection.upgrade(index_dir, settings, embedder))

    def add(self, sources: Sequence[str | Path | Article], progress: bool = False, *,
            published: str | None = None, outlet: str | None = None) -> list[Article]:
        """Index more articles: paths, web addresses (feeds, sitemaps, pages, PDFs) or `Article`s
        (`Collection.add`); returns the ones that were new. `published` (YYYY-MM-DD) and `outlet`
        go to the articles that state none."""
        return self.collection.add(sources, progress, published=published, outlet=outlet)

    def warm_up(self) -> None:
        """Open the index and load the embedder and the reader now (safe to call twice)."""
        _ = self.store
        self.embedder.warm_up()
        self.reader.warm_up()

    # ---- retrieving ---------------------------------------------------------------------------
    def check_question(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise BadQuestionError("the question is empty; type a question about the articles")
        question = displayable(question)  # undecodable bytes (a terminal's, a client's) become U+FFFD
        if len(question) > self.settings.max_question_chars:
            raise BadQuestionError(f"the question is {len(question):,} characters long; "
                                   f"the limit is {self.settings.max_question_chars:,}")
        # cleaned as articles are (`index.clean`): markup stripped, whitespace normalised, so a
        # question pasted with its tags is read and retrieved as the same words without them
        question = clean_question_text(question)
        if not question:
            raise BadQuestionError("the question has no text once its markup is removed; type a question about the articles")
        return question

    def retriever(self, mode: str | None = None) -> Retriever:
        name = self.settings.retriever if mode is None else mode
        return make_retriever(name, self.store, self.embedder, self.settings.rrf_k,
                              self.settings.candidates_per_retriever)

    def retrieve(self, question: str, top_k: int | None = None, mode: str | None = None, *,
                 scope: Scope | None = None) -> list[RetrievedPassage]:
        question = self.check_question(question)
        k = self._top_k(top_k)
        with self._lock:
            return self._retrieve(question, k, mode, self._scope_pids(scope))

    def _top_k(self, top_k: int | None) -> int:
        k = self.settings.top_k if top_k is None else top_k
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_TOP_K:
            raise BadQuestionError(f"top_k must be a whole number from 1 to {MAX_TOP_K}, not {k!r}")
        return k

    def _retrieve(self, query: str, k: int, mode: str | None = None,
                  allowed: np.ndarray | None = None) -> list[RetrievedPassage]:
        with self._lock:
            store = self.store
            return retrieve(self.retriever(mode), store, query, k, allowed, self.settings.related_min_cosine)

    def _scope_pids(self, scope: Scope | None) -> np.ndarray | None:
        """The passage ids a scope allows (None: no limit). A bad scope raises BadQuestionError;
        ids of articles that are not indexed simply allow nothing."""
        scope = Scope.check(scope)
        if scope is None:
            return None
        with self._lock:
            return self.store.scoped_pids(**scope.filters())

    # ---- answering ----------------------------------------------------------------------------
    def ask(self, question: str, history: History = None, *, top_k: int | None = None,
            scope: Scope | None = None, as_of: str | None = None) -> AskResult:
        """Answer from the indexed articles, or return found=False when they do not say.

        `scope` (`Scope.parse(articles=, outlets=, since=, until=)`) limits the search to part of
        the collection; None searches all of it. `as_of` (an ISO date) answers as the collection
        stood that day: only articles published on or before it count."""
        return self.ask_many([(question, history)], top_k=top_k, scope=scope, as_of=as_of)[0]

    def ask_many(self, questions: Sequence[tuple[str, History]], *, top_k: int | None = None,
                 scope: Scope | None = None, as_of: str | None = None) -> list[AskResult]:
        """Answer several (question, history) pairs at once, all within one scope: the same results
        as `ask` on each, with the reader reading all their passages in shared forward passes (a
        server batches questions that arrive together this way). A bad question raises, as `ask` would."""
        k = self._top_k(top_k)
        scope = Scope.as_of(scope, as_of)
        asked = []
        for question, history in questions:
            question = self.check_question(question)
            turns = [t if isinstance(t, Turn) else Turn(*t) for t in history or []]
            resolved = resolve_followup(question, turns, self._name_as_written)
            asked.append((question, resolved, retrieval_query(question, resolved, turns),
                          clarification(question, resolved, turns)))
        with self._lock:  # reentrant: retrieval and reading see the same index snapshot
            allowed = self._scope_pids(scope)
            hits = [[] if ask_back else self._retrieve(query, k, allowed=allowed)
                    for _, _, query, ask_back in asked]
            readings = self.reader.read_many([(resolved, [h.text for h in found])
                                              for (_, resolved, _, _), found in zip(asked, hits)])
            undated = count_undated(Scope.check(scope), self.collection.article_infos)
        results = [AskResult.clarify(question, resolved, ask_back)
                   if ask_back else self.policy.answer(question, resolved, found, read, query)
                   for (question, resolved, query, ask_back), found, read in zip(asked, hits, readings)]
        # a date limit leaves out the articles that state no date: the result says how many
        return [dataclasses.replace(r, undated_left_out=undated) for r in results] if undated else results

    def _name_as_written(self, name: str) -> str:
        # the articles that mention the name (BM25), not the whole archive; not limited to a
        # question's scope: how a name is written is a fact about the language of the articles
        hits = self._retrieve(name, 20, "bm25")
        texts = (a.text for a in self.store.articles(list(dict.fromkeys(h.article_id for h in hits))))
        return name_as_written(name, texts)

    def _article(self, article_id: str) -> Article | None:
        return self.collection.article(article_id)

    def read(self, question: str, passages: Sequence[Passage]) -> AskResult:
        """Read exactly these passages, no retrieval (the evaluation's oracle mode)."""
        question = self.check_question(question)
        hits = self.oracle_hits(question, passages)
        with self._lock:
            readings: list[PassageReading] = self.reader.read(question, [h.text for h in hits]) if hits else []
        return self.policy.answer(question, question, hits, readings, "")

    def oracle_hits(self, question: str, passages: Sequence[Passage]) -> list[RetrievedPassage]:
        """These passages as retrieval would hand them to the reader (for reading exactly them)."""
        articles = {a.id: a for a in self.store.articles(list(dict.fromkeys(p.article_id for p in passages)))}
        terms = question_terms(question)
        return [RetrievedPassage(p.article_id, articles[p.article_id].title, p.index, 1.0, p.text, p.start, p.end,
                                 source=articles[p.article_id].source,
                                 related=is_related(terms, p.text, None, self.settings.related_min_cosine))
                for p in passages]
