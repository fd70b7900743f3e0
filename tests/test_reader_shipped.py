"""The shipped MiniLM reader (`--reader minilm`, the fast option): loads offline from the package, answers real questions, abstains when it should."""

import os
import subprocess
import sys
import zipfile

import pytest

from qa.types import Turn

from conftest import ROOT, SHIPPED_READER

ANSWERABLE = [
    ("Who did Putin meet in Sochi?", "Bashar al-Assad"),
    ("How many people have been killed in the Syrian war?", "330,000"),
    ("Where are the UN-sponsored negotiations due to resume?", "Geneva"),
    ("How many people have become refugees because of the war?", "6.1 million"),
    ("Which country supports rebels who want to oust the Syrian president?", "Turkey"),
    ("When was Assad's first visit to Russia during the war?", "October 2015"),
]


def test_weights_are_shipped_small_and_in_fp16():
    weights = SHIPPED_READER / "model.safetensors"
    assert weights.exists(), "qa/reader/weights/model.safetensors is part of the package"
    assert weights.stat().st_size <= 60 * 2**20
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        dtypes = {str(f.get_slice(name).get_dtype()) for name in f.keys()}
    assert dtypes == {"F16"}
    assert (SHIPPED_READER / "MODEL_CARD.md").exists()


@pytest.mark.parametrize("question,expected", ANSWERABLE)
def test_answers_real_questions_with_exact_quotes(bundled_assistant, question, expected):
    result = bundled_assistant.ask(question)
    assert result.found, result
    assert expected in result.answer
    article = bundled_assistant.collection.article(result.citation.article_id)
    assert article.text[result.citation.start:result.citation.end] == result.answer
    assert result.context[result.context_start:result.context_end] == result.answer
    # a calibrated probability: an answer just over the no-answer threshold is right about half the time
    assert 0.0 < result.score <= 1.0 and result.confidence in ("high", "medium", "low")


@pytest.mark.xfail(strict=True, reason="known MiniLM reader error (model card; the default MPNet reader gets it right): "
                   "it quotes the date of the Sochi meeting, November 20, from the sentence that also "
                   "gives the summit's November 22")
def test_known_error_the_summit_date(bundled_assistant):
    result = bundled_assistant.ask("When will the presidents of Russia, Turkey, and Iran meet?")
    assert result.found and "November 22" in result.answer


def test_follow_up_after_a_full_name_is_asked_with_the_surname_the_article_uses(bundled_assistant):
    first = bundled_assistant.ask("Who did Putin meet in Sochi?")
    assert first.answer == "Bashar al-Assad"
    result = bundled_assistant.ask("When was his first trip to Russia during the war?",
                                   history=[Turn("Who did Putin meet in Sochi?", first.answer)])
    assert result.resolved_question == "When was Assad's first trip to Russia during the war?"
    assert result.found and "October 2015" in result.answer


@pytest.mark.parametrize("question", ["What is the population of Sochi?",
                                      "Who won the 2018 FIFA World Cup?"])
def test_says_not_found_instead_of_guessing(bundled_assistant, question):
    result = bundled_assistant.ask(question)
    assert not result.found and result.answer is None and result.citation is None
    assert result.passages  # the closest passages are still shown


def test_wheel_carries_the_reader_and_it_loads_offline_from_the_install(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("newsqa-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("qa/reader/weights/model.safetensors", "qa/reader/weights/tokenizer.json",
                   "qa/reader/weights/reader_config.json", "qa/data/putin-hosts-assad-in-sochi.txt",
                   "eval/gold/bundled-article.jsonl"):
        assert needed in names
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp_path / "site"),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    code = ("import qa.settings, sys; from qa.reader.transformers_reader import TransformersReader; "
            "r = TransformersReader(qa.settings.SHIPPED_READER); "
            "t = 'The talks resume in Geneva on November 28.'; s = r.read('Where do the talks resume?', [t])[0].span; "
            "print(qa.settings.SHIPPED_READER); print(t[s.char_start:s.char_end])")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"), HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300, check=True).stdout.splitlines()
    assert out[0].startswith(str(tmp_path / "site"))
    assert out[1] == "Geneva"


def test_question_in_another_language_gets_a_normal_result(bundled_assistant):
    result = bundled_assistant.ask("¿Dónde se reanudarán las negociaciones de la ONU?")
    if result.found:  # whatever it decides, a quote is still an exact slice
        article = bundled_assistant.collection.article(result.citation.article_id)
        assert article.text[result.citation.start:result.citation.end] == result.answer
    else:
        assert result.answer is None


def test_a_quote_stays_inside_one_article_paragraph(bundled_assistant):
    # The passage that answers this holds two short paragraphs; "Sochi" appears on both sides.
    result = bundled_assistant.ask("Where did Putin and Assad hold their talks?")
    assert result.found and "Sochi" in result.answer
    assert "\n" not in result.answer
