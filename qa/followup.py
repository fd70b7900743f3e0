"""Resolve a follow-up question against the conversation so far, so it can stand alone.

Three patterns cover most follow-ups in a chat about an article:
- an elliptical question ("When?", "And where?", "On what date?", "In which city?"): the previous
  question with its question phrase replaced ("Where will the UN talks resume?" + "When?" -> "When
  will the UN talks resume?"; "Which president did Putin plan to call?" + "When?" -> "When did
  Putin plan to call?"), and the previous answer put back where the old question phrase left a
  preposition hanging ("... talk with?" -> "... talk with Donald Trump?", "... talk to after
  meeting Assad?" -> "... talk to Donald Trump after meeting Assad?");
- a pronoun pointing back ("When was his first trip...?" after "Who did Putin meet?"): the
  pronoun is replaced by the previous answer when that answer is a name, in the form the
  articles use after first mention ("Assad's" for "Bashar al-Assad", see `name_as_written`);
- a demonstrative noun phrase ("those talks") whose noun an earlier question named in full ("the
  Astana peace talks").
A question with no word of its own ("When?", "And him?") and nothing to follow (no history, or
no turn it can be rewritten from or searched with) gets a question back (`clarification`).
What this leaves out: real coreference resolution; anything it cannot resolve is passed on
unchanged, with the previous turn's words appended for retrieval only (see `retrieval_query`).
"They" after "Which foreign ministers met on November 19?" is one such: rewritten to "the foreign
ministers", the question loses the restriction that picked them out ("met on November 19"), and on
the bundled conversations that cost more than it gained; searching with the previous turn does better.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from qa.types import Turn

_PREPOSITION = r"(?:on|in|at|by|for|from|since|until|till|during|to|with|after|before|about|of|into|over|under|through)"
# A word that can name what a "what"/"which" phrase asks for ("what date", "which city"): not a
# function word ("What for?", "What about it?", "What if?", "What next?") and not shaped like a verb
# ("What happened?", "What changed?"; after "what" also "What happens?", so "What countries?" is left
# alone while "Which countries?" is not).
_NOT_A_NOUN = (rf"(?!(?:{_PREPOSITION}|exactly|then|else|one|ones|it|that|this|them|is|was|are|were|do|does|did"
               r"|next|now|if|not|kind|sort|type)\b)(?![^\W\d_]*(?:ed|ing)\b)")
_WHICH_NOUN = rf"{_NOT_A_NOUN}[^\W\d_]+"
_WHAT_NOUN = rf"{_NOT_A_NOUN}(?![^\W\d_]*s\b)[^\W\d_]+"
_ELLIPSIS = re.compile(
    rf"^\s*(?:and|but|so)?\s*,?\s*((?:{_PREPOSITION}\s+)?(?:what(?:\s+{_WHAT_NOUN}){{0,2}}"
    rf"|which(?:\s+{_WHICH_NOUN}){{0,2}}|when|where|who|whom|why"
    r"|how(?:\s+(?:many|much|long|often|old))?))"
    r"(?:\s+(?:exactly|then|about\s+(?:it|that|them)))?\s*\?*\s*$",
    re.IGNORECASE)
_LEADING_WH = re.compile(
    rf"^\s*(?:{_PREPOSITION}\s+)?(what|when|where|who|whom|whose|which|why|how(?:\s+(?:many|much|long|often|old))?)\b",
    re.IGNORECASE)
# Auxiliaries: in "Which president did Putin call?" the question phrase ends where "did" starts.
_AUXILIARIES = frozenset("""do does did is are was were will would can could should shall may might must
    has have had""".split())
_DEMONSTRATIVE = re.compile(r"\b(?:that|this|those|these)\s+([a-z][a-z-]*)\b")
# Where a question phrase was taken out, a preposition is left without its object: at the end ("... talk
# with?") or right before another preposition ("... talk to after meeting Assad?"). Words that are as
# often verb particles ("hand over to") are not taken for one before another preposition.
_STRANDED_PREPOSITION = re.compile(
    rf"\b(?:{_PREPOSITION}(?=\s*\?*\s*$)|(?:to|with|for|from|at|on|in|by|of|about)(?=\s+{_PREPOSITION}\b))",
    re.IGNORECASE)
_POSSESSIVE = {"his", "her", "their", "its"}
_DETERMINERS = frozenset({"the", "a", "an"} | _POSSESSIVE)
_SUBJECT = {"he", "she", "they", "him", "them"}
_PRONOUN = re.compile(r"\b(he|she|they|him|them|his|her|their|its)\b", re.IGNORECASE)


def _looks_like_name(answer: str | None) -> bool:
    if not answer:
        return False
    # "Bashar al-Assad": a hyphenated word counts as capitalised when its last part is
    words = [w.split("-")[-1] for w in answer.split() if w[0].isalpha()]
    words = [w for w in words if w]
    return 0 < len(words) <= 6 and all(w[0].isupper() or w.islower() and len(w) <= 3 for w in words) \
        and any(w[0].isupper() for w in words)


def name_as_written(name: str, texts: Iterable[str]) -> str:
    """The short form of a name when the articles use it on its own more often than the full name.

    News style names a person in full once ("Bashar al-Assad") and by surname after that ("Assad").
    A question worded the way the passages are matches them better, in retrieval and in the reader:
    asked "When was Bashar al-Assad's first trip to Russia during the war?", the shipped reader
    declines; asked with "Assad's", it quotes the answer. Names whose last word is not used alone
    ("Islamic State", or a person named in full every time) keep their full form.
    """
    words = name.split()
    if len(words) < 2:
        return name
    short = re.sub(r"^[a-z]{1,3}-", "", words[-1])  # "al-Assad" -> "Assad"
    if not short[:1].isupper():
        return name
    full_pattern = re.compile(rf"\b{re.escape(name)}\b")
    short_pattern = re.compile(rf"\b{re.escape(short)}\b")
    full = alone = 0
    for text in texts:
        n_full = len(full_pattern.findall(text))
        full += n_full
        alone += len(short_pattern.findall(text)) - n_full
    return short if alone > full else name


def resolve_followup(question: str, history: list[Turn] | None,
                     name_form: Callable[[str], str] | None = None) -> str:
    """The question rewritten to stand alone, or unchanged when it already does (or cannot be resolved).

    `name_form` turns a previous answer that is a name into the form to write it in (see `name_as_written`).
    """
    if not history:
        return question
    previous = history[-1]
    ellipsis = _ELLIPSIS.match(question)
    if ellipsis and _LEADING_WH.match(previous.question):
        wh = ellipsis.group(1)
        rest = previous.question.strip()[len(_question_phrase(previous.question)):]
        stranded = _STRANDED_PREPOSITION.search(rest) if previous.answer else None
        if stranded:
            rest = (rest[:stranded.end()] + f" {previous.answer.strip()}" + rest[stranded.end():]).rstrip(" ?") + "?"
        return (wh[0].upper() + wh[1:].lower()) + rest
    question = _named_by_demonstrative(question, history) or question
    if _PRONOUN.search(question) and _looks_like_name(previous.answer) and \
            previous.question.strip().lower().startswith(("who ", "whom ")):
        name = previous.answer.strip()
        if name_form is not None:
            name = name_form(name)

        def substitute(match: re.Match) -> str:
            word = match.group(1).lower()
            # "her" is object or possessive; the possessive reading is the common one
            if word in _POSSESSIVE:
                return f"{name}'s"
            return name if word in _SUBJECT else match.group(0)

        return _PRONOUN.sub(substitute, question, count=1)
    return question


def _question_phrase(question: str) -> str:
    """The question phrase a question starts with: "Where", "In which city", "Which U.S. president"
    (up to the auxiliary that follows it: "... did Putin call?"). A "which"/"what" phrase with no
    auxiliary after it asks for the subject ("Which countries sponsor the talks?"), where the noun
    phrase's end cannot be told without a parser: only the question word is taken then."""
    question = question.strip()
    wh = _LEADING_WH.match(question)
    phrase = wh.group(0)
    if wh.group(1).lower() in ("what", "which", "whose", "how many", "how much"):
        words = question.split()
        start = len(phrase.split())
        for k in range(start, min(start + 5, len(words))):
            if words[k].lower() in _AUXILIARIES:
                return " ".join(words[:k])
    return phrase


