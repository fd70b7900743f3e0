"""`python -m eval run` end to end on a small corpus, through a deterministic fake assistant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eval.corpus
from eval.__main__ import main
from eval.gold_questions import BadGoldFileError, GoldQuestion, load_gold
from eval.judge import is_citation_correct, question_type
from eval.run_metrics import summarize_outcomes
from eval.runner import run_gold_set
from eval_fakes import FakeAssistant, make_article
from qa.types import Citation, Turn

SUMMIT = make_article(
    "summit",
    "Summit in Sochi",
    [
        "Putin met Assad in Sochi on November 20 for surprise talks.",
        "UN talks will resume in Geneva on November 28, officials said.",
        "Turkey supports rebels who want to oust the Syrian president.",
    ],
)
WEATHER = make_article("weather", "Weather", ["Rain is expected in Moscow on Friday.", "Snow fell in Sochi."])
ANSWERS = {
    "Who did Putin meet in Sochi?": "Assad",
    "Where will UN talks resume?": "Geneva",
    "When?": "November 28",
    "Who supports rebels?": "Russia",  # not in the corpus: the fake finds nothing
    "What weather is expected in Moscow?": "Friday",  # a wrong answer, from the wrong passage
    "Who is the UN envoy for Syria?": "Putin",  # an answer to an unanswerable question
}
QUESTIONS = [
    {"id": "who", "question": "Who did Putin meet in Sochi?", "answers": ["Assad", "Bashar al-Assad"]},
    {"id": "where", "question": "Where will UN talks resume?", "answers": ["Geneva", "in Geneva"]},
    {"id": "supports", "question": "Who supports rebels?", "answers": ["Turkey"]},
    {"id": "weather", "question": "What weather is expected in Moscow?", "answers": ["Rain"]},
    {"id": "mediator", "question": "Who leads the UN mediation?", "answers": ["Staffan de Mistura"]},  # not in the corpus
    {"id": "envoy", "question": "Who is the UN envoy for Syria?", "answers": []},
    {"id": "cost", "question": "How much did the war cost?", "answers": []},
]


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def fake_assistant(monkeypatch) -> FakeAssistant:
    assistant = FakeAssistant([SUMMIT, WEATHER], ANSWERS)
    monkeypatch.setattr(eval.corpus, "open_assistant", lambda gold_set, index_dir, settings, **options: assistant)
    return assistant


def test_run_writes_metrics_predictions_report_and_plots(tmp_path, fake_assistant, capsys):
    gold = _jsonl(tmp_path / "gold.jsonl", QUESTIONS)
    out = tmp_path / "run"
    assert main(["run", str(gold), "--out", str(out), "--quiet", "--top-k", "2"]) == 0

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 7
    assert metrics["exact_match"] == pytest.approx(100 * 3 / 7)  # who, where, and declining "cost"
    assert metrics["has_ans_f1"] == pytest.approx(40.0)
    assert metrics["no_ans_count"] == 2 and metrics["no_ans_accuracy"] == pytest.approx(50.0)
    assert metrics["retrieval_count"] == 5
    assert metrics["recall@10"] == pytest.approx(80.0)  # no passage holds the mediator's name
    assert 0 < metrics["mrr"] <= 1
    assert metrics["citation_count"] == 3 and metrics["citation_accuracy"] == pytest.approx(100 * 2 / 3)
    for key in ("f1", "recall@1", "recall@5", "latency_ms_p50", "latency_ms_p95"):
        assert metrics[key] is not None, key
    assert metrics["run"]["top_k"] == 2 and metrics["run"]["retrieval_depth"] == 10

    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == [q["id"] for q in QUESTIONS]
    first = lines[0]
    assert first["prediction"] == "Assad" and first["found"] and first["citation"]["article_id"] == "summit"
    assert first["f1"] == 1.0 and first["gold_rank"] == 1 and first["latency_ms"] >= 0
    assert len(first["retrieved"]) == 5  # the whole small corpus: fewer passages than the depth
    assert lines[2]["prediction"] == "" and not lines[2]["found"]
    assert {"question", "gold_answers", "score", "question_type"} <= set(first)

    report = (out / "report.md").read_text()
    assert "| exact match | 42.86 |" in report and "![" in report
    assert "Who is the UN envoy for Syria?" in report  # listed among answers to unanswerable questions
    for plot in ("f1_by_question_type.png", "latency_histogram.png", "recall_at_k.png", "score_calibration.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", plot
    assert "| recall@10 | 80.00 |" in capsys.readouterr().out


def test_retrieval_for_the_metrics_is_ten_deep_while_the_reader_reads_top_k(tmp_path, fake_assistant):
    gold = load_gold(_jsonl(tmp_path / "gold.jsonl", QUESTIONS[:1]))
    retrieved_depths = []
    original_retrieve = fake_assistant.retrieve
    fake_assistant.retrieve = lambda q, top_k: retrieved_depths.append(top_k) or original_retrieve(q, top_k)
    run_gold_set(fake_assistant, gold, top_k=2, retrieval_depth=10, show_progress=False)
    assert retrieved_depths == [2, 10]  # the ask's own retrieval, then the one judged


def test_conversations_pass_earlier_questions_and_the_assistants_own_answers(tmp_path, fake_assistant):
    gold = load_gold(
        _jsonl(
            tmp_path / "talks.jsonl",
            [
                {
                    "id": "talks",
                    "turns": [
                        {"question": "Where will UN talks resume?", "answers": ["Geneva"]},
                        {"question": "When?", "answers": ["November 28"]},
                        {"question": "Who supports rebels?", "answers": ["Turkey"]},
                        {"question": "When?", "answers": []},
                    ],
                }
            ],
        )
    )
    outcomes = run_gold_set(fake_assistant, gold, top_k=3, show_progress=False)
    assert [history for _, history in fake_assistant.asked] == [
        [],
        [Turn("Where will UN talks resume?", "Geneva")],
        [Turn("Where will UN talks resume?", "Geneva"), Turn("When?", "November 28")],
        [Turn("Where will UN talks resume?", "Geneva"), Turn("When?", "November 28"), Turn("Who supports rebels?", None)],
    ]
    assert [o.id for o in outcomes] == ["talks.1", "talks.2", "talks.3", "talks.4"]
    assert outcomes[1].resolved_question == "Where will UN talks resume? When?"
    assert outcomes[1].exact_match == 1.0 and outcomes[1].question_type == "when"
    assert summarize_outcomes(outcomes)["n"] == 4  # every turn is scored


def test_limit_takes_the_same_seeded_sample_in_file_order(tmp_path):
    gold = load_gold(_jsonl(tmp_path / "gold.jsonl", QUESTIONS))
    first = [q.id for q in gold.sample(3, seed=7).questions]
    assert first == [q.id for q in gold.sample(3, seed=7).questions]
    assert len(first) == 3 and first == [q["id"] for q in QUESTIONS if q["id"] in first]
    assert {tuple(q.id for q in gold.sample(3, seed=s).questions) for s in range(10)} != {tuple(first)}
    assert gold.sample(100, seed=0) is gold


def test_squad_gold_is_judged_on_the_questions_own_paragraph_and_oracle_reads_only_it(tmp_path):
    contexts = [SUMMIT.text.split("\n\n")[0], SUMMIT.text.split("\n\n")[1]]
    squad = {
        "version": "v2.0",
        "data": [{"title": "Summit", "paragraphs": [
            {"context": contexts[0], "qas": [
                {"id": "q1", "question": "Who did Putin meet in Sochi?", "is_impossible": False,
                 "answers": [{"text": "Assad", "answer_start": 10}]}]},
            {"context": contexts[1], "qas": [
                {"id": "q2", "question": "Who is the UN envoy for Syria?", "is_impossible": True, "answers": []}]},
        ]}],
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    gold = load_gold(path)
    assistant = FakeAssistant(list(gold.articles), ANSWERS)

    outcomes = run_gold_set(assistant, gold, top_k=5, show_progress=False)
    assert outcomes[0].gold_rank == 1 and outcomes[0].citation_correct
    assert not outcomes[1].retrieval_judged and outcomes[1].found  # the fake "answers" it anyway

    oracle = run_gold_set(assistant, gold, top_k=5, oracle=True, show_progress=False)
    assert [[p.text for p in passages] for _, passages in assistant.read_calls] == [[contexts[0]], [contexts[1]]]
    # "Putin", the fake's answer, is not in q2's own paragraph: the oracle read nothing else
    assert not oracle[1].found and not oracle[1].retrieval_judged and oracle[0].retrieved == []
    assert summarize_outcomes(oracle)["recall@1"] is None


def test_oracle_refuses_conversations(tmp_path, fake_assistant):
    gold = load_gold(_jsonl(tmp_path / "c.jsonl", [{"id": "c", "turns": [{"question": "Who?", "answers": []}]}]))
    with pytest.raises(BadGoldFileError, match="--oracle"):
        run_gold_set(fake_assistant, gold, top_k=5, oracle=True, show_progress=False)


def test_a_bad_gold_file_is_one_line_and_exit_1(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {bad}:1: not valid JSON")


@pytest.mark.parametrize(
    "question, kind",
    [("How many people died?", "how many"), ("In what year?", "what"), ("When?", "when"),
     ("Whose forces?", "who"), ("How much aid?", "how many"), ("Is it over?", "other")],
)
def test_question_type_is_the_first_wh_word(question, kind):
    assert question_type(question) == kind


def test_a_citation_that_is_not_the_article_text_is_wrong():
    gold = GoldQuestion("q", "Who?", ("Assad",))
    text = SUMMIT.text
    start = text.index("Assad")
    right = Citation("summit", "Summit", 0, start, start + 5)
    assert is_citation_correct(gold, right, "Assad", text)
    assert not is_citation_correct(gold, right, "Asad", text)  # quote differs from the cited offsets
    elsewhere = Citation("summit", "Summit", 0, 0, 5)
    assert not is_citation_correct(gold, elsewhere, "Putin", text)


def test_oracle_fails_clearly_when_the_gold_passage_is_not_in_the_index(tmp_path):
    gold = load_gold(_jsonl(tmp_path / "g.jsonl", [{"id": "x", "question": "Who?", "answers": ["Nobody here"]}]))
    with pytest.raises(BadGoldFileError, match="'x': its gold passage is not in the index"):
        run_gold_set(FakeAssistant([SUMMIT], {}), gold, top_k=5, oracle=True, show_progress=False)


def test_no_answer_threshold_override_reaches_the_assistant_and_the_record(tmp_path, monkeypatch):
    seen = {}
    assistant = FakeAssistant([SUMMIT, WEATHER], ANSWERS)

    def open_assistant(gold_set, index_dir, settings, **options):
        seen["settings"] = settings
        return assistant

    monkeypatch.setattr(eval.corpus, "open_assistant", open_assistant)
    gold = _jsonl(tmp_path / "gold.jsonl", QUESTIONS)
    assert main(["run", str(gold), "--out", str(tmp_path / "run"), "--quiet", "--no-answer-threshold=-inf"]) == 0
    assert seen["settings"].no_answer_threshold == float("-inf")
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["run"]["no_answer_threshold"] == float("-inf")

    assert main(["run", str(gold), "--out", str(tmp_path / "default"), "--quiet"]) == 0
    assert seen["settings"].no_answer_threshold is None  # the reader's shipped threshold
