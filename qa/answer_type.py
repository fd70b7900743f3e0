"""Does a span fit its question's type? who → a person or organisation, where → a place, when → a
time expression, how many / how much → a number or quantity; other questions are not checked.

Rules over the span's text and the words just before it in its passage (no model): a time
expression has a digit, a month, a weekday or a time word; a quantity has a digit, a number word
(text2num reads "twenty-three") or a quantity word; a who-answer is neither a time nor a bare
number, and not a name the passage puts after "in" or "near" (a place: "in Sochi"); a where-answer
is neither a time nor a bare number. The answer policy (`qa.answer_policy`) falls back to the
passage's next best span that fits, so a mismatch is never shown as an answer nor as a candidate.
"""

from __future__ import annotations

import re
from functools import lru_cache

PERSON, PLACE, TIME, QUANTITY = "person", "place", "time", "quantity"

# The types the answer policy checks: those whose check removes at least 3 wrong answers for each
# right one on held-out SQuAD train questions (benchmarks/answer_type_check.py; results in
# benchmarks/results/answer-type-check.json). On 600 questions with the shipped reader the person
# check removed 3 wrong for 3 right, quantity 4 for 7, time 1 for 3: all dropped. The place
# check removed none: kept, as it can only withhold a date or a bare number.
CHECKED_TYPES = frozenset({PLACE})

_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec").split()
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_TIME_WORDS = set(_MONTHS + _WEEKDAYS + (
    "today yesterday tomorrow tonight morning afternoon evening night noon midnight dawn dusk "
    "day days week weeks weekend month months year years decade decades century centuries era "
    "ago since until later earlier before after during when then now recently soon season "
    "spring summer autumn fall winter hour hours minute minutes second seconds age ages period "
    "time times moment christmas easter bc ad bce ce dynasty reign war").split())
_QUANTITY_WORDS = set(
    "dozen dozens hundreds thousands millions billions several few many much most half quarter "
    "third none all some majority minority percent per cent score couple pair".split())
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
_LOCATIVE_BEFORE = re.compile(r"\b(?:in|near)\s+(?:the\s+)?$", re.IGNORECASE)


_WHO_IS = re.compile(r"^\s*who\s+(?:is|was|are|were)\s+(.+?)\s*\??\s*$", re.IGNORECASE)


def who_is_subject(question: str) -> str | None:
    """The subject of "Who is X?", else None."""
    m = _WHO_IS.match(question)
    return m.group(1) if m else None


def _is_name(text: str) -> bool:
    """Every word capitalised (or a possessive of one): "Erdogan", "Recep Tayyip Erdogan"."""
    words = _WORD.findall(text)
    return bool(words) and all(w[0].isupper() for w in words)


_CONNECTIVES = {"and", "or", "of", "the", "de", "van", "von", "bin", "al", "da", "del", "la", "le"}
_DEMONYM = re.compile(r"(?:ian|ish|ese|ean)$")  # "Syrian", "Turkish", "Chinese": an adjective, not a name


def fits_who_is(subject: str, text: str) -> bool:
    """"Who is <a name>?" asks what the person is: another bare name is no answer ("Who is
    Erdogan?" → not "Hassan Rohani"). "Who is <a role>?" asks for a name: a role is no answer
    ("Who is Turkey's president?" → not "Syrian president"), a span ending in a name is."""
    words = _WORD.findall(text)
    if not words:
        return False
    if _is_name(subject):
        return any(w[0].islower() and w.casefold() not in _CONNECTIVES for w in words)
    return words[-1][0].isupper() and not _DEMONYM.search(words[-1])


def question_type(question: str) -> str | None:
    """The answer type a question asks for, from its leading question word; None: not checked."""
    words = _WORD.findall(question.casefold())
    if not words:
        return None
    first = words[0]
    if first in ("who", "whom", "whose"):
        return PERSON
    if first == "where":
        return PLACE
    if first == "when":
        return TIME
    if first == "how" and len(words) > 1 and words[1] in ("many", "much"):
        return QUANTITY
    return None


def checked_type(question: str) -> str | None:
    """The type the answer policy checks for this question: `question_type` if in CHECKED_TYPES."""
    kind = question_type(question)
    return kind if kind in CHECKED_TYPES else None


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


# short names the ISO list does not use ("Russian Federation", "Syrian Arab Republic")
_COUNTRY_ALIASES = {"russia", "syria", "britain", "great britain", "england", "scotland", "wales", "uk", "us", "usa",
                    "america", "united states", "south korea", "north korea", "vietnam", "laos", "bolivia",
                    "venezuela", "tanzania", "moldova", "taiwan", "czech republic", "palestine", "vatican"}


@lru_cache(maxsize=1)
def _country_names() -> frozenset[str]:
    import pycountry

    names = set(_COUNTRY_ALIASES)
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names.add(value.casefold())
                names.add(value.split(",")[0].casefold())  # "Iran, Islamic Republic of" → "iran"
    names.update(s.name.casefold() for s in pycountry.subdivisions)
    return frozenset(names)


def is_country(text: str) -> bool:
    """The name of a country or of a country's region, and nothing else (ISO 3166, via pycountry)."""
    name = text.strip()
    if not name[:1].isupper():
        return False
    name = name.casefold().removeprefix("the ").strip()
    return name in _country_names()


def is_time(text: str) -> bool:
    return bool(re.search(r"\d", text)) or any(w in _TIME_WORDS for w in _words(text))


@lru_cache(maxsize=4096)
def _has_number_word(text: str) -> bool:
    from text_to_num import alpha2digit

    return bool(re.search(r"\d", alpha2digit(text, "en")))


def is_quantity(text: str) -> bool:
    return bool(re.search(r"\d", text)) or any(w in _QUANTITY_WORDS for w in _words(text)) \
        or _has_number_word(text)


def is_bare_number(text: str) -> bool:
    """Only digits, number words and punctuation: a count or a year, never a name or a place."""
    rest = re.sub(r"[\d.,%\s\-–/]+", " ", text).strip()
    return not rest or (_has_number_word(text) and len(_words(text)) <= 3
                        and all(w[0].islower() for w in _WORD.findall(text)))


def fits(kind: str | None, passage: str, start: int, end: int, question: str = "") -> bool:
    """Whether passage[start:end] can answer `question`, which asks for `kind`."""
    if kind is None:
        return True
    text = passage[start:end]
    subject = who_is_subject(question) if kind == PERSON else None
    if subject is not None and not fits_who_is(subject, text):
        return False
    if kind == TIME:
        return is_time(text)
    if kind == QUANTITY:
        return is_quantity(text)
    if is_bare_number(text) or _is_only_time(text):
        return False
    if kind == PERSON:
        return not (is_country(text) or text[:1].isupper() and _LOCATIVE_BEFORE.search(passage[max(0, start - 12):start]))
    return True


def _is_only_time(text: str) -> bool:
    """A date or a time and nothing else ("November 20", "last week", "2018")."""
    words = _words(text)
    return bool(words) and all(w in _TIME_WORDS or w in ("last", "next", "this", "the", "of", "on", "in", "early", "late")
                               for w in words) or bool(re.fullmatch(r"[\d\s/.\-–,]+", text.strip()))
