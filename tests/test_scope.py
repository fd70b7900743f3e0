"""Asking within a scope (articles, outlets, dates): retrieval searches only those articles' passages."""

from __future__ import annotations

import re

import numpy as np
import pytest

from index import vectors
from index.metadata import outlet_of
from index.types import Article
from index.vectors import Segment, write_segment
from qa import Assistant, Scope, Settings
from qa.errors import BadQuestionError
from qa.reader.decode import Span
from qa.reader.transformers_reader import PassageReading, ReaderSettings

from conftest import BUNDLED
from fakes import HashEmbedder, ReadsOneByOne

FILLER = ("The council met on Tuesday evening in the old town hall to discuss the budget for the coming year, "
          "the state of the roads and the new library, and residents asked questions for two hours.")


def article(article_id: str, name: str, source: str, published: str | None) -> Article:
    text = "\n\n".join([
        f"The mayor of Testville is {name}, who was elected last spring by a wide margin after a long campaign "
        f"that focused on roads, schools and the harbour.",
        FILLER,
        f"{name} said the harbour works would start in March and last until the end of the year, "
        f"according to the plan that the council approved.",
    ])
    return Article(article_id, f"Testville mayor ({article_id})", source, published, text)


ARTICLES = [
    article("mayor-bbc", "Jane Roe", "https://www.bbc.co.uk/news/testville-mayor", "2017-11-20"),
    article("mayor-reuters", "John Doe", "https://reuters.com/world/testville", "2017-11-25T10:00:00+00:00"),
    article("mayor-file", "Mary Major", "notes/testville.txt", None),
]


class MayorReader(ReadsOneByOne):
    """Quotes the name after "The mayor of Testville is", with a fixed margin."""

    settings = ReaderSettings(no_answer_threshold=0.0)

    def warm_up(self):
        pass

    def read(self, question, passages):
        readings = []
        for text in passages:
            match = re.search(r"mayor of Testville is ([A-Z]\w+ [A-Z]\w+)", text)
            span = Span(match.start(1), match.end(1), 5.0, 0.0) if match and "mayor" in question.lower() else None
            readings.append(PassageReading(span, 0.0))
        return readings


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scope") / "index"
    return Assistant.build([BUNDLED, *ARTICLES], folder, Settings(index_dir=folder, top_k=3),
                           embedder=HashEmbedder(), reader=MayorReader())


QUESTION = "Who is the mayor of Testville?"


def test_an_outlet_is_the_sites_host_without_www():
    assert outlet_of("https://www.BBC.co.uk/news/testville-mayor") == "bbc.co.uk"
    assert outlet_of("http://example.com:8080/a?b=c") == "example.com"
    assert outlet_of("notes/testville.txt") == outlet_of("") == outlet_of(None) == ""
    assert outlet_of("http://[::1") == ""  # malformed: no site to name, no exception


def test_a_parsed_scope_is_a_hashable_key_whatever_sequence_it_was_given():
    assert Scope.parse(articles="a").articles == ("a",)
    assert Scope.parse(outlets=["x", "y"]) == Scope(outlets=("x", "y"))
    assert len({Scope.parse(outlets=["x"]), Scope.parse(outlets=("x",)), Scope.parse(since="2017-01-01")}) == 2
    assert Scope.parse() is None and Scope().is_everything and not Scope(since="2017-01-01").is_everything
    assert Scope.parse(articles=[]) == Scope(articles=())  # an empty list allows nothing, unlike None
    # a scope built without parse is checked the same way when it is asked with
    assert Scope.check(Scope(outlets=["www.BBC.co.uk"], until="2017-11-30T10:00")) == Scope(
        outlets=("bbc.co.uk",), until="2017-11-30")


def test_article_infos_name_each_articles_outlet(assistant):
    outlets = {info["id"]: info["outlet"] for info in assistant.collection.article_infos()}
    assert outlets["mayor-bbc"] == "bbc.co.uk" and outlets["mayor-reuters"] == "reuters.com"
    assert outlets["mayor-file"] == ""


@pytest.mark.parametrize("scope, answer, articles", [
    (dict(articles=["mayor-reuters"]), "John Doe", {"mayor-reuters"}),
    (dict(outlets=["bbc.co.uk"]), "Jane Roe", {"mayor-bbc"}),
    (dict(outlets=["https://www.BBC.co.uk/"]), "Jane Roe", {"mayor-bbc"}),  # written as a user might
    (dict(outlets=[""]), "Mary Major", None),  # files and pasted text: the bundled article's file too
    (dict(since="2017-11-21"), "John Doe", {"mayor-reuters"}),  # undated articles are outside any date scope
    (dict(until="2017-11-20"), "Jane Roe", {"mayor-bbc"}),
    (dict(since="2017-11-25", until="2017-11-25"), "John Doe", {"mayor-reuters"}),  # a timestamp's day counts
    (dict(outlets=["bbc.co.uk", "reuters.com"], until="2017-11-22"), "Jane Roe", {"mayor-bbc"}),
])
def test_a_scope_limits_what_is_searched_and_quoted(assistant, scope, answer, articles):
    if articles is None:
        articles = {info["id"] for info in assistant.collection.article_infos() if info["outlet"] == ""}
        assert "mayor-file" in articles and len(articles) == 2
    result = assistant.ask(QUESTION, scope=Scope.parse(**scope))
    assert result.found and result.answer == answer
    assert {p.article_id for p in result.passages} <= articles
    assert result.citation.article_id in articles


