"""An answer fits its question: who → a person or organisation, where → a place, when → a time,
how many / how much → a number; the reader's next best fitting span stands in for one that does not."""

import pytest

from qa.answer_type import ALL_RULES, PERSON, PLACE, QUANTITY, RULES, TIME, fits, misfits, question_type


@pytest.mark.parametrize("question,kind", [
    ("Who did Putin meet?", PERSON), ("whose idea was it?", PERSON), ("Where will the UN talks resume?", PLACE),
    ("When will the presidents meet?", TIME), ("How many people died?", QUANTITY),
    ("How much did it cost?", QUANTITY), ("How did it end?", None), ("What happened?", None),
    ("How much influence did they have?", None),  # a degree: "enormous" answers it
])
def test_the_question_word_names_the_type(question, kind):
    assert question_type(question) == kind


def span_fits(question, passage, answer):
    """By every rule, applied or not (`CHECKED_RULES` says which the answer policy applies)."""
    start = passage.index(answer)
    return fits(question_type(question), passage, start, start + len(answer), question, ALL_RULES)


@pytest.mark.parametrize("question,passage,answer,ok", [
    ("Who did Putin meet?", "Putin hosted Assad in Sochi on Monday.", "Sochi", False),  # a place
    ("Who did Putin meet?", "Putin hosted Assad in Sochi on Monday.", "Assad", True),
    ("Who did Putin meet?", "Putin met leaders on November 20.", "November 20", False),  # a date
    ("Who did Putin meet?", "Putin spoke about Russia and its allies.", "Russia", False),  # a country
    ("Who is Turkey's president?", "the Syrian president met Recep Tayyip Erdogan", "Syrian president", False),
    ("Who is Turkey's president?", "the Syrian president met Recep Tayyip Erdogan", "Recep Tayyip Erdogan", True),
    ("Who is Erdogan?", "Erdogan and Hassan Rohani, the president of Iran", "Hassan Rohani", False),
    ("Who is Erdogan?", "Erdogan, the president of Turkey, spoke", "the president of Turkey", True),
    ("When will they meet?", "They meet on November 22 in Sochi.", "November 22", True),
    ("When will they meet?", "They meet on November 22 in Sochi.", "Sochi", False),
    ("How many died?", "Twenty-three people died in Aleppo.", "Twenty-three people", True),
    ("How many died?", "Hundreds died in Aleppo.", "Hundreds", True),
    ("How many died?", "Hundreds died in Aleppo.", "Aleppo", False),
    ("Where will the talks resume?", "Talks resume in Geneva on November 28.", "Geneva", True),
    ("Where will the talks resume?", "Talks resume in Geneva on November 28.", "November 28", False),
    ("What did they discuss?", "They discussed Syria in Sochi.", "Sochi", True),  # not checked
    ("How many radio networks does it run?", "It runs two networks.", "two", True),  # below three is a number too
    ("How much have deaths increased?", "Deaths increased fourfold.", "fourfold", True),
    ("Who was Apollo's son?", "Asclepius the healer was his son.", "Asclepius the healer", True),
    ("Who is the physician of the Gods?", "Paean is the physician of the Gods.", "Paean", True),
    ("Who is referred to as nobilitas?", "The hereditary szlachta were called nobilitas.", "hereditary szlachta", True),
    ("Who was the first African country online?", "Somalia was first.", "Somalia", True),  # asks for a country
    ("Who greeted Assad?", "Assad arrived in Sochi, where Putin greeted him.", "Sochi", False),  # a city
])
def test_rules_over_the_span(question, passage, answer, ok):
    assert span_fits(question, passage, answer) is ok


def test_a_misfit_names_the_rules_it_breaks():
    passage = "Talks resume in Geneva on November 28."
    start = passage.index("November 28")
    assert misfits(PLACE, passage, start, start + len("November 28")) == ["place_not_time"]
    assert misfits(PLACE, passage, passage.index("Geneva"), passage.index("Geneva") + 6) == []
    assert misfits(None, passage, 0, 5) == []


def test_only_the_rules_that_passed_the_measurement_are_applied():
    import json
    from pathlib import Path

    from qa.answer_type import CHECKED_RULES, checked_type

    results = json.loads((Path(__file__).parent.parent / "benchmarks/results/answer-type-check.json").read_text())
    assert set(results["rules"]) == ALL_RULES
    assert CHECKED_RULES == {name for name, r in results["rules"].items() if r["keep"]} == set(results["kept"])
    for question in ("Where did Putin host Assad?", "Who did Putin meet?", "When?", "How many died?"):
        kind = question_type(question)
        assert (checked_type(question) == kind) is bool(CHECKED_RULES & set(RULES[kind]))
    # a rule that is not applied changes nothing, while applying it does
    assert checked_type("Where did Putin host Assad?", frozenset({"place_not_time"})) == PLACE


@pytest.mark.parametrize("question,answer", [
    ("Where did Putin host Assad?", "Sochi"),
    ("Where will the UN talks resume?", "Geneva"),
])
def test_place_answers_on_the_bundled_article_fit_and_stay(bundled_assistant, question, answer):
    result = bundled_assistant.ask(question)
    assert result.found and result.answer == answer
    assert fits(question_type(question), result.context, result.context_start, result.context_end, question)
