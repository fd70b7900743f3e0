"""Retrieval on real paragraphs: 240 SQuAD v1.1 dev paragraphs, the real packaged embedder, FAISS on disk."""

import json

import pytest

from index.load import squad_articles
from qa import Assistant, Settings

from fakes import KeywordReader
from shared_data import shared_data_path

N_ARTICLES = 5  # the first five SQuAD dev articles hold 240+ paragraphs


@pytest.fixture(scope="module")
def squad_corpus(tmp_path_factory, real_embedder):
    data = json.loads(shared_data_path("squad", "dev-v1.1.json").read_text())
    data["data"] = data["data"][:N_ARTICLES]
    articles, questions = squad_articles(data)
    folder = tmp_path_factory.mktemp("squad") / "idx"
    assistant = Assistant.build(articles, folder, Settings(index_dir=folder), embedder=real_embedder,
                                reader=KeywordReader({}))
    return assistant, questions


def recall_at(assistant, questions, k, mode):
    hits = 0
    for q in questions:
        for p in assistant.retrieve(q.question, k, mode=mode):
            if p.article_id == q.article_id and p.start < q.context_end and p.end > q.context_start:
                hits += 1
                break
    return hits / len(questions)


def test_corpus_is_real_and_large_enough(squad_corpus):
    assistant, _ = squad_corpus
    assert assistant.store.counts()[1] >= 200


def test_fused_retrieval_finds_the_gold_paragraph(squad_corpus):
    assistant, questions = squad_corpus
    sample = questions[::10][:150]
    fused5 = recall_at(assistant, sample, 5, "fused")
    dense5 = recall_at(assistant, sample, 5, "dense")
    bm25_5 = recall_at(assistant, sample, 5, "bm25")
    # a broken embedder, tokenizer or index lands far below these floors
    assert fused5 >= 0.75, (fused5, dense5, bm25_5)
    assert fused5 >= max(dense5, bm25_5) - 0.03
    assert recall_at(assistant, sample, 1, "fused") >= 0.5


def test_every_hit_carries_its_scores(squad_corpus):
    assistant, questions = squad_corpus
    hits = assistant.retrieve(questions[0].question, 10)
    assert len(hits) == 10
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.dense_score is not None or h.bm25_score is not None for h in hits)
    assert any(h.dense_score is not None and h.bm25_score is not None for h in hits)
    for h in hits:
        assert h.text == assistant.collection.article(h.article_id).text[h.start:h.end]
