"""Several questions read together give each the answer it gets alone (shipped reader and fakes)."""

from __future__ import annotations

import pytest

from qa.errors import BadQuestionError
from qa.types import Turn

from ui_support import fast_assistant

QUESTIONS = [
    ("Who did Putin meet in Sochi?", None),
    ("How many people have been killed in the Syrian war?", None),
    ("What is the population of Sochi?", None),
    ("When?", [Turn("Where will the UN talks resume?", "Geneva")]),
    ("Which country supports rebels who want to oust the Syrian president?", None),
]


def test_read_many_reads_each_question_as_read_does(shipped_reader, bundled_assistant):
    passages = [p.text for a in bundled_assistant.collection.articles() for p in bundled_assistant.collection.passages_of(a.id)]
    items = [("Who did Putin meet in Sochi?", passages[:5]),
             ("Where will the UN talks resume?", passages[3:]),  # more windows than one batch holds
             ("Anything?", []),
             ("How many people have been killed?", passages[:1])]
    together = shipped_reader.read_many(items)
    assert [len(r) for r in together] == [len(p) for _, p in items]
    for (question, texts), batch in zip(items, together):
        for alone, joint in zip(shipped_reader.read(question, texts), batch):
            assert (alone.span is None) == (joint.span is None)
            if alone.span is not None:
                assert (joint.span.char_start, joint.span.char_end) == (alone.span.char_start, alone.span.char_end)
                assert joint.span.score == pytest.approx(alone.span.score, abs=1e-3)
            assert joint.null_score == pytest.approx(alone.null_score, abs=1e-3)


def test_ask_many_answers_as_ask_does_with_the_real_models(bundled_assistant):
    together = bundled_assistant.ask_many(QUESTIONS)
    for (question, history), joint in zip(QUESTIONS, together):
        alone = bundled_assistant.ask(question, history)
        assert (joint.question, joint.found, joint.answer, joint.citation) == \
               (alone.question, alone.found, alone.answer, alone.citation)
        assert joint.resolved_question == alone.resolved_question


def test_ask_many_works_with_a_reader_that_reads_one_question_at_a_time(tmp_path):
    assistant = fast_assistant(tmp_path)  # its stand-in reader's read_many is a loop over read
    results = assistant.ask_many([("Where will the UN talks resume?", None), ("Who did Putin meet in Sochi?", None)])
    assert [r.answer for r in results] == ["Geneva", "Bashar al-Assad"]


def test_ask_many_rejects_a_bad_question_like_ask(tmp_path):
    assistant = fast_assistant(tmp_path)
    with pytest.raises(BadQuestionError):
        assistant.ask_many([("Who did Putin meet in Sochi?", None), ("   ", None)])
    assert assistant.ask_many([]) == []
