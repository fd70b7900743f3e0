"""Calibrate the reader's answer score on held-out questions: raw score -> P(the answer is right).

    python -m qa.reader.training.calibrate collect    # read the held-out questions, keep their raw scores
    python -m qa.reader.training.calibrate fit        # fit the map and the labels, write calibration.json
    python -m qa.reader.training.calibrate compare    # the shipped map against a refit, on kept scores

The questions are those of the SQuAD 2.0 train articles that training held out (`split_by_article`
with the recipe's fraction and seed: 13 whole articles, never trained on), in the seeded order the
training scored them in (`heldout_order`), so any prefix is a random sample of them. Never dev data.
Each question is asked as the chat asks it (`--setting open`, the default): the real assistant
(shipped reader, the packaged embedder, fused retrieval over an index of the 13 articles) reads
the top 5 passages it retrieves, and the best span's raw score is what
`qa.answer_policy.best_answer` computes for any question, with the answer-type rules the policy
applies. `--setting own` reads each question's own paragraph instead (the evaluation's --oracle):
the map fitted on that setting promised too much in the chat's (on these questions, leave one
article out: expected calibration error 8.5 points on the answers shown, against 2.5 for the
open-fitted map; `compare`), since a retrieved passage that is not the question's own adds wrong
answers the oracle does not see.

"Right" means token F1 >= 0.5 against a gold answer (SQuAD normalisation); a span given for an
unanswerable question is wrong. The map is an isotonic regression (pool adjacent violators), each
pooled block smoothed as (right + 1) / (n + 2) so a small block at either end never claims
certainty, and made monotone again; between block centres it is linear. The label thresholds and
the candidate floor are chosen on leave-one-article-out predictions (each article's questions
scored by a map fitted on the other twelve), so the accuracy they promise is measured on articles
the map did not see. `collect` also keeps each question's cosine similarity to its own passage and
to the nearest passage of another article that shares no content word with it, which is what
chose `Settings.related_min_cosine`.

What this leaves out: the no-answer threshold (chosen at training, left as it is).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from qa.confidence import CALIBRATION_FILE, CORRECT_MIN_F1
from qa.settings import SHIPPED_READER, Settings

DEFAULT_SCORES = Settings().cache_dir / "calibration" / "heldout-scores-open.jsonl"
HIGH_TARGET = 0.90  # share of "high" answers that must be right
MEDIUM_FLOOR = 0.5  # "medium": more likely right than wrong; below: "low"
CANDIDATE_TARGET = 0.3  # a declined span is offered when spans like it are right at least this often
MIN_LABELLED = 50  # fewest held-out answers a label threshold may rest on


SETTING_TEXT = {"own": "oracle reading of each question's own paragraph",
                "open": "the top 5 passages retrieved from an index of the held-out articles, as the chat asks"}


# ---- fitting (pure numpy) ------------------------------------------------------------------------
def fit_isotonic(raw: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots (raw scores ascending, probabilities non-decreasing) of the smoothed isotonic map.

    The isotonic regressions are scikit-learn's (`IsotonicRegression`, pool adjacent violators);
    its blocks are the runs of equal fitted values. It gives the hand-written version's map except
    where values tie: tied raw scores are pooled before fitting (so one raw score never gets two
    knots), and neighbours whose smoothed probabilities are equal are merged as the algorithm
    intends (the hand-written one kept some apart on a last-bit difference). On 200 synthetic fits
    without ties the maps differed in 3, by at most 0.03.
    """
    from sklearn.isotonic import IsotonicRegression

    raw, correct = np.asarray(raw, dtype=float), np.asarray(correct, dtype=float)
    order = np.argsort(raw, kind="stable")
    raw, correct = raw[order], correct[order]

    def blocks(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> list[np.ndarray]:
        fitted = IsotonicRegression(increasing=True).fit(x, y, sample_weight=weights).predict(x)
        # one block's fitted values can differ in the last bits (sums taken in another order)
        return np.split(np.arange(len(x)), np.flatnonzero(np.diff(fitted) > 1e-12) + 1)

    pooled = blocks(raw, correct)
    centres = np.array([raw[b].mean() for b in pooled])
    counts = np.array([len(b) for b in pooled], dtype=float)
    smoothed = np.array([(correct[b].sum() + 1) / (len(b) + 2) for b in pooled])
    # smoothing can undo the order of two small neighbours: pool them again, weighted by size
    groups = blocks(centres, smoothed, counts)
    xs = np.array([np.average(centres[g], weights=counts[g]) for g in groups])
    ps = np.array([np.average(smoothed[g], weights=counts[g]) for g in groups])
    return xs, ps


def apply_map(xs: np.ndarray, ps: np.ndarray, raw: np.ndarray) -> np.ndarray:
    return np.interp(raw, xs, ps)


def leave_one_group_out(raw: np.ndarray, correct: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row's probability from a map fitted without its group (its article)."""
    out = np.zeros(len(raw))
    for group in np.unique(groups):
        held = groups == group
        xs, ps = fit_isotonic(raw[~held], correct[~held])
        out[held] = apply_map(xs, ps, raw[held])
    return out


def lowest_threshold(probability: np.ndarray, correct: np.ndarray, target: float,
                     min_count: int = MIN_LABELLED) -> float | None:
    """The lowest t such that the rows with probability >= t are right at least `target` of the
    time (and there are at least `min_count` of them); None when no t qualifies."""
    best = None
    for t in np.unique(probability)[::-1]:
        chosen = probability >= t
        if chosen.sum() >= min_count and correct[chosen].mean() >= target:
            best = float(t)
    return best


def band(probability: np.ndarray, correct: np.ndarray, low: float, high: float = math.inf) -> dict:
    chosen = (probability >= low) & (probability < high)
    n = int(chosen.sum())
    return {"n": n, "accuracy": float(correct[chosen].mean()) if n else None,
            "mean_probability": float(probability[chosen].mean()) if n else None}


def load_scores(path: str | Path) -> list[dict]:
    """The rows `collect` wrote."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def scored(rows: list[dict]) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    """The rows with a raw score (a span was proposed), and their raw scores, whether each is
    right (1.0 / 0.0) and its article: what fitting and comparing maps work on."""
    rows = [r for r in rows if r["raw"] is not None]
    return (rows, np.array([r["raw"] for r in rows]),
            np.array([r["f1"] >= CORRECT_MIN_F1 for r in rows], dtype=float), np.array([r["title"] for r in rows]))


def fit(rows: list[dict], threshold: float) -> dict:
    """The calibration document: table, labels, candidate floor and the held-out figures behind them."""
    rows, raw, correct, groups = scored(rows)
    xs, ps = fit_isotonic(raw, correct)
    cv = leave_one_group_out(raw, correct, groups)
    answered = raw > threshold
    found_high = lowest_threshold(cv[answered], correct[answered], HIGH_TARGET)
    # nothing reaching the target means no answer is labelled "high" (an unreachable threshold)
    high = math.inf if found_high is None else found_high
    medium = min(MEDIUM_FLOOR, high)
    declined = ~answered
    found_floor = lowest_threshold(cv[declined], correct[declined], CANDIDATE_TARGET)
    floor = math.inf if found_floor is None else found_floor
    full = apply_map(xs, ps, raw)
    # what other targets for "high" would give, for whoever weighs coverage against the promise
    other_targets = {}
    for target in (0.85, 0.8):
        t = lowest_threshold(cv[answered], correct[answered], target)
        other_targets[f"{target:.0%}"] = None if t is None else {
            "threshold": round(t, 4), **band(cv[answered], correct[answered], t)}

    def labelled(p):
        return {"high": band(p[answered], correct[answered], high),
                "medium": band(p[answered], correct[answered], medium, high),
                "low": band(p[answered], correct[answered], -math.inf, medium),
                "candidates": band(p[declined], correct[declined], floor)}

    return {
        "what": "raw answer score (best span's margin over no answer, less log of its passage rank) -> "
                "probability that the answer is right",
        "correct": f"token F1 >= {CORRECT_MIN_F1} against a gold answer; any span for an unanswerable question is wrong",
        "method": "isotonic regression (pool adjacent violators) of right/wrong on the raw score; each block "
                  "smoothed as (right + 1) / (n + 2) and pooled again to stay monotone; linear between block "
                  "centres, constant beyond the ends. Label thresholds and the candidate floor chosen on "
                  "leave-one-article-out probabilities.",
        "data": {
            "source": "SQuAD 2.0 train, the articles the reader's training held out (qa.reader.training.train.split_by_article, "
                      "recipe seed and fraction), questions in qa.reader.training.train.heldout_order, asked through "
                      "qa.Assistant: " + " and ".join(sorted(SETTING_TEXT[s] for s in {r.get("setting", "own") for r in rows})),
            "questions": len(rows), "articles": int(len(np.unique(groups))),
            "answerable": int(sum(1 for r in rows if r["has_answer"])),
            "right": int(correct.sum()),
            "no_answer_threshold": threshold,
        },
        "table": {"raw_scores": [round(float(x), 4) for x in xs], "probabilities": [round(float(p), 4) for p in ps]},
        "labels": {"high": None if found_high is None else round(high, 4), "medium": round(medium, 4),
                   "rule": f"high: the lowest probability at which held-out answers at or above it are right "
                           f">= {HIGH_TARGET:.0%} of the time (null: no {MIN_LABELLED} or more answers are, so no "
                           f"answer is labelled high); medium: >= {MEDIUM_FLOOR} (more likely right than wrong); "
                           f"low: below"},
        "candidate_floor": None if found_floor is None else round(floor, 4),
        "candidate_rule": f"declined spans at or above this probability are right >= {CANDIDATE_TARGET:.0%} of the "
                          f"time (null: none are, so no candidate is offered)",
        "heldout": {"leave_one_article_out": labelled(cv), "in_sample": labelled(full),
                    "answered": int(answered.sum()), "declined": int(declined.sum()),
                    "high_at_other_targets": other_targets},
        "made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


# ---- collecting (the real assistant) ---------------------------------------------------------------
def heldout_questions(train_file: Path, overlap_file: Path):
    """(held-out questions in the training's seeded order, their articles, qid -> SquadQuestion)."""
    from index.load import squad_articles
    from qa.reader.training.train import Recipe, heldout_order, load_examples, overlap_ids, split_by_article

    recipe = Recipe()
    examples = load_examples(train_file, overlap_ids(overlap_file))
    _, held = split_by_article(examples, recipe.heldout_fraction, recipe.seed)
    titles = {e.title for e in held}
    data = json.loads(Path(train_file).read_text())["data"]
    articles, squad = squad_articles({"data": [a for a in data if a["title"] in titles]})
    return heldout_order(held, recipe.seed), articles, {q.id: q for q in squad}


def collect(args) -> None:
    from index.sparse import content_terms
    from qa.answer_policy import best_answer
    from qa.answer_type import checked_type
    from qa.assistant import Assistant
    from qa.retrieve import question_terms
    from qa.metrics import best_over_golds, exact_match, f1

    started = time.monotonic()
    ordered, articles, squad = heldout_questions(Path(args.train_file), Path(args.overlap_file))
    if args.limit:
        ordered = ordered[: args.limit]
    settings = Settings.from_env()
    folder = settings.cache_dir / "calibration" / "heldout-index"
    assistant = Assistant.build(articles, folder, settings, progress=True)
    assistant.warm_up()
    passages = [p for a in articles for p in assistant.collection.passages_of(a.id)]
    vectors = assistant.embedder.embed([p.text for p in passages])
    terms = [content_terms(p.text) for p in passages]
    out = Path(args.scores)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {json.loads(line)["id"] for line in out.read_text().splitlines()} if out.exists() else set()
    todo = [e for e in ordered if e.qid not in done]
    print(f"{len(ordered)} held-out questions, {len(done)} already scored, {len(passages)} passages")
    with out.open("a", encoding="utf-8") as f:
        for lo in range(0, len(todo), args.batch):
            if time.monotonic() - started > 60 * args.max_minutes:
                print(f"stopped after {args.max_minutes} minutes; run again to continue")
                break
            batch = todo[lo: lo + args.batch]
            own = [[i for i, p in enumerate(passages) if p.article_id == squad[e.qid].article_id
                    and p.start < squad[e.qid].context_end and p.end > squad[e.qid].context_start] for e in batch]
            hits = [assistant.oracle_hits(e.question, [passages[i] for i in ids]) if args.setting == "own"
                    else assistant.retrieve(e.question) for e, ids in zip(batch, own)]
            readings = assistant.reader.read_many([(e.question, [h.text for h in hs]) for e, hs in zip(batch, hits)])
            questions = assistant.embedder.embed([e.question for e in batch])
            for e, ids, hs, read, q in zip(batch, own, hits, readings, questions):
                best = best_answer(hs, read, checked_type(e.question), e.question)
                answer = best[1].text[best[2].char_start:best[2].char_end] if best else ""
                golds = [a for a, _ in e.answers]
                cosine = vectors @ q
                q_terms = question_terms(e.question)
                article = squad[e.qid].article_id
                other = [i for i, p in enumerate(passages) if p.article_id != article and not (terms[i] & q_terms)]
                f.write(json.dumps({
                    "id": e.qid, "title": e.title, "setting": args.setting, "has_answer": bool(golds),
                    "raw": None if best is None else round(float(best[0]), 5), "answer": answer,
                    "f1": best_over_golds(f1, answer, golds), "em": best_over_golds(exact_match, answer, golds),
                    "own_cosine": round(float(cosine[ids].max()), 5) if ids else None,
                    "own_shares_word": any(terms[i] & q_terms for i in ids),
                    "nearest_unrelated_cosine": round(float(cosine[other].max()), 5) if other else None,
                }) + "\n")
            f.flush()
            print(f"{min(lo + args.batch, len(todo)) + len(done)}/{len(ordered)} "
                  f"({time.monotonic() - started:.0f} s)", flush=True)


def fit_command(args) -> None:
    from qa.reader.transformers_reader import load_reader_settings

    rows = load_scores(args.scores)
    threshold = load_reader_settings(Path(args.reader)).no_answer_threshold
    document = fit(rows, threshold)
    document["related_cosine"] = related_cosine_summary(rows)
    text = json.dumps(document, indent=2) + "\n"
    if args.write:
        (Path(args.reader) / CALIBRATION_FILE).write_text(text)
        print(f"wrote {Path(args.reader) / CALIBRATION_FILE}")
    print(text)


def reliability(probability: np.ndarray, correct: np.ndarray, bins: int = 10) -> dict:
    """How far stated probabilities sit from observed accuracy: expected calibration error over
    equal-width bins (weighted by their size), Brier score, and each bin's figures."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(probability, edges[1:-1]), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            gap = abs(probability[chosen].mean() - correct[chosen].mean())
            ece += gap * chosen.mean()
            table.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(chosen.sum()),
                          "mean_probability": round(float(probability[chosen].mean()), 4),
                          "accuracy": round(float(correct[chosen].mean()), 4)})
    return {"n": int(len(probability)), "ece": round(float(ece), 4),
            "brier": round(float(np.mean((probability - correct) ** 2)), 4), "bins": table}


def compare_command(args) -> None:
    """The --reader's map against one fitted on --scores (leave one article out), on the answers
    shown in those scores: what a user is told against how often it is right."""
    from qa.confidence import load_calibration
    from qa.reader.transformers_reader import load_reader_settings

    rows, raw, correct, groups = scored(load_scores(args.scores))
    threshold = load_reader_settings(Path(args.reader)).no_answer_threshold
    shown = raw > threshold
    given = load_calibration(Path(args.reader))
    stated = np.array([given.probability(x) for x in raw])
    made_at = json.loads((Path(args.reader) / CALIBRATION_FILE).read_text()).get("made_at")
    refit = leave_one_group_out(raw, correct, groups)
    document = {"scores": Path(args.scores).name, "questions": len(rows), "shown": int(shown.sum()),
                "right_when_shown": round(float(correct[shown].mean()), 4),
                "reader_map": {"made_at": made_at, **reliability(stated[shown], correct[shown])},
                "map_fitted_on_these_scores_leave_one_article_out": reliability(refit[shown], correct[shown])}
    text = json.dumps(document, indent=1) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    print(text)


def related_cosine_summary(rows: list[dict]) -> dict:
    """How question-passage cosines spread: a question's own passage, and the nearest passage of
    another article that shares no content word with it (what `related` must not claim)."""
    own = np.array([r["own_cosine"] for r in rows if r.get("own_cosine") is not None])
    own_no_word = np.array([r["own_cosine"] for r in rows if r.get("own_cosine") is not None
                            and not r.get("own_shares_word")])
    unrelated = np.array([r["nearest_unrelated_cosine"] for r in rows if r.get("nearest_unrelated_cosine") is not None])
    summary = {"questions": len(rows), "own_passage_shares_a_word": int(sum(1 for r in rows if r.get("own_shares_word")))}
    for name, values in (("own", own), ("own_sharing_no_word", own_no_word), ("nearest_unrelated", unrelated)):
        if len(values):
            summary[name] = {"n": int(len(values)),
                             **{f"p{q}": round(float(np.percentile(values, q)), 4) for q in (5, 25, 50, 75, 95, 99)}}
    if len(unrelated):
        summary["share_of_questions_with_an_unrelated_passage_at_or_above"] = {
            str(t): round(float((unrelated >= t).mean()), 4) for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)}
    if len(own_no_word):
        summary["share_of_own_passages_sharing_no_word_at_or_above"] = {
            str(t): round(float((own_no_word >= t).mean()), 4) for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)}
    return summary


def main(argv=None) -> None:
    from qa.reader.training.train import DEFAULT_OVERLAP, DEFAULT_TRAIN

    parser = argparse.ArgumentParser(prog="python -m qa.reader.training.calibrate", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("collect", help="read held-out questions and append their raw scores to --scores")
    c.add_argument("--train-file", default=str(DEFAULT_TRAIN))
    c.add_argument("--overlap-file", default=str(DEFAULT_OVERLAP))
    c.add_argument("--scores", default=str(DEFAULT_SCORES))
    c.add_argument("--setting", choices=("own", "open"), default="open",
                   help="own: read each question's own paragraph; open: the passages the assistant retrieves")
    c.add_argument("--limit", type=int, default=0, help="the first N held-out questions of the seeded order (0: all)")
    c.add_argument("--batch", type=int, default=32, help="questions read together")
    c.add_argument("--max-minutes", type=float, default=12.0, help="stop (keeping what was scored) after this long")
    f = commands.add_parser("fit", help="fit the map and labels on --scores")
    f.add_argument("--scores", default=str(DEFAULT_SCORES))
    f.add_argument("--reader", default=str(SHIPPED_READER), help="the reader's folder (its threshold; where to write)")
    f.add_argument("--write", action="store_true", help=f"write {CALIBRATION_FILE} into the reader's folder")
    k = commands.add_parser("compare", help="the shipped map against one fitted on --scores, on --scores' answers")
    k.add_argument("--scores", default=str(DEFAULT_SCORES))
    k.add_argument("--reader", default=str(SHIPPED_READER))
    k.add_argument("--out", default="", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    {"collect": collect, "fit": fit_command, "compare": compare_command}[args.command](args)


if __name__ == "__main__":
    main()
