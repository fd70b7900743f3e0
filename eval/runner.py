"""Ask every gold question through the assistant, the way a user would, and record how each one went.

Conversations are asked turn by turn with the earlier turns as history (their questions and the
assistant's own earlier answers, right or wrong). The reader reads `top_k` passages; retrieval is
judged `retrieval_depth` deep, so recall@10 is measured even when the reader reads 5: the first
ranks are the passages `ask` retrieved (exactly what the reader read), deeper ones come from a
`retrieve` call with the resolved question. Latency is that of `ask` (or `read`) alone. With `oracle=True` the reader gets only the gold passage and retrieval is not judged.
What this leaves out: choosing the index, aggregating metrics, writing files.
"""

from __future__ import annotations

import dataclasses

import time
from dataclasses import dataclass

from tqdm import tqdm

from eval.gold_questions import BadGoldFileError, GoldQuestion, GoldSet
from eval.judge import is_citation_correct, is_gold_passage, knows_gold_passage, question_type
from qa.errors import QAError
from qa.metrics import best_over_golds, exact_match, f1
from qa.formats import citation_to_json
from qa.types import AskResult, Turn

PREVIEW_CHARS = 160  # of each retrieved passage in predictions.jsonl: enough to eyeball, small for 10k questions


@dataclass(frozen=True)
class QuestionOutcome:
    id: str
    question: str
    resolved_question: str
    conversation_id: str | None
    turn: int
    question_type: str
    gold_answers: list[str]
    has_answer: bool
    prediction: str  # "" when the assistant found no answer
    found: bool
    score: float | None
    citation: dict | None
    citation_correct: bool | None  # None: not judged (no answer given, or none expected)
    retrieved: list[dict]
    gold_rank: int | None  # 1-based rank of the first gold passage retrieved; None: not retrieved
    retrieval_judged: bool  # False: oracle run, or no gold passage to look for
    latency_ms: float
    exact_match: float  # 0 or 1
    f1: float  # 0..1
    oracle: bool
    confidence: str | None = None  # the label shown with an answer ("high", "medium", "low")
    # the answer read across articles, and what the gold file expects of it (`GoldQuestion.news`)
    support: list[dict] = dataclasses.field(default_factory=list)
    conflicts: list[dict] = dataclasses.field(default_factory=list)
    answer_date: str | None = None
    expected_news: dict | None = None


def run_gold_set(
    assistant,
    gold_set: GoldSet,
    *,
    top_k: int,
    retrieval_depth: int = 10,
    oracle: bool = False,
    show_progress: bool = True,
) -> list[QuestionOutcome]:
    if oracle and gold_set.kind == "conversations":
        raise BadGoldFileError("--oracle reads single questions; a conversation needs retrieval to resolve follow-ups")
    article_texts = {article.id: article.text for article in assistant.collection.articles()}
    outcomes = []
    total = sum(len(conversation.turns) for conversation in gold_set.conversations)
    with tqdm(total=total, desc="asking", unit="q", disable=not show_progress) as progress:
        for conversation in gold_set.conversations:
            history: list[Turn] = []
            for gold in conversation.turns:
                outcome = _ask_one(assistant, gold, history, top_k, retrieval_depth, oracle, article_texts)
                outcomes.append(outcome)
                history.append(Turn(gold.question, outcome.prediction if outcome.found else None))
                progress.update(1)
    return outcomes


def _ask_one(assistant, gold: GoldQuestion, history, top_k, retrieval_depth, oracle, article_texts) -> QuestionOutcome:
    oracle_passages = _oracle_passages(assistant, gold, article_texts) if oracle else None
    started = time.perf_counter()
    try:
        if oracle_passages:
            result: AskResult = assistant.read(gold.question, oracle_passages)
        else:
            result = assistant.ask(gold.question, history=list(history) or None, top_k=top_k)
    except QAError as e:
        raise type(e)(f"gold question {gold.id!r}: {e}") from e
    latency_ms = 1000 * (time.perf_counter() - started)

    resolved = result.resolved_question or gold.question
    judge_retrieval = not oracle and gold.has_answer and knows_gold_passage(gold)
    retrieved, gold_rank = [], None
    if not oracle:
        query = result.retrieval_query or resolved
        for rank, passage in enumerate(_ranked_passages(assistant, result, query, retrieval_depth), 1):
            hit = is_gold_passage(gold, passage.article_id, passage.paragraph, passage.start, passage.end, passage.text)
            if hit and gold_rank is None and judge_retrieval:
                gold_rank = rank
            retrieved.append(_passage_record(passage, hit if judge_retrieval else None))

    prediction = result.answer if result.found and result.answer is not None else ""
    citation_correct = None
    if result.found and result.citation is not None and gold.has_answer:
        article_text = article_texts.get(result.citation.article_id)
        citation_correct = is_citation_correct(gold, result.citation, prediction, article_text)
    golds = list(gold.answers)
    return QuestionOutcome(
        id=gold.id,
        question=gold.question,
        resolved_question=resolved,
        conversation_id=gold.conversation_id,
        turn=gold.turn,
        question_type=question_type(gold.question),
        gold_answers=golds,
        has_answer=gold.has_answer,
        prediction=prediction,
        found=bool(result.found),
        score=result.score,
        citation=citation_to_json(result.citation),
        citation_correct=citation_correct,
        retrieved=retrieved,
        gold_rank=gold_rank,
        retrieval_judged=judge_retrieval,
        latency_ms=latency_ms,
        exact_match=best_over_golds(exact_match, prediction, golds),
        f1=best_over_golds(f1, prediction, golds),
        oracle=bool(oracle_passages),
        confidence=result.confidence if result.found else None,
        support=[{k: s[k] for k in ("article_id", "title", "outlet", "published", "answer")} for s in result.support],
        conflicts=[{k: c[k] for k in ("article_id", "title", "outlet", "published", "answer", "older")}
                   for c in result.conflicts],
        answer_date=result.answer_date,
        expected_news=gold.news,
    )


def _ranked_passages(assistant, result: AskResult, resolved: str, depth: int) -> list:
    ranked = list(result.passages)[:depth]
    if len(ranked) < depth:
        # for a follow-up the assistant may search with more words than the resolved question, so
        # keep its own ranking on top and only extend it
        seen = {(p.article_id, p.paragraph) for p in ranked}
        deeper = [p for p in assistant.retrieve(resolved, depth) if (p.article_id, p.paragraph) not in seen]
        ranked += deeper[: depth - len(ranked)]
    return ranked


def _oracle_passages(assistant, gold: GoldQuestion, article_texts: dict[str, str]) -> list:
    """The gold passage(s) to read; empty (so the question is asked normally) when it has none."""
    if not knows_gold_passage(gold):
        return []
    article_ids = [gold.article_id] if gold.article_id is not None else list(article_texts)
    passages = [
        passage
        for article_id in article_ids
        for passage in assistant.collection.passages_of(article_id)
        if is_gold_passage(gold, passage.article_id, passage.index, passage.start, passage.end, passage.text)
    ]
    if not passages:
        # reading nothing would score the question as a miss of the reader's, hiding a wrong index or gold file
        raise BadGoldFileError(
            f"gold question {gold.id!r}: its gold passage is not in the index (was the index built from these articles?)"
        )
    return passages


def _passage_record(passage, is_gold: bool | None) -> dict:
    return {
        "article_id": passage.article_id,
        "title": passage.title,
        "paragraph": passage.paragraph,
        "start": passage.start,
        "end": passage.end,
        "score": passage.score,
        "is_gold": is_gold,
        "preview": passage.text[:PREVIEW_CHARS],
    }