def _named_by_demonstrative(question: str, history: list[Turn]) -> str | None:
    """The question with "those talks" replaced by the noun phrase an earlier question named them
    with ("the Astana peace talks"): the nearest earlier question with a noun phrase that ends in the
    same noun and starts with a determiner, at most three words between them. None when there is none."""
    match = _DEMONSTRATIVE.search(question)
    if not match:
        return None
    noun = match.group(1)
    for turn in reversed(history):
        words = turn.question.rstrip("?!. ").split()
        for i in range(len(words) - 1, -1, -1):
            if words[i].lower().strip(",;:") != noun:
                continue
            for j in range(i - 1, max(i - 5, -1), -1):
                word = words[j].lower()
                if word in _DETERMINERS:
                    phrase = " ".join(["the"] + words[j + 1:i] + [noun])
                    return question[:match.start()] + phrase + question[match.end():]
                if word in _AUXILIARIES or re.fullmatch(_PREPOSITION, word) or _LEADING_WH.match(word):
                    break
    return None


def retrieval_query(question: str, resolved: str, history: list[Turn] | None) -> str:
    """What to search for: the resolved question, plus the previous turn when nothing was resolved."""
    if not history or resolved != question or not is_followup(question):
        return resolved
    previous = history[-1]
    return f"{resolved} {previous.question} {previous.answer or ''}".strip()


