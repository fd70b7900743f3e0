"""Property: every passage, and every answer the reader returns, is a verbatim slice of its article.

Texts mix accents, emoji, CJK, curly quotes, tabs and blank lines, the cases where token
offsets and character offsets most easily drift apart.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.errors import BadArticleError
from index.load import make_article
from index.split import split_article

from tiny_model import build_tiny_qa_model

WORDS = ["Putin", "Assad", "Sochi", "café", "naïve", "Zürich", "São", "Paulo", "北京", "東京で会談",
         "“quoted”", "‘single’", "don’t", "🙂", "👍🏽", "—", "Ελλάδα", "Москва", "2017", "50%", "e.g.", "U.S."]
word = st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=8))
sentence = st.lists(word, min_size=1, max_size=25).map(lambda ws: " ".join(ws) + ".")
separator = st.sampled_from(["\n\n", "\n", "\n\n\n", " \n \n", "\t\n\n", "\r\n\r\n"])
article_text = st.lists(st.tuples(sentence, separator), min_size=1, max_size=12).map(
    lambda parts: "".join(s + sep for s, sep in parts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article_text)
def test_every_passage_is_a_slice_of_its_article(raw):
    try:
        article = make_article(raw, "property", title="Property test")
    except BadArticleError:
        return  # nothing left after cleaning is a reported error, not a slice problem
    passages = split_article(article)
    assert passages
    for p in passages:
        assert p.text == article.text[p.start:p.end]
        assert p.text.strip() == p.text and p.text


@pytest.fixture(scope="module")
def tiny_reader(tmp_path_factory):
    from qa.reader.transformers_reader import ReaderSettings, TransformersReader

    folder = build_tiny_qa_model(tmp_path_factory.mktemp("tiny-qa"))
    # short windows so long passages are read in several strided windows
    reader = TransformersReader(folder, ReaderSettings(max_seq_tokens=48, stride_tokens=16, no_answer_threshold=-1e9))
    reader.warm_up()
    return reader


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(article_text, st.sampled_from(["Who met in Sochi?", "When? 🙂", "Où est-ce arrivé ?", "北京で何が？"]))
def test_reader_answers_are_exact_slices(tiny_reader, raw, question):
    try:
        article = make_article(raw, "property", title="Property test")
    except BadArticleError:
        return
    passages = split_article(article)
    readings = tiny_reader.read(question, [p.text for p in passages])
    assert len(readings) == len(passages)
    for p, reading in zip(passages, readings):
        if reading.span is None:
            continue
        s = reading.span
        assert 0 <= s.char_start < s.char_end <= len(p.text)
        answer = p.text[s.char_start:s.char_end]
        assert answer == article.text[p.start + s.char_start:p.start + s.char_end]


def test_reader_reads_long_passages_in_strided_windows(tiny_reader):
    passage = " ".join(f"word{i}" for i in range(300))
    assert len(tiny_reader._windows("Which word?", [passage])[0]) > 5
    [reading] = tiny_reader.read("Which word?", [passage])
    answer = passage[reading.span.char_start:reading.span.char_end]
    # sub-word tokens ("##41") are widened to whole words
    assert all(w.startswith("word") for w in answer.split()), answer
