"""The team's gold sets for the bundled article, and the gold-file formats the runner reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold_questions import BadGoldFileError, load_gold
from qa.settings import BUNDLED_ARTICLE

GOLD_DIR = Path(__file__).resolve().parents[1] / "eval" / "gold"
ARTICLE_TEXT = BUNDLED_ARTICLE.read_text(encoding="utf-8")
TEAM_GOLD_FILES = ("bundled-article.jsonl", "bundled-conversations.jsonl", "bundled-followups.jsonl")


def test_bundled_article_gold_has_enough_answerable_and_unanswerable_questions():
    gold = load_gold(GOLD_DIR / "bundled-article.jsonl")
    assert gold.kind == "questions"
    answerable = [q for q in gold.questions if q.has_answer]
    assert len(answerable) >= 40
    assert len(gold.questions) - len(answerable) >= 8


def test_bundled_conversations_have_follow_ups_including_the_two_from_the_brief():
    gold = load_gold(GOLD_DIR / "bundled-conversations.jsonl")
    assert gold.kind == "conversations"
    assert len(gold.conversations) >= 5
    assert all(len(conversation.turns) >= 2 for conversation in gold.conversations)
    asked = [[(turn.question, turn.answers) for turn in c.turns] for c in gold.conversations]
    assert any(
        turns[0][0] == "Who did Putin meet in Sochi?"
        and turns[1][0] == "When was his first trip to Russia during the war?"
        and "October 2015" in turns[1][1]
        for turns in asked
    )
    assert any(
        turns[0][0] == "Where will the UN talks resume?" and turns[1][0] == "When?" and "November 28" in turns[1][1]
        for turns in asked
    )


@pytest.mark.parametrize("file_name", TEAM_GOLD_FILES)
def test_every_gold_answer_is_a_verbatim_span_of_the_article(file_name):
    gold = load_gold(GOLD_DIR / file_name)
    not_in_article = [(q.id, a) for q in gold.questions for a in q.answers if a not in ARTICLE_TEXT]
    assert not_in_article == []


def test_gold_questions_are_not_copied_sentences():
    # a question that repeats eight words of the article in a row tests string matching, not reading
    article_words = ARTICLE_TEXT.lower().split()
    eight_grams = {tuple(article_words[i : i + 8]) for i in range(len(article_words) - 7)}
    for file_name in TEAM_GOLD_FILES:
        for question in load_gold(GOLD_DIR / file_name).questions:
            words = question.question.lower().split()
            assert not any(tuple(words[i : i + 8]) in eight_grams for i in range(len(words) - 7)), question.id


def _write_lines(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_questions_file_with_optional_gold_passage(tmp_path):
    gold = load_gold(
        _write_lines(
            tmp_path / "q.jsonl",
            [
                {"id": "a", "question": "Who?", "answers": ["Ann"], "article_id": "art1", "paragraph": 2},
                "",
                {"question": "Why?", "answers": []},
            ],
        )
    )
    first, second = gold.questions
    assert (first.id, first.answers, first.article_id, first.paragraph) == ("a", ("Ann",), "art1", 2)
    assert second.id == "line-3" and not second.has_answer
    assert first.conversation_id is None


def test_conversation_turns_get_ids_and_positions(tmp_path):
    gold = load_gold(
        _write_lines(
            tmp_path / "c.jsonl",
            [{"id": "c1", "turns": [{"question": "Who?", "answers": ["Ann"]}, {"question": "When?", "answers": []}]}],
        )
    )
    assert gold.kind == "conversations"
    assert [(q.id, q.conversation_id, q.turn) for q in gold.questions] == [("c1.1", "c1", 0), ("c1.2", "c1", 1)]


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", r"bad\.jsonl:1: not valid JSON"),
        ('{"id": "x", "answers": []}', "non-empty 'question'"),
        ('{"question": "Who?", "answers": "Ann"}', "'answers' must be a list"),
        ('{"question": "Who?", "answers": [""]}', "'answers' must be a list"),
        ('{"id": "c", "turns": []}', "'turns' must be a non-empty list"),
        ('{"question": "Who?", "answers": [], "paragraph": -1}', "'paragraph'"),
    ],
)
def test_malformed_lines_are_reported_with_their_line_number(tmp_path, line, message):
    path = _write_lines(tmp_path / "bad.jsonl", [line])
    with pytest.raises(BadGoldFileError, match=message):
        load_gold(path)


def test_duplicate_ids_and_empty_files_are_errors(tmp_path):
    with pytest.raises(BadGoldFileError, match="occurs twice"):
        load_gold(_write_lines(tmp_path / "d.jsonl", [{"id": "x", "question": "A?"}, {"id": "x", "question": "B?"}]))
    with pytest.raises(BadGoldFileError, match="no questions"):
        load_gold(_write_lines(tmp_path / "e.jsonl", [""]))
    with pytest.raises(BadGoldFileError, match="cannot read"):
        load_gold(tmp_path / "absent.jsonl")


def test_squad_file_becomes_one_turn_per_question_with_its_paragraph(tmp_path):
    squad = {
        "version": "v2.0",
        "data": [
            {
                "title": "Cats",
                "paragraphs": [
                    {"context": "Cats sleep a lot every day.", "qas": [
                        {"id": "q1", "question": "What do cats do?", "answers": [{"text": "sleep", "answer_start": 5}],
                         "is_impossible": False}]},
                    {"context": "Dogs bark at night.", "qas": [
                        {"id": "q2", "question": "Do cats bark?", "answers": [], "is_impossible": True,
                         "plausible_answers": [{"text": "bark", "answer_start": 5}]}]},
                ],
            }
        ],
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    gold = load_gold(path)
    assert gold.kind == "squad" and len(gold.articles) == 1
    q1, q2 = gold.questions
    text = gold.articles[0].text
    assert text[q1.context_start : q1.context_end] == "Cats sleep a lot every day."
    assert text[q2.context_start : q2.context_end] == "Dogs bark at night."
    assert q1.answers == ("sleep",) and q2.answers == ()
