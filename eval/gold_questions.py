"""Read a gold file into conversations of gold questions: JSON lines (questions or conversations) or SQuAD.

Accepted formats, one record per line for JSON lines:
  {"id": ..., "question": ..., "answers": [...], "article_id"?: ..., "paragraph"?: ...}
  {"id": ..., "turns": [{"question": ..., "answers": [...]}, ...]}
and SQuAD v1.1 / v2.0 JSON files (read through `qa.load_squad`). Empty `answers` means the articles
do not answer the question. A single question is a conversation of one turn, so the runner has
one loop. What this leaves out: asking, scoring, and checking that answers occur in any article.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from qa.types import Article
from qa.errors import QAError


class BadGoldFileError(QAError):
    """A gold file is unreadable or a record in it is malformed."""


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # empty: the articles do not answer it
    article_id: str | None = None  # the gold passage, when the gold file names it
    paragraph: int | None = None
    # SQuAD: the question's own paragraph, as a character range of its article's text
    context_start: int | None = None
    context_end: int | None = None
    conversation_id: str | None = None  # set for turns of a multi-turn conversation
    turn: int = 0  # 0-based position in its conversation
    # what a news answer should carry (`qa.news`): {"support": [titles], "conflicts": [titles],
    # "newest_wins": bool, "answer_date": "YYYY-MM-DD"}; any key may be left out
    news: dict | None = None

    @property
    def has_answer(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[GoldQuestion, ...]


@dataclass(frozen=True)
class GoldSet:
    path: Path
    kind: str  # "questions", "conversations" or "squad"
    sha256: str
    conversations: tuple[Conversation, ...]
    articles: tuple[Article, ...] = field(default=())  # SQuAD only: the corpus the questions were written on

    @property
    def questions(self) -> list[GoldQuestion]:
        return [turn for conversation in self.conversations for turn in conversation.turns]

    def sample(self, limit: int | None, seed: int) -> "GoldSet":
        """A fixed-seed random sample of `limit` units (questions, or whole conversations), in file order."""
        if limit is None or limit >= len(self.conversations):
            return self
        if limit < 1:
            raise BadGoldFileError(f"--limit must be at least 1, not {limit}")
        chosen = sorted(random.Random(seed).sample(range(len(self.conversations)), limit))
        kept = tuple(self.conversations[i] for i in chosen)
        return GoldSet(self.path, self.kind, self.sha256, kept, self.articles)


def load_gold(path: str | Path) -> GoldSet:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BadGoldFileError(f"{path}: cannot read the gold file ({e.strerror or e})") from e
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadGoldFileError(f"{path}: not UTF-8 text") from e
    if _looks_like_squad(text):
        return _load_squad_gold(path, sha256)
    conversations = tuple(_parse_line(line, path, n) for n, line in enumerate(text.splitlines(), 1) if line.strip())
    if not conversations:
        raise BadGoldFileError(f"{path}: no questions in the gold file")
    multi_turn = any(c.turns[0].conversation_id is not None for c in conversations)
    _check_unique_ids([q.id for c in conversations for q in c.turns], path)
    return GoldSet(path, "conversations" if multi_turn else "questions", sha256, conversations)


def _looks_like_squad(text: str) -> bool:
    # a JSON-lines file parses as one JSON document only when it has a single line
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return False
    return isinstance(data, dict) and isinstance(data.get("data"), list)


def _load_squad_gold(path: Path, sha256: str) -> GoldSet:
    from qa import load_squad

    articles, squad_questions = load_squad(path)
    conversations = tuple(
        Conversation(
            q.id,
            (
                GoldQuestion(
                    id=q.id,
                    question=q.question,
                    answers=() if q.is_impossible else tuple(q.answers),
                    article_id=q.article_id,
                    context_start=q.context_start,
                    context_end=q.context_end,
                ),
            ),
        )
        for q in squad_questions
    )
    return GoldSet(path, "squad", sha256, conversations, tuple(articles))


def _parse_line(line: str, path: Path, line_number: int) -> Conversation:
    where = f"{path}:{line_number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise BadGoldFileError(f"{where}: not valid JSON ({e.msg})") from e
    if not isinstance(record, dict):
        raise BadGoldFileError(f"{where}: each line must be a JSON object")
    record_id = str(record.get("id") or f"line-{line_number}")
    if "turns" in record:
        turns = record["turns"]
        if not isinstance(turns, list) or not turns:
            raise BadGoldFileError(f"{where}: 'turns' must be a non-empty list")
        questions = tuple(
            _parse_question(turn, where, f"{record_id}.{i + 1}", conversation_id=record_id, turn=i)
            for i, turn in enumerate(turns)
        )
        return Conversation(record_id, questions)
    return Conversation(record_id, (_parse_question(record, where, record_id),))


def _parse_question(record, where: str, default_id: str, conversation_id=None, turn=0) -> GoldQuestion:
    if not isinstance(record, dict):
        raise BadGoldFileError(f"{where}: a question must be a JSON object")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise BadGoldFileError(f"{where}: needs a non-empty 'question' string")
    answers = record.get("answers", [])
    if not isinstance(answers, list) or not all(isinstance(a, str) and a for a in answers):
        raise BadGoldFileError(f"{where}: 'answers' must be a list of non-empty strings ([] = not answerable)")
    paragraph = record.get("paragraph")
    if paragraph is not None and (not isinstance(paragraph, int) or paragraph < 0):
        raise BadGoldFileError(f"{where}: 'paragraph' must be a passage number (0-based)")
    article_id = record.get("article_id")
    news = record.get("news")
    if news is not None and not (isinstance(news, dict) and set(news) <= {"support", "conflicts", "newest_wins",
                                                                          "answer_date"}):
        raise BadGoldFileError(f"{where}: 'news' must be an object of support, conflicts, newest_wins, answer_date")
    return GoldQuestion(
        id=str(record.get("id") or default_id),
        question=question,
        answers=tuple(answers),
        article_id=str(article_id) if article_id is not None else None,
        paragraph=paragraph,
        conversation_id=conversation_id,
        turn=turn,
        news=news,
    )


def _check_unique_ids(ids: list[str], path: Path) -> None:
    seen = set()
    for question_id in ids:
        if question_id in seen:
            raise BadGoldFileError(f"{path}: question id {question_id!r} occurs twice")
        seen.add(question_id)
