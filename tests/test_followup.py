"""Follow-up questions are rewritten to stand alone from the conversation so far."""

from qa.followup import is_followup, name_as_written, resolve_followup, retrieval_query
from qa.types import Turn


def test_elliptical_question_borrows_the_previous_question():
    history = [Turn("Where will the UN talks resume?", "Geneva")]
    assert resolve_followup("When?", history) == "When will the UN talks resume?"
    assert resolve_followup("And why?", history) == "Why will the UN talks resume?"
    assert resolve_followup("how many?", [Turn("Who backs the rebels?", "Turkey")]) == "How many backs the rebels?"


def test_pronoun_is_replaced_by_a_named_answer_to_a_who_question():
    history = [Turn("Who did Putin meet in Sochi?", "Bashar al-Assad")]
    assert resolve_followup("When was his first trip to Russia during the war?", history) == \
        "When was Bashar al-Assad's first trip to Russia during the war?"
    assert resolve_followup("What did he say about terrorists?", history) == \
        "What did Bashar al-Assad say about terrorists?"


def test_questions_that_stand_alone_are_left_alone():
    history = [Turn("Who did Putin meet in Sochi?", "Bashar al-Assad")]
    question = "How many people has the war killed?"
    assert resolve_followup(question, history) == question
    assert resolve_followup("When?", []) == "When?"
    assert resolve_followup("When?", None) == "When?"


def test_unresolved_followup_searches_with_the_previous_turn():
    history = [Turn("What does Turkey support?", "rebels who want to oust the Syrian president")]
    question = "Who supports them?"
    resolved = resolve_followup(question, history)
    assert resolved == question  # the answer is no name: nothing to substitute
    query = retrieval_query(question, resolved, history)
    assert "Turkey" in query and "rebels" in query and query.startswith(question)
    assert is_followup(question) and not is_followup("How many people has the Syrian war killed so far?")


def test_no_answer_previous_turn_does_not_break_resolution():
    history = [Turn("Who won the election?", None)]
    assert resolve_followup("When was he born?", history) == "When was he born?"


ARTICLE = ("Syrian President Bashar al-Assad met Putin in Sochi. Assad thanked him. It was Assad's second visit. "
           "Iranian President Hassan Rohani declared the end of Islamic State. State media carried it.")


def test_a_name_is_written_the_way_the_articles_use_it_after_first_mention():
    assert name_as_written("Bashar al-Assad", [ARTICLE]) == "Assad"  # 1 full mention, 2 by surname alone
    assert name_as_written("Syrian President Bashar al-Assad", [ARTICLE]) == "Assad"
    assert name_as_written("Hassan Rohani", [ARTICLE]) == "Hassan Rohani"  # never by surname alone
    assert name_as_written("Islamic State", [ARTICLE]) == "Islamic State"  # one "State" alone against one in full
    assert name_as_written("Assad", [ARTICLE]) == "Assad"
    assert name_as_written("the rebels", [ARTICLE]) == "the rebels"
    assert name_as_written("Bashar al-Assad", []) == "Bashar al-Assad"  # nothing to go by: the full name


def test_pronoun_follow_up_uses_the_name_form_it_is_given():
    history = [Turn("Who did Putin meet in Sochi?", "Bashar al-Assad")]
    resolved = resolve_followup("When was his first trip to Russia?", history,
                                lambda name: name_as_written(name, [ARTICLE]))
    assert resolved == "When was Assad's first trip to Russia?"


def test_an_elliptical_question_may_start_with_a_preposition_or_ask_for_a_kind_of_thing():
    history = [Turn("Where will the climate summit be held?", "Glasgow")]
    assert resolve_followup("In which month?", history) == "In which month will the climate summit be held?"
    assert resolve_followup("And what year?", history) == "What year will the climate summit be held?"
    assert resolve_followup("Since when?", [Turn("Who leads the party?", "Keir Starmer")]) == \
        "Since when leads the party?"
    # "What for?" asks why, "What happened?" and "What next?" ask something new: no phrase to borrow
    for question in ("What for?", "What happened?", "What happens now?", "What next?", "What if?", "What kind?"):
        assert resolve_followup(question, history) == question
    assert resolve_followup("Which countries?", history) == "Which countries will the climate summit be held?"


def test_the_whole_question_phrase_of_the_previous_question_is_replaced():
    history = [Turn("Which minister did the chancellor speak with?", "Annalena Baerbock")]
    # the old phrase left "with" hanging: the previous answer goes back in its place
    assert resolve_followup("When?", history) == "When did the chancellor speak with Annalena Baerbock?"
    # ... or right before another preposition
    history = [Turn("Who did the chancellor speak to after the summit?", "Annalena Baerbock")]
    assert resolve_followup("On what day?", history) == \
        "On what day did the chancellor speak to Annalena Baerbock after the summit?"
    # "over" before "to" is a verb's particle ("hand over to"), not a preposition left hanging
    history = [Turn("What did the ministers hand over to the court?", "the documents")]
    assert resolve_followup("When?", history) == "When did the ministers hand over to the court?"
    history = [Turn("Which company did Microsoft buy in 2023?", "Activision")]
    assert resolve_followup("For how much?", history) == "For how much did Microsoft buy in 2023?"
    # a subject question: only the question word is replaced
    assert resolve_followup("Why?", [Turn("Which airline cancelled flights?", "Lufthansa")]) == \
        "Why airline cancelled flights?"


def test_a_demonstrative_takes_the_noun_phrase_an_earlier_question_used():
    history = [Turn("When do the Geneva peace talks resume?", "Monday"), Turn("Who chairs them?", None)]
    assert resolve_followup("What are those talks about?", history) == "What are the Geneva peace talks about?"
    # no determiner before the noun in the earlier question: nothing more to say than "those"
    question = "Who do those rebels want to oust?"
    assert resolve_followup(question, [Turn("Which country supports rebels in Syria?", "Turkey")]) == question
    # a pronoun in the same question is still resolved
    history = [Turn("Who called off the Geneva peace talks?", "Antonio Guterres")]
    assert resolve_followup("Why did he call off those talks?", history) == \
        "Why did Antonio Guterres call off the Geneva peace talks?"
    # "that" before a name is no demonstrative
    question = "Did he say that Putin agreed?"
    assert resolve_followup(question, [Turn("Who met the Putin delegation?", None)]) == question
