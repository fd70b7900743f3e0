"""The evaluation through the real `qa.Assistant`: with stand-in models (fast) and with the shipped ones (slow)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from eval.__main__ import main
from eval.corpus import open_assistant, squad_corpus_dir
from eval.gold_questions import load_gold
from eval.run_metrics import summarize_outcomes
from eval.runner import run_gold_set
from fakes import HashEmbedder, KeywordReader
from qa.settings import BUNDLED_ARTICLE, SHIPPED_READER, Settings

GOLD_DIR = Path(__file__).resolve().parents[1] / "eval" / "gold"
SAMPLES = Path(__file__).parent / "samples"
# keys are matched, in order, against the question the reader gets, i.e. after follow-up resolution
KEYWORD_ANSWERS = {
    "meet in Sochi": "Bashar al-Assad",
    "first trip to Russia": "October 2015",
    "When will the UN talks": "November 28",
    "UN talks resume": "Geneva",
}


def test_conversations_through_the_real_assistant_with_stand_in_models(tmp_path):
    gold = load_gold(GOLD_DIR / "bundled-conversations.jsonl")
    first_two = dataclasses.replace(gold, conversations=gold.conversations[:2])
    # a private cache: the bundled index built here holds stand-in vectors no other test should load
    settings = Settings.from_env(cache_dir=tmp_path / "cache")
    assistant = open_assistant(first_two, None, settings, embedder=HashEmbedder(), reader=KeywordReader(KEYWORD_ANSWERS))
    outcomes = run_gold_set(assistant, first_two, top_k=3, show_progress=False)

    by_id = {o.id: o for o in outcomes}
    follow_up = by_id["first-visit-followup.2"]
    assert follow_up.prediction == "October 2015" and follow_up.exact_match == 1.0
    assert by_id["un-talks-followup.2"].resolved_question == "When will the UN talks resume?"
    assert by_id["un-talks-followup.2"].prediction == "November 28"
    assert all(o.citation_correct for o in outcomes if o.found)
    assert all(len(o.retrieved) == 10 for o in outcomes)
    metrics = summarize_outcomes(outcomes)
    assert metrics["n"] == 4 and metrics["exact_match"] == 100.0 and metrics["recall@10"] == 100.0


def test_squad_corpus_is_indexed_once_and_cached_by_the_files_hash(tmp_path):
    gold = load_gold(SAMPLES / "tiny-squad.json")
    settings = Settings.from_env(cache_dir=tmp_path / "cache")
    parts = {"embedder": HashEmbedder(), "reader": KeywordReader({"games": "Winter Olympics", "climate": "subtropical"})}
    assistant = open_assistant(gold, None, settings, progress=False, **parts)
    corpus_dir = squad_corpus_dir(gold, settings)
    assert (corpus_dir / "index.sqlite").exists() and gold.sha256[:16] in corpus_dir.name
    built = assistant.collection.describe()["segments"]

    again = open_assistant(gold, None, settings, progress=False, **parts)
    assert again.collection.describe()["segments"] == built  # loaded, not rebuilt (a write makes a new segment)
    assert [a.id for a in again.collection.articles()] == [a.id for a in assistant.collection.articles()]

    outcomes = run_gold_set(again, gold, top_k=2, show_progress=False)
    assert [o.exact_match for o in outcomes] == [1.0, 1.0]
    assert all(o.gold_rank is not None and o.citation_correct for o in outcomes)
    oracle = run_gold_set(again, gold, top_k=2, oracle=True, show_progress=False)
    assert [o.prediction for o in oracle] == ["Winter Olympics", "subtropical"]


@pytest.mark.slow
def test_command_line_run_with_the_shipped_models(tmp_path, capsys):
    if not (SHIPPED_READER / "model.safetensors").exists():
        pytest.skip("the shipped reader is not in qa/reader/weights yet")
    out = tmp_path / "run"
    gold = GOLD_DIR / "bundled-article.jsonl"
    assert main(["run", str(gold), "--limit", "8", "--seed", "1", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 8 and metrics["run"]["corpus"] == "the bundled article"
    article = BUNDLED_ARTICLE.read_text(encoding="utf-8")
    for line in (out / "predictions.jsonl").read_text().splitlines():
        outcome = json.loads(line)
        if outcome["found"]:  # every answer is a quote of the article at its cited offsets
            citation = outcome["citation"]
            assert outcome["prediction"] in article
            assert citation["end"] - citation["start"] == len(outcome["prediction"])
    assert (out / "report.md").exists() and "| exact match |" in capsys.readouterr().out