def test_an_empty_scope_finds_nothing_and_reads_nothing(assistant):
    for scope in (dict(articles=["no-such-article"]), dict(outlets=["nowhere.example"]), dict(since="2030-01-01")):
        result = assistant.ask(QUESTION, scope=Scope.parse(**scope))
        assert not result.found and result.passages == [] and result.candidate is None


@pytest.mark.parametrize("scope, fragment", [
    (dict(since="2017-13-01"), "since must be a date written YYYY-MM-DD"),
    (dict(until="21/11/2017"), "until must be a date written YYYY-MM-DD"),
    (dict(since="2017-11-30", until="2017-11-01"), "starts on 2017-11-30, after it ends on 2017-11-01"),
    (dict(articles=[42]), "article id"),
])
def test_a_bad_scope_is_one_clear_error(assistant, scope, fragment):
    with pytest.raises(BadQuestionError, match=re.escape(fragment)) as error:
        assistant.ask(QUESTION, scope=Scope.parse(**scope))
    assert "\n" not in str(error.value)


def test_ask_many_asks_a_whole_batch_within_one_scope(assistant):
    scope = Scope(outlets=("reuters.com",))
    results = assistant.ask_many([(QUESTION, None), ("Who is the mayor?", None)], scope=scope)
    assert [r.answer for r in results] == ["John Doe", "John Doe"]
    assert assistant.ask_many([(QUESTION, None)], scope=None)[0].found
    with pytest.raises(BadQuestionError, match="qa.Scope"):
        assistant.ask_many([(QUESTION, None)], scope={"outlets": ["reuters.com"]})


def test_scoped_retrieval_returns_the_best_in_scope_not_a_filtered_top_k(assistant):
    store = assistant.store
    query = "Putin Assad Sochi talks Syria"
    allowed = store.scoped_pids(article_ids=["mayor-bbc"])
    assert len(allowed) == 3 and set(allowed) == set(store.scoped_pids(outlets=["bbc.co.uk"]))
    vector = HashEmbedder().embed([query])[0]
    unscoped, _ = store.dense_search(vector, 3)
    assert not set(unscoped) & set(allowed)  # a filter over the top 3 would leave nothing
    ids, scores = store.dense_search(vector, 3, allowed)
    every_id, every_score = store.dense_search(vector, 1000)
    expected = [(i, s) for i, s in zip(every_id, every_score) if i in set(allowed)][:3]
    assert list(ids) == [i for i, _ in expected] and np.allclose(scores, [s for _, s in expected])

    sparse_query = "mayor harbour Putin Sochi"
    unscoped, _ = store.sparse_search(sparse_query, 2)
    ids, scores = store.sparse_search(sparse_query, 2, allowed)
    assert len(ids) == 2 and set(ids) <= set(allowed)
    every_id, every_score = store.sparse_search(sparse_query, 1000)
    plain = dict(zip(every_id.tolist(), every_score.tolist()))
    assert np.allclose(scores, [plain[i] for i in ids])  # the filter adds nothing to the BM25 score
    assert list(ids) == [i for i in every_id if i in set(allowed)][:2]
    assert store.sparse_search(sparse_query, 2, np.zeros(0, np.int64))[0].size == 0


def test_retrieve_marks_passages_that_share_nothing_with_the_question(assistant):
    hits = assistant.retrieve("Where will the UN talks resume?", top_k=5)
    assert any(h.related and "Geneva" in h.text for h in hits)
    assert all(h.related for h in hits if h.bm25_score is not None)  # BM25 matched a word of the question
    far = assistant.retrieve("Qwertyuiop zxcvbnm?", top_k=3)
    assert far and not any(p.related for p in far)


def test_an_approximate_segment_is_searched_within_a_scope(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(3000, 32)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    ids = np.arange(10, 3010, dtype=np.int64)
    write_segment(tmp_path, "seg-1", rows, ids, approximate_min=1000)
    segment = Segment.open(tmp_path, "seg-1")
    assert segment.approximate
    query = rows[5] + 0.1 * rng.normal(size=32).astype(np.float32)
    allowed = np.sort(rng.choice(ids, size=300, replace=False))
    exact = allowed[np.argsort(-(rows[allowed - 10] @ query), kind="stable")[:5]]
    for cap in (vectors.SCOPED_EXACT_MAX_ROWS, 10):  # a small scope is scanned; a large one probes the lists
        monkeypatch.setattr(vectors, "SCOPED_EXACT_MAX_ROWS", cap)
        found, _ = vectors.search_segments([segment], query, 5, np.zeros(0, np.int64), allowed)
        assert set(found) <= set(allowed) and list(found) == list(exact)
    # tombstones stay out of a scope that names them
    found, _ = vectors.search_segments([segment], query, 5, np.array([exact[0]]), allowed)
    assert exact[0] not in found and list(found) == list(exact[1:]) + [found[-1]]
