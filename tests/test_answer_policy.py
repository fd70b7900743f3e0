"""What an answer carries and when there is none: the article's paragraph numbers, a calibrated
score with its label, a close-but-unconfirmed candidate, markup never quoted, a question back for
a bare follow-up, and which retrieved passages relate to the question."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from index.types import Article
from qa import Assistant, Settings
from qa.confidence import CALIBRATION_FILE, LABELS, Calibration, LogisticConfidence, load_calibration
from qa.errors import ReaderError
from qa.followup import clarification, is_bare_followup
from qa.reader.training.calibrate import fit, fit_isotonic, leave_one_group_out, lowest_threshold
from qa.reader.decode import NOT_CONTEXT, Span, Window, best_span
from qa.reader.markup import is_markup
from qa.reader.transformers_reader import PassageReading, ReaderSettings, load_reader_settings
from qa.formats import result_to_text
from qa.retrieve import is_related, question_terms
from qa.types import Turn

from conftest import BUNDLED, SHIPPED_READER
from fakes import HashEmbedder, ReadsOneByOne
from ui_support import fast_assistant

CALIBRATION = Calibration(raw_scores=(0.0, 1.0, 2.0, 4.0), probabilities=(0.1, 0.3, 0.5, 0.95),
                          high=0.9, medium=0.5, candidate_floor=0.25)


class ScriptedReader(ReadsOneByOne):
    """Quotes, in each passage, the first of its (text, margin) pairs found there."""

    def __init__(self, spans: list[tuple[str, float]], threshold: float = 1.0, calibration=CALIBRATION):
        self.spans = spans
        self.settings = ReaderSettings(no_answer_threshold=threshold, calibration=calibration)
        self.calls = 0

    def warm_up(self):
        pass

    def read(self, question, passages):
        self.calls += 1
        readings = []
        for text in passages:
            span = None
            for quote, margin in self.spans:
                if quote in text:
                    start = text.index(quote)
                    span = Span(start, start + len(quote), margin, 0.0)
                    break
            readings.append(PassageReading(span, 0.0))
        return readings


def scripted(tmp_path, spans, articles=(BUNDLED,), **reader):
    folder = tmp_path / "idx"
    return Assistant.build(list(articles), folder, Settings(index_dir=folder, top_k=3), embedder=HashEmbedder(),
                           reader=ScriptedReader(spans, **reader))


# worded like the passage that holds "Geneva", so retrieval ranks it first and its raw score is its margin
GENEVA = "Where are the United Nations-sponsored negotiations that look to establish a political solution due to resume?"


def ask_geneva(assistant):
    result = assistant.ask(GENEVA)
    assert "Geneva" in result.passages[0].text
    return result


def paragraph_number(text: str, offset: int) -> int:
    """Counted independently of the code under test: blank-line separated blocks before the offset."""
    return len(re.split(r"\n\s*\n", text[:offset].strip())) if text[:offset].strip() else 1


# ---- paragraph numbers -------------------------------------------------------------------------
def test_a_citation_names_the_articles_own_paragraph_not_the_passage(tmp_path):
    assistant = fast_assistant(tmp_path)
    result = assistant.ask("Where will the UN talks resume?")
    c = result.citation
    text = assistant.collection.article(c.article_id).text
    assert c.paragraphs == (paragraph_number(text, c.start),)
    # in the bundled article short paragraphs are merged into passages: the third passage holds the
    # article's 4th and 5th paragraphs, and the quote is in the 4th
    assert (c.passage, c.paragraphs) == (2, (4,))
    assert "¶ 4," in result_to_text(result)


def test_a_quote_over_two_paragraphs_names_both(tmp_path):
    caption = "Russian President Vladimir Putin (left) and his Syrian counterpart"
    assistant = scripted(tmp_path, [(caption, 3.0)])
    first_passage = assistant.collection.passages_of(assistant.collection.articles()[0].id)[0]
    assistant.reader.spans = [(first_passage.text, 3.0)]  # the whole passage: two short paragraphs
    result = assistant.ask("After surprise talks in Sochi with Syrian President Bashar al-Assad, what did Putin say?")
    assert result.found and result.citation.paragraphs == (1, 2)
    assert "¶ 1\u20132" in result_to_text(result)


def test_paragraph_numbers_from_offsets():
    from index.split import paragraph_numbers, paragraph_spans

    text = "First one.\n\n\nSecond one here.\n  \nThird."
    spans = paragraph_spans(text)
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one here.", "Third."]
    second = text.index("Second")
    assert paragraph_numbers(spans, second, second + 6) == (2,)
    assert paragraph_numbers(spans, 0, len(text)) == (1, 2, 3)
    assert paragraph_numbers(spans, text.index("Third"), len(text)) == (3,)
    assert paragraph_numbers(spans, 10, 13) == ()  # only the blank lines between paragraphs
    assert paragraph_numbers([], 0, 5) == ()


# ---- calibrated score, label, candidate ----------------------------------------------------------
@pytest.mark.parametrize("margin, probability, label", [(4.5, 0.95, "high"), (3.0, 0.725, "medium"),
                                                         (1.5, 0.4, "low")])
def test_the_score_is_the_calibrated_probability_and_the_label_its_band(tmp_path, margin, probability, label):
    result = ask_geneva(scripted(tmp_path, [("Geneva", margin)]))
    assert result.found and result.answer == "Geneva"
    assert result.score == pytest.approx(probability) and result.confidence == label
    assert result.candidate is None


def test_a_span_that_came_close_is_a_candidate_not_an_answer(tmp_path):
    assistant = scripted(tmp_path, [("Geneva", 0.9)])  # below the threshold (1.0), above the floor's score
    result = ask_geneva(assistant)
    assert not result.found and result.answer is None and result.score is None and result.confidence is None
    candidate = result.candidate
    assert candidate.answer == "Geneva" and candidate.score == pytest.approx(0.28)
    assert candidate.context[candidate.context_start:candidate.context_end] == "Geneva"
    c = candidate.citation
    assert assistant.collection.article(c.article_id).text[c.start:c.end] == "Geneva" and c.paragraphs == (4,)
    text = result_to_text(result)
    assert "Not stated clearly; closest: \u201cGeneva\u201d" in text and "unconfirmed" in text
    assert "¶ 4" in text


def test_a_span_far_below_the_threshold_is_no_candidate(tmp_path):
    result = ask_geneva(scripted(tmp_path, [("Geneva", 0.5)]))  # probability 0.2
    assert not result.found and result.candidate is None


def test_a_reader_without_calibration_keeps_the_logistic_score(tmp_path):
    result = fast_assistant(tmp_path).ask("Where will the UN talks resume?")  # margin 5 over threshold 0
    rank = [p.paragraph for p in result.passages].index(result.citation.passage) + 1
    raw = 5.0 - math.log(rank)
    assert result.score == pytest.approx(round(1 / (1 + math.exp(-raw)), 4)) and result.confidence == "high"
    assert LogisticConfidence(1.0).label(0.7) == "medium" and LogisticConfidence(1.0).probability(-1e9) == 0.0


def test_a_calibration_is_monotone_and_clamped():
    assert CALIBRATION.probability(-5) == 0.1 and CALIBRATION.probability(50) == 0.95
    assert CALIBRATION.probability(float("nan")) == 0.0
    with pytest.raises(ValueError, match="monotone"):
        Calibration((0.0, 1.0), (0.6, 0.5), 0.9, 0.5, 0.2)


def test_a_calibration_file_loads_with_the_readers_settings(tmp_path):
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps({
        "table": {"raw_scores": [0, 2], "probabilities": [0.2, 0.8]}, "labels": {"high": 0.9, "medium": 0.5},
        "candidate_floor": 0.3}))
    assert load_calibration(tmp_path) == Calibration((0.0, 2.0), (0.2, 0.8), 0.9, 0.5, 0.3)
    assert load_reader_settings(tmp_path).calibration == load_calibration(tmp_path)
    assert load_calibration(tmp_path / "elsewhere") is None
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps({"table": {}}))
    with pytest.raises(ReaderError, match="not a calibration table"):
        load_reader_settings(tmp_path)


def test_the_shipped_reader_carries_its_calibration_and_how_it_was_made():
    calibration = load_reader_settings(SHIPPED_READER).calibration
    assert calibration is not None and calibration.medium <= calibration.high
    document = json.loads((SHIPPED_READER / CALIBRATION_FILE).read_text())
    high = document["heldout"]["leave_one_article_out"]["high"]
    if document["labels"]["high"] is None:  # no 50 held-out answers were right 90% of the time
        assert high["n"] == 0 and calibration.label(calibration.probabilities[-1]) != "high"
    else:  # the promise the label makes, on articles the map did not see
        assert high["n"] >= 50 and high["accuracy"] >= 0.9
    candidates = document["heldout"]["leave_one_article_out"]["candidates"]
    assert candidates["n"] == 0 or candidates["accuracy"] >= 0.3
    assert document["data"]["questions"] >= 1000 and "F1 >= 0.5" in document["correct"]


def test_isotonic_fit_is_monotone_and_labels_rest_on_enough_answers():
    rng = np.random.default_rng(1)
    raw = rng.normal(2, 3, size=2000)
    right = (rng.random(2000) < 1 / (1 + np.exp(-(raw - 1)))).astype(float)
    xs, ps = fit_isotonic(raw, right)
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ps) >= 0) and 0 < ps[0] and ps[-1] < 1
    probability = np.interp(raw, xs, ps)
    t = lowest_threshold(probability, right, 0.9)
    assert right[probability >= t].mean() >= 0.9 and right[probability >= t - 0.05].mean() < 0.9 + 0.05
    assert lowest_threshold(probability, right, 1.01) is None
    groups = np.arange(2000) % 5
    assert leave_one_group_out(raw, right, groups).shape == (2000,)
    rows = [{"raw": float(r), "f1": float(c), "title": str(g), "has_answer": True} for r, c, g in zip(raw, right, groups)]
    document = fit(rows, threshold=1.0)
    assert document["heldout"]["leave_one_article_out"]["high"]["accuracy"] >= 0.9
    assert document["labels"]["medium"] <= document["labels"]["high"]


# ---- markup is never an answer ---------------------------------------------------------------------
@pytest.mark.parametrize("span", ['<div class="x">', "{{ }}", "| --- |", "***", "&nbsp;", "](https://e.org/a)",
                                  "\u2014", "[1]", "<!-- ad -->"])
def test_markup_and_punctuation_spans_are_markup(span):
    assert is_markup(span)


@pytest.mark.parametrize("span", ["Jane Roe", "330,000", "U.S.", "$1.5bn", "(IS)", "9/11", "https://example.org/apply",
                                  "\u6771\u4eac", "Z\u00fcrich", "6.1 million"])
def test_words_numbers_and_addresses_are_not_markup(span):
    assert not is_markup(span)


def test_markup_is_judged_in_its_passage():
    text = 'By <div class="byline">Jane Roe</div> in Geneva'
    start = text.index('div class="byline"')
    assert is_markup(text, start, start + len('div class="byline"'))  # inside a tag, though it has words
    assert not is_markup(text, text.index("Jane"), text.index("Jane") + 8)


def test_decoding_moves_to_the_next_best_span_when_the_best_is_rejected():
    offsets = [NOT_CONTEXT, NOT_CONTEXT, (0, 5), (10, 15), (20, 25)]
    window = Window(np.array([0, 0, 6.0, 4.0, 0]), np.array([0, 0, 6.0, 4.0, 0]), offsets)
    assert best_span([window])[0].char_start == 0
    span, _ = best_span([window], keep=lambda s, e: s != 0)
    assert (span.char_start, span.char_end) == (10, 15) and span.score == 8.0
    assert best_span([window], keep=lambda s, e: False)[0] is None


MARKUP_ARTICLE = Article("markup", "Testville council", "", None, "\n\n".join([
    '<div class="byline">Testville Herald staff</div> The Testville council met on Tuesday to choose who would '
    "run the harbour works this winter, and it heard from residents for two hours.",
    "The council chose Jane Roe to run the harbour works, and she will start in March, the council said on "
    "Tuesday after a long meeting about the harbour.",
]))


def test_a_markup_span_from_any_reader_gives_way_to_the_next_passage(tmp_path):
    assistant = scripted(tmp_path, [('<div class="byline">', 9.0), ("Jane Roe", 3.0)], articles=[MARKUP_ARTICLE])
    result = assistant.ask("Who will run the Testville harbour works?")
    assert result.found and result.answer == "Jane Roe"
    assistant.reader.spans = [('<div class="byline">', 9.0), ("| --- |", 9.0)]
    result = assistant.ask("Who will run the Testville harbour works?")
    assert not result.found and result.candidate is None


def test_the_real_reader_never_quotes_markup(shipped_reader):
    text = ('<table class="results"><tr><td>{{ winner }}</td></tr></table> | --- | --- | *** '
            '<div class="credit" id="photo-credit">Photo: Reuters</div> '
            "The race was won by Jane Roe of Testville, who finished in 2 hours and 5 minutes.")
    questions = ["What is the class of the table?", "What is the id of the credit?", "Who won the race?",
                 "What is the winner?", "What separates the columns?"]
    for question in questions:
        reading = shipped_reader.read(question, [text])[0]
        if reading.span is not None:
            assert not is_markup(text, reading.span.char_start, reading.span.char_end), question
    unfiltered = [best_span(shipped_reader._windows(q, [text])[0])[0] for q in questions]
    # the filter has work to do: some question's best raw span is markup
    assert any(s is not None and is_markup(text, s.char_start, s.char_end) for s in unfiltered)


# ---- a question back for a bare follow-up --------------------------------------------------------------
@pytest.mark.parametrize("question", ["When?", "Why?", "And him?", "What about it?", "Who is he?", "how many?",
                                      "And where exactly?", "Why not?"])
def test_bare_followups(question):
    assert is_bare_followup(question)


@pytest.mark.parametrize("question", ["When did the talks resume?", "Who is Assad?", "What happened in Sochi?",
                                      "\u00bfCu\u00e1ndo?", "???"])
def test_questions_with_words_of_their_own(question):
    assert not is_bare_followup(question)


def test_the_question_back_names_what_is_missing():
    assert clarification("When?", "When?", None) == ('What would you like to know "when" about? Ask the whole '
                                                     'question, for example "When will the talks resume?"')
    assert clarification("How many?", "How many?", []).startswith('What would you like to know "how many"')
    assert clarification("And him?", "And him?", None).startswith('Who do you mean by "him"?')
    assert clarification("What about it?", "What about it?", None).startswith('What do you mean by "it"?')
    unanswered = [Turn("Who won the election?", None)]
    assert clarification("And him?", "And him?", unanswered) is not None
    assert clarification("When?", "When will the UN talks resume?", unanswered) is None  # rewritten: askable
    assert clarification("And him?", "And him?", [Turn("Who met Putin?", "Assad")]) is None  # searched with the turn
    assert clarification("When did the talks resume?", "When did the talks resume?", None) is None


def test_a_bare_followup_with_nothing_to_follow_is_answered_with_a_question(tmp_path):
    assistant = fast_assistant(tmp_path)
    results = assistant.ask_many([("When?", None), ("And him?", [Turn("Who won the election?", None)]),
                                  ("Where will the UN talks resume?", None)])
    for result in results[:2]:
        assert not result.found and result.passages == [] and result.candidate is None
        assert result.clarification and result.resolved_question == result.question
        assert result_to_text(result) == result.clarification
    assert results[2].found and results[2].clarification is None
    calls = assistant.reader.calls
    assert assistant.ask("And him?").clarification.startswith('Who do you mean by "him"?')
    assert assistant.reader.calls == calls  # nothing read for a question back


def test_a_bare_followup_with_a_turn_to_follow_is_answered(tmp_path):
    assistant = fast_assistant(tmp_path)
    for answer in ("Geneva", None):  # an unanswered question can still be rewritten
        result = assistant.ask("When?", [Turn("Where will the UN talks resume?", answer)])
        assert result.clarification is None and result.found and result.answer == "November 28"


# ---- related passages --------------------------------------------------------------------------------
def test_related_means_a_shared_content_word_or_a_close_meaning():
    terms = question_terms("Where will the UN talks resume?")
    assert is_related(terms, "The talk resumed in Geneva.", None, 0.5)  # stems match
    assert not is_related(terms, "Where will it be? It will.", None, 0.5)  # stop and question words do not count
    assert is_related(terms, "Negotiations restart in Geneva.", 0.62, 0.5)  # a paraphrase, by cosine
    assert not is_related(terms, "Negotiations restart in Geneva.", 0.31, 0.5)


# ---- the real models -----------------------------------------------------------------------------------
def test_real_answers_carry_paragraphs_a_label_and_a_probability(bundled_assistant):
    result = bundled_assistant.ask("Where will the UN talks resume?")
    assert result.found and "Geneva" in result.answer
    assert result.citation.paragraphs == (4,) and result.confidence in LABELS and 0 <= result.score <= 1
    assert all(isinstance(p.related, bool) for p in result.passages) and result.passages[0].related
    far = bundled_assistant.ask("Who won the 2018 FIFA World Cup?")
    assert not far.found


def test_a_question_in_markup_gets_the_answer_it_gets_without(bundled_assistant):
    plain = bundled_assistant.ask("Where did Putin host Assad?")
    tagged = bundled_assistant.ask("<b>Where</b> did\n Putin  host <i>Assad</i>?")
    assert plain.found and "Sochi" in plain.answer
    assert tagged.question == "Where did Putin host Assad?"
    assert (tagged.found, tagged.answer, tagged.score, tagged.citation) == \
        (plain.found, plain.answer, plain.score, plain.citation)
