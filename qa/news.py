"""Reading an answer across articles: who else says it, who says otherwise, and which is newest.

The reader reads the top passages and proposes one span in each. Every span it *accepts* (raw
score above the no-answer threshold) is an answer some article gives. Those answers are grouped
by what they say (`answer_key`: SQuAD's normalization, plus numbers and dates in their common
forms, `agree`: days read against their own articles' dates), one vote per story: copies of one
article (linked at ingestion, `RetrievedPassage.copies`, or an identical passage text) count
once, with every outlet listed. A span that only came close (not accepted) may still agree, as
support, never conflict. Only readings `about_the_same` as the answer count at all: their
passage uses the names the question and the answer's passage share, and a date of theirs is not
merely the day a source spoke ("said on Wednesday").

The rule for time ("newest wins"): when accepted answers conflict and their articles carry
different dates, the answer of the newest article is the answer and the older ones are conflicts
marked `older` (a newer answer needs a "medium" or "high" confidence of its own to replace
the best one), unless the question names a time of its own ("in 2016", "first", "originally",
"at the time", "before", "previously"), in which case the best-scoring answer stands. Articles
without a date never replace a dated one, nor are they replaced.

What this leaves out: a span from a passage of the same story that answers a neighbouring
question ("4 June", the resignation, for "When will the council elect a successor?") passes
every rule here; the words of real updates ("750 dockers have now downed tools") share no more
of the question than such spans do, so no rule on them is applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from qa.metrics import normalize_answer  # SQuAD's answer normalization
from qa.types import RetrievedPassage

MONTHS = ("january february march april may june july august september october november december "
          "jan feb mar apr jun jul aug sep sept oct nov dec")
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday"
_NUMBER_WORDS = re.compile(r"\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                           r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|"
                           r"forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion)\b",
                           re.IGNORECASE)
_MONTH = re.compile(r"\b(" + "|".join(MONTHS.split()) + r")\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[89]\d\d|2[01]\d\d)\b")
# a question that asks about a time of its own: the newest report is not what it asks for
_NAMES_A_TIME = re.compile(r"\b(in|during|by|since|before|until|of)\s+(1[89]\d\d|2[01]\d\d)\b|"
                           r"\b(first|firstly|originally|initially|at the time|at first|earlier|"
                           r"previously|formerly|used to|at that time|back then)\b", re.IGNORECASE)


def names_a_time(question: str) -> bool:
    """Does the question ask about a time of its own ("in 2016", "first", "originally", "at the
    time")? Then the newest article does not replace the best answer."""
    return bool(_NAMES_A_TIME.search(question))


def _number(text: str) -> str | None:
    """A number however it is written ("5,000", "5000", "five thousand", "5 thousand"), as digits."""
    from text_to_num import alpha2digit

    spelled = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    if not re.match(r"\s*\d", spelled) and _NUMBER_WORDS.search(spelled):
        spelled = alpha2digit(spelled, "en")
    m = re.fullmatch(r"\s*(?:about|some|around|at least|more than|over|nearly|almost)?\s*"
                     r"(\d+(?:\.\d+)?)\s*(thousand|million|billion)?\s*(.*?)\s*", spelled, re.IGNORECASE)
    if not m:
        return None
    value = float(m.group(1)) * {None: 1, "thousand": 1e3, "million": 1e6, "billion": 1e9}[
        m.group(2).lower() if m.group(2) else None]
    rest = normalize_answer(m.group(3))
    number = f"{value:.0f}" if value == int(value) else f"{value:g}"
    return number + (" " + rest if rest else "")


def _calendar_date(text: str, base: date | None = None) -> date | None:
    """The day a text with a month name and a day number names (`dateutil.parser`, fuzzy: "22
    November", "Nov. 22", "the 22nd of November"); its year is `base`'s when it gives none."""
    if not (_MONTH.search(text) and re.search(r"\b\d{1,2}(st|nd|rd|th)?\b", text)):
        return None
    from dateutil import parser

    default = datetime(base.year, base.month, base.day) if base else datetime(2000, 1, 1)
    try:
        return parser.parse(text, default=default, fuzzy=True).date()
    except (ValueError, OverflowError):
        return None


def answer_key(text: str) -> str:
    """What an answer says, so that its forms compare equal: "date:MM-DD" (with "YYYY-" before it
    when the answer gives a year) for a calendar date, the number in digits for a number, else
    SQuAD's normalization."""
    parsed = _calendar_date(text)
    if parsed is not None:
        year = _YEAR.search(text)
        return "date:" + (f"{parsed.year:04d}-" if year else "") + f"{parsed.month:02d}-{parsed.day:02d}"
    number = _number(text)
    return number if number is not None else normalize_answer(text)


def same_answer(a: str, b: str) -> bool:
    """Do two keys say the same? A date without a year agrees with the same day in any year, and
    an answer whose words all lie in the other's agrees with it: "Anton Vesk" and "Prime Minister
    Anton Vesk", "19" and "19 people" (two spans of one fact, one with its title or unit)."""
    if a == b:
        return True
    if a.startswith("date:") or b.startswith("date:"):
        return a.startswith("date:") and b.startswith("date:") and a[-5:] == b[-5:] and (len(a) == 10 or len(b) == 10)
    words_a, words_b = set(a.split()), set(b.split())
    return bool(words_a and words_b) and (words_a <= words_b or words_b <= words_a)


# words that put what follows them in the future: "will reopen on Monday", "is due to start on
# January 12", "plans to stand down on", "has been delayed to"; "due to" before a determiner is
# a cause ("due to the rain"), not a plan
_FUTURE = re.compile(r"\b(will|shall|won't|going to|upcoming|next|plans? to|planned for|scheduled|"
                     r"set to|expected to|(?:is|are) to|due to(?! (?:the|a|an|his|her|its|their|this|that)\b)|"
                     r"(?:delayed|postponed|moved|pushed back|put off|brought forward) (?:to|until|till))\b|\w'll\b",
                     re.IGNORECASE)


def future_tense(before: str) -> bool:
    """Does the clause that leads up to a date (the text `before` it, from the last comma,
    semicolon or sentence end) speak of the future?"""
    clause = re.split(r"[,;:!?\u2014]|\.(?:\s|$)", before)[-1]
    return bool(_FUTURE.search(clause))


def resolve_date(answer: str, published: str | None, before: str = "") -> str | None:
    """The calendar date an answer names, read against its article's date; None when the answer is
    no date, or a relative one with no article date to read it against. `before` is the text that
    leads up to the answer in its passage: in a clause that speaks of the future (`future_tense`:
    "will reopen on Monday", "due to start on January 12") a weekday is the first such day after
    the article's and a month and day the first on or after it.

    python-dateutil with news usage as rules (chosen over dateparser by measurement, see
    benchmarks/date_resolution.py): "yesterday", "today", "tomorrow"; a weekday ("Monday", "on
    Monday") is the latest such day up to the article's own, "last Monday" the one before the
    article's day, "next Monday" the one after; "last week/month/year", "next ...", "N days ago";
    a month and day without a year take the article's year, or the adjacent one when that lies
    closer ("January 2" in an article of 30 December)."""
    from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

    base = _iso_day(published)
    text = " ".join(answer.lower().split()).strip(" .,")
    ahead = future_tense(before)
    if base is not None:
        fixed = {"yesterday": -1, "today": 0, "tomorrow": 1}
        if text in fixed:
            return (base + relativedelta(days=fixed[text])).isoformat()
        m = re.fullmatch(r"(on |last |next |this )?(\w+day)( morning| afternoon| evening| night)?", text)
        if m and m.group(2) in WEEKDAYS.split():
            weekday = (MO, TU, WE, TH, FR, SA, SU)[WEEKDAYS.split().index(m.group(2))]
            if m.group(1) == "next " or (ahead and m.group(1) != "last "):
                return (base + relativedelta(days=1, weekday=weekday(+1))).isoformat()
            if m.group(1) == "last ":
                return (base + relativedelta(days=-1, weekday=weekday(-1))).isoformat()
            return (base + relativedelta(weekday=weekday(-1))).isoformat()
        m = re.fullmatch(r"(last|next|earlier this|this) (week|month|year)", text)
        if m:
            step = {"last": -1, "next": 1}.get(m.group(1), 0)
            return (base + relativedelta(**{m.group(2) + "s": step})).isoformat()
        m = re.fullmatch(r"(\d+) (day|week|month|year)s? ago", text)
        if m:
            return (base - relativedelta(**{m.group(2) + "s": int(m.group(1))})).isoformat()
    if base is None and not _YEAR.search(answer):
        return None
    parsed = _calendar_date(answer, base)
    if parsed is None:
        return None
    if base is not None and not _YEAR.search(answer):
        nearest = []
        for year in (base.year - 1, base.year, base.year + 1):
            try:
                nearest.append(parsed.replace(year=year))
            except ValueError:  # 29 February in a year without one
                pass
        if ahead:
            nearest = [d for d in nearest if d >= base]
        parsed = min(nearest, key=lambda d: abs((d - base).days))
    return parsed.isoformat()


def _iso_day(published: str | None) -> date | None:
    if not published:
        return None
    try:
        return date.fromisoformat(published[:10])
    except ValueError:
        return None


@dataclass
class Reading:
    """One story's accepted answer: the span its best passage offers."""

    raw: float
    hit: RetrievedPassage
    answer: str
    start: int  # offsets into the article's text
    end: int
    published: str | None
    outlet: str
    outlets: tuple[str, ...]  # the outlet first, then those of its copies
    # above the reader's no-answer threshold: an answer of its own; below it (but close, see
    # `qa.answer_policy.AnswerPolicy.accepted`) it can only agree with an accepted answer
    accepted: bool = True

    @property
    def before(self) -> str:
        """The passage's text up to the answer (what `resolve_date` reads the tense from)."""
        return self.hit.text[:self.start - self.hit.start]


def one_per_story(readings: list[Reading]) -> list[Reading]:
    """The best-scoring accepted answer of each story: copies linked at ingestion already share one
    passage; an identical passage text in two articles marks them copies too (their outlets join)."""
    by_article: dict[str, Reading] = {}
    for r in sorted(readings, key=lambda r: -r.raw):
        by_article.setdefault(r.hit.article_id, r)
    out: list[Reading] = []
    by_text: dict[str, Reading] = {}
    for r in by_article.values():
        first = by_text.get(r.hit.text)
        if first is not None:
            first.outlets = tuple(dict.fromkeys(first.outlets + r.outlets))
            continue
        by_text[r.hit.text] = r
        out.append(r)
    return out


_NAME = re.compile(r"[^\W\d_][\w'’.-]*")


def _words(text: str) -> set[str]:
    return {w.lower().removesuffix("'s").removesuffix("’s").strip(".-'’") for w in _NAME.findall(text)}


def question_names(question: str, passage: RetrievedPassage) -> set[str]:
    """The names the question gives (its capitalized words after the first: "Lakeside",
    "Adebolajo", "LaGuardia") that the answer's own passage or title uses too (so a demonym or a
    misspelling in the question, "French" for "France", asks nothing of other passages)."""
    words = _NAME.findall(question)[1:]
    named = {w.lower().removesuffix("'s").removesuffix("’s").strip(".-'’")
             for w in words if w[0].isupper()}
    return named & _words(passage.title + " " + passage.text)


_SPEECH = (r"say|says|said|saying|tell|tells|told|announce|announced|announces|report|reported|reports|"
           r"confirm|confirmed|confirms|state|stated|add|added|declare|declared|write|wrote|warn|warned")
# a date right after a verb of speaking ("union leaders said on Wednesday") dates the statement
_DATES_A_STATEMENT = re.compile(r"\b(?:" + _SPEECH + r")\s+(?:(?:late|early)\s+)?(?:on\s+)?$", re.IGNORECASE)
_ASKS_ABOUT_A_STATEMENT = re.compile(r"\b(?:" + _SPEECH + r")\b", re.IGNORECASE)


def dates_a_statement(r: Reading, question: str) -> bool:
    """Is the reading's answer the day a source spoke ("said on Wednesday"), not the day of what
    the question asks about? Not when the question asks about a statement itself ("When did the
    union say ...?")."""
    return (bool(_DATES_A_STATEMENT.search(r.before)) and not _ASKS_ABOUT_A_STATEMENT.search(question)
            and resolve_date(r.answer, r.published or "2000-01-01") is not None)


def about_the_same(names: set[str], r: Reading, question: str = "") -> bool:
    """Is a reading about what the question asks? Its passage (or title) must use every name in
    `names` (`question_names` of the answer's passage), and a date answer must not merely date a
    statement (`dates_a_statement`). An accepted span that fails ("22", the age of another man in
    the story, for "How old is Michael Adebolajo?"; "Ukraine" for an airline question; the
    "Wednesday" of "union leaders said on Wednesday" for "When did the workers walk out?")
    answers another question: it neither agrees nor conflicts, nor may it replace the answer as
    the newest."""
    return names <= _words(r.hit.title + " " + r.hit.text) and not dates_a_statement(r, question)


def choose(readings: list[Reading], question: str, trusted=lambda raw: True) -> tuple[Reading, bool]:
    """The answer among one-per-story readings (best first; the first accepted) and whether
    newest-wins replaced the best-scoring one. Only an accepted newer answer that is `trusted` on
    its own (its raw score earns a "medium" or "high" label) and is `about_the_same` as the best
    may replace it: an accepted span from a newer article that answers another question ("Alder
    bridge" for "Which river burst its banks?") must not."""
    best = next((r for r in readings if r.accepted), readings[0])
    if names_a_time(question) or _iso_day(best.published) is None:
        return best, False
    names = question_names(question, best.hit)
    newer = [r for r in readings if r.accepted and _iso_day(r.published) is not None
             and _iso_day(r.published) > _iso_day(best.published) and trusted(r.raw) and about_the_same(names, r, question)
             and not agree(r, best)]
    if not newer:
        return best, False
    newest_day = max(_iso_day(r.published) for r in newer)
    return next(r for r in newer if _iso_day(r.published) == newest_day), True


def agree(a: Reading, b: Reading) -> bool:
    """Do two readings give the same answer? When both name a day, read against their own
    articles' dates, they agree exactly when it is the same day, however each wrote it ("on
    Tuesday" in an article of Wednesday 12 March, "11 March"), and "Monday" in reports of two
    different weeks does not agree; otherwise when their keys do (`same_answer`)."""
    day_a, day_b = resolve_date(a.answer, a.published, a.before), resolve_date(b.answer, b.published, b.before)
    if day_a is not None and day_b is not None:
        return day_a == day_b
    return same_answer(answer_key(a.answer), answer_key(b.answer))


def entry(r: Reading) -> dict:
    return {"article_id": r.hit.article_id, "title": r.hit.title, "outlet": r.outlet, "published": r.published,
            "answer": r.answer, "start": r.start, "end": r.end, "outlets": list(r.outlets)}


def support_and_conflicts(chosen: Reading, readings: list[Reading], probability,
                          question: str = "") -> tuple[list[dict], list[dict]]:
    """The other stories that give the chosen answer, and those that give another (with their
    calibrated score and whether their article is older than the answer's). Only readings
    `about_the_same` as the chosen one count; one below the no-answer threshold (not `accepted`)
    can agree but never conflict."""
    day = _iso_day(chosen.published)
    names = question_names(question, chosen.hit)
    support, conflicts = [], []
    for r in readings:
        if r is chosen or not about_the_same(names, r, question):
            continue
        if agree(r, chosen):
            support.append(entry(r))
        elif r.accepted:
            other = _iso_day(r.published)
            conflicts.append({**entry(r), "score": round(probability(r.raw), 4),
                              "older": bool(day is not None and other is not None and other < day)})
    return support, conflicts
