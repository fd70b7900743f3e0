"""Which answer-type rules (`qa.answer_type`) remove at least 3 wrong answers for each right one?

Held-out SQuAD 2.0 *train* questions (the 13 articles the reader never trained on, as the
calibration uses; never dev) whose question word a rule covers (who, where, when, how many/much),
in the training's seeded order, read by the shipped reader in three settings:

- `own`:    the question's own paragraph only (the evaluation's oracle);
- `open`:   the passages the assistant retrieves (top 5) from all 13 articles, as the chat asks;
- `absent`: the same, with the question's own article left out of the collection, so the answer
            is not there: every answer shown is wrong (a user asking what the articles do not say).

The rules were written and chosen on those. `wikinews` then checks the choice on news text that
played no part in it: the QAMR questions on Wikinews paragraphs (dev and test), each read in its
own paragraph; reported, never used to choose.

`collect` reads and keeps every passage's spans (the best and the reader's next best) in a cache,
so `score` can try any set of rules without reading again. An answer is shown when the best span
over the passages (`qa.answer_policy.best_answer`) beats the reader's threshold; with a rule on, a
span that breaks it gives way to the passage's next best span that does not, or to nothing. A
removed answer is right when its token F1 against a gold answer is at least
`qa.confidence.CORRECT_MIN_F1` (an unanswerable question has no right answer).

Each rule is scored alone and the rules that pass are scored together, per setting. A rule is
kept when, in `open` (the questions as the chat gets them), it removes at least 3 wrong answers
for each right one, with evidence: the lower bound of the one-sided 80 % Wilson interval of the
wrong share of its removals must reach 3/4 (2 wrong of 2 removed does not: the bound is 0.74;
3 of 3 does: 0.81). `own` and `absent` (where nothing is right) are reported, not used to choose.

    python benchmarks/answer_type_check.py collect --setting own      # then open, absent
    python benchmarks/answer_type_check.py score    # writes benchmarks/results/answer-type-check.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from qa.answer_policy import best_answer
from qa.answer_type import ALL_RULES, RULES, question_type
from qa.confidence import CORRECT_MIN_F1
from qa.metrics import best_over_golds, f1
from qa.reader.decode import Span
from qa.reader.transformers_reader import PassageReading, load_reader_settings
from qa.settings import SHIPPED_READER, Settings

OUT = Path(__file__).parent / "results" / "answer-type-check.json"
SETTINGS = ("own", "open", "absent", "wikinews")
CHOOSE_ON = ("open",)
WRONG_PER_RIGHT = 3
WILSON_Z = 0.8416  # one-sided 80 %
EXAMPLES = 8  # removed answers kept per rule and setting, to read


def cache_file(setting: str) -> Path:
    return Settings().cache_dir / "answer-type" / f"{setting}.jsonl"


def _span(s: Span) -> list:
    return [s.char_start, s.char_end, round(s.score, 4), round(s.null_score, 4)]


def collect(args) -> None:
    import torch

    from qa.assistant import Assistant
    from qa.reader.registry import make_reader
    from qa.reader.training.calibrate import heldout_questions
    from qa.reader.training.train import DEFAULT_OVERLAP, DEFAULT_TRAIN, SHARED_DATA
    from qa.scope import Scope

    torch.set_num_threads(args.threads)
    if args.setting == "wikinews":
        ordered, articles, squad = wikinews_questions(SHARED_DATA / "news"), [], {}
    else:
        ordered, articles, squad = heldout_questions(DEFAULT_TRAIN, DEFAULT_OVERLAP)
    todo = [e for e in ordered if question_type(e.question)][: args.questions or None]
    out = cache_file(args.setting)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {json.loads(line)["id"] for line in out.read_text().splitlines()} if out.exists() else set()
    todo = [e for e in todo if e.qid not in done]
    settings = Settings.from_env()
    if args.setting in ("open", "absent"):
        assistant = Assistant.build(articles, settings.cache_dir / "calibration" / "heldout-index", settings, progress=True)
        reader = assistant.reader
    else:
        reader = make_reader(settings)
    reader.warm_up()
    ids = [a.id for a in articles]
    started = time.monotonic()
    print(f"{len(todo)} questions to read ({len(done)} already in {out})", flush=True)
    with out.open("a", encoding="utf-8") as f:
        for lo in range(0, len(todo), args.batch):
            batch = todo[lo: lo + args.batch]
            if args.setting in ("own", "wikinews"):
                texts = [[e.context] for e in batch]
            else:
                texts = []
                for e in batch:
                    own = squad[e.qid].article_id
                    scope = Scope.parse(articles=[i for i in ids if i != own]) if args.setting == "absent" else None
                    texts.append([h.text for h in assistant.retrieve(e.question, scope=scope)])
            readings = reader.read_many([(e.question, t) for e, t in zip(batch, texts)])
            for e, t, read in zip(batch, texts, readings):
                f.write(json.dumps({
                    "id": e.qid, "question": e.question, "golds": [a for a, _ in e.answers], "passages": t,
                    "readings": [None if r.span is None else [_span(r.span)] + [_span(s) for s in r.alternatives]
                                 for r in read]}) + "\n")
            f.flush()
            print(f"{len(done) + lo + len(batch)} ({time.monotonic() - started:.0f} s)", flush=True)


def wikinews_questions(folder: Path) -> list[SimpleNamespace]:
    """QAMR's questions on Wikinews paragraphs, dev then test, each with its paragraph and golds
    (shaped as the held-out questions are: `qid`, `question`, `context`, `answers` as (text, _))."""
    from index.load import load_squad

    out = []
    for part in ("dev", "test"):
        articles, questions = load_squad(folder / f"qamr-wikinews-{part}.squad.json")
        texts = {a.id: a.text for a in articles}
        out += [SimpleNamespace(qid=q.id, question=q.question, context=texts[q.article_id][q.context_start:q.context_end],
                                answers=[(a, None) for a in q.answers]) for q in questions]
    return out


def _readings(row: dict) -> list[PassageReading]:
    out = []
    for spans in row["readings"]:
        spans = [Span(*s) for s in spans or []]
        out.append(PassageReading(spans[0] if spans else None, spans[0].null_score if spans else 0.0, tuple(spans[1:])))
    return out


def shown_answer(row: dict, rules: frozenset[str], threshold: float) -> str | None:
    """The answer the policy shows with `rules` on (None: "not found")."""
    hits = [SimpleNamespace(text=t) for t in row["passages"]]
    best = best_answer(hits, _readings(row), question_type(row["question"]) if rules else None, row["question"], rules)
    if best is None or best[0] <= threshold:
        return None
    raw, hit, span = best
    return hit.text[span.char_start:span.char_end]


def scores(rows: list[dict], rules: frozenset[str], threshold: float) -> dict:
    """SQuAD F1 (an unanswerable question scores 1 for no answer, else 0) and no-answer accuracy
    over `rows`, with `rules` applied; answers withheld: shown without the rules, not with them."""
    f1s, no_answer, withheld = [], [], 0
    for row in rows:
        answer = shown_answer(row, rules, threshold)
        golds = row["golds"]
        f1s.append(best_over_golds(f1, answer or "", golds) if golds else float(answer is None))
        if not golds:
            no_answer.append(answer is None)
        withheld += answer is None and shown_answer(row, frozenset(), threshold) is not None
    return {"f1": round(100 * sum(f1s) / max(1, len(f1s)), 2), "withheld": withheld,
            "no_answer_accuracy": round(100 * sum(no_answer) / len(no_answer), 2) if no_answer else None}


def removals(rows: list[dict], rules: frozenset[str], threshold: float) -> tuple[Counter, list[dict]]:
    counts, examples = Counter(), []
    for row in rows:
        before = shown_answer(row, frozenset(), threshold)
        counts["questions"] += 1
        if before is None:
            continue
        counts["shown"] += 1
        after = shown_answer(row, rules, threshold)
        if after == before:
            continue
        right = bool(row["golds"]) and best_over_golds(f1, before, row["golds"]) >= CORRECT_MIN_F1
        counts["removed_right" if right else "removed_wrong"] += 1
        if after is not None:
            counts["replaced_by_right" if row["golds"] and best_over_golds(f1, after, row["golds"]) >= CORRECT_MIN_F1
                   else "replaced_by_wrong"] += 1
        examples.append({"question": row["question"], "shown": before, "instead": after, "right": right,
                         "golds": row["golds"][:3]})
    return counts, examples


def wilson_lower(successes: int, n: int, z: float = WILSON_Z) -> float:
    """Lower bound of the Wilson score interval of a proportion (0 when n is 0)."""
    if n == 0:
        return 0.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    return (centre - spread) / (1 + z * z / n)


def keep(counts: Counter) -> bool:
    wrong, removed = counts["removed_wrong"], counts["removed_wrong"] + counts["removed_right"]
    return wilson_lower(wrong, removed) >= WRONG_PER_RIGHT / (WRONG_PER_RIGHT + 1)


def score(args) -> None:
    threshold = load_reader_settings(Path(args.reader)).no_answer_threshold
    rows = {s: [json.loads(line) for line in cache_file(s).read_text().splitlines()]
            for s in SETTINGS if cache_file(s).exists()}
    result = {"reader": Path(args.reader).name, "threshold": threshold,
              "questions": {s: len(r) for s, r in rows.items()},
              "rule": f"kept when, in open, the 80% Wilson lower bound of the wrong share of removals"
                      f" >= {WRONG_PER_RIGHT}/{WRONG_PER_RIGHT + 1}",
              "rules": {}}
    for kind, names in RULES.items():
        for name in names:
            entry = {"type": kind}
            total = Counter()
            for setting, r in rows.items():
                counts, examples = removals([x for x in r if question_type(x["question"]) == kind],
                                            frozenset({name}), threshold)
                entry[setting] = dict(counts, examples=examples[:EXAMPLES])
                if setting in CHOOSE_ON:
                    total += counts
            entry["keep"] = keep(total)
            entry["wrong_share_lower_bound"] = round(wilson_lower(
                total["removed_wrong"], total["removed_wrong"] + total["removed_right"]), 3)
            result["rules"][name] = entry
            print(f"{name:22s} keep={entry['keep']!s:5s} " + "  ".join(
                f"{s}: -{entry[s].get('removed_wrong', 0)} wrong -{entry[s].get('removed_right', 0)} right"
                for s in rows), flush=True)
    kept = frozenset(n for n, e in result["rules"].items() if e["keep"])
    result["kept"] = sorted(kept)
    result["together"] = {}
    for setting, r in rows.items():
        counts, examples = removals(r, kept, threshold)
        everything, _ = removals(r, ALL_RULES, threshold)
        result["together"][setting] = {
            "kept_rules": dict(counts), "all_rules": dict(everything),
            "scores": {"no_rules": scores(r, frozenset(), threshold), "kept_rules": scores(r, kept, threshold),
                       "all_rules": scores(r, ALL_RULES, threshold)}}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({"kept": result["kept"], "together": result["together"]}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("collect", help="read held-out questions in one setting; append to its cache")
    c.add_argument("--setting", choices=SETTINGS, required=True)
    c.add_argument("--questions", type=int, default=0, help="the first N checked held-out questions (0: all)")
    c.add_argument("--batch", type=int, default=16)
    c.add_argument("--threads", type=int, default=2)
    s = commands.add_parser("score", help="score every rule on the cached readings")
    s.add_argument("--reader", default=str(SHIPPED_READER))
    args = parser.parse_args()
    collect(args) if args.command == "collect" else score(args)


if __name__ == "__main__":
    main()