def is_followup(question: str) -> bool:
    """Short or pronoun-led questions lean on the conversation."""
    words = question.split()
    return len(words) <= 3 or bool(_PRONOUN.search(question)) or bool(
        re.search(r"\b(there|then|that|this|it|those|these)\b", question, re.IGNORECASE))


# Words a question can consist of and still say nothing of its own: question words, conjunctions,
# auxiliaries, pronouns and demonstratives ("When?", "And him?", "What about it?", "Who is he?").
_WH_WORDS = ("how many", "how much", "how long", "how often", "how old", "when", "where", "whom", "whose",
             "who", "which", "why", "what", "how")
_PERSONAL = ("he", "she", "him", "her", "his", "hers", "they", "them", "their", "theirs")
_THING = ("it", "its", "that", "this", "those", "these")
_EMPTY_WORDS = frozenset(
    " ".join(_WH_WORDS).split() + list(_PERSONAL) + list(_THING) + """
    and but so or then also too else again exactly about of to for with regarding
    is was are were be been being do does did will would can could should shall may might must has have had
    not there the a an one ones""".split())
_EXAMPLES = {
    "when": "When will the talks resume?",
    "where": "Where will the talks take place?",
    "who": "Who is leading the talks?",
    "whom": "Whom did the president meet?",
    "whose": "Whose proposal did the ministers accept?",
    "which": "Which countries attended the talks?",
    "why": "Why were the talks delayed?",
    "what": "What did the ministers agree on?",
    "how": "How will the talks be held?",
    "how many": "How many countries attended the talks?",
    "how much": "How much aid was promised?",
    "how long": "How long will the talks last?",
    "how often": "How often do the ministers meet?",
    "how old": "How old is the president?",
}


def _words(question: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", question.lower())


def is_bare_followup(question: str) -> bool:
    """A question with no word of its own ("When?", "And him?", "What about it?"): it can only be
    read against an earlier turn."""
    words = _words(question)
    return bool(words) and all(w in _EMPTY_WORDS for w in words)


def clarification(question: str, resolved: str, history: list[Turn] | None) -> str | None:
    """What to ask the user back when a question cannot be read without an earlier turn that is not
    there; None when it can be answered (or at least searched for).

    A bare follow-up needs either a rewrite from the previous question ("When?" after "Where will
    the talks resume?") or an earlier answer to search with. With no history, or a history of
    questions it cannot be rewritten from and that were never answered, retrieval would search for
    "when" alone and quote whatever came up; asking back costs the user one message instead.
    """
    if not is_bare_followup(question) or resolved != question:
        return None
    if history and any(turn.answer for turn in history):
        return None
    words = _words(question)
    text = " ".join(words)
    pronoun = next((w for w in words if w in _PERSONAL or w in _THING), None)
    if pronoun in _PERSONAL:
        return (f'Who do you mean by "{pronoun}"? Ask the whole question, naming them, '
                f'for example "What did the foreign minister say?"')
    if pronoun is not None:
        return f'What do you mean by "{pronoun}"? Ask the whole question, for example "{_EXAMPLES["when"]}"'
    wh = next((w for w in _WH_WORDS if re.search(rf"\b{w}\b", text)), None)
    if wh is not None:
        return f'What would you like to know "{wh}" about? Ask the whole question, for example "{_EXAMPLES[wh]}"'
    return f'What would you like to know? Ask the whole question, for example "{_EXAMPLES["when"]}"'
