"""Choose the default reader on held-out data from both of the product's domains.

    python benchmarks/choose_default_reader.py            # both readers, about 15 minutes on 2 cores

The rule (written in the README and applied to `Settings.reader`): the larger reader becomes the
default when it answers news better on the news selection set and loses no more than 2 F1 on the
held-out SQuAD train articles. Both sets are read as the product reads them (`python -m eval run
--oracle`, each question with its own paragraph, the reader's shipped threshold and precision):

- held-out SQuAD: every question of the train articles that training holds out (3 % of the
  articles, seed 13, the split both readers were trained with), never a dev set;
- news selection: 2,000 questions (seed 0) of QAMR's Wikinews *test* split. It is used for this
  choice only and never reported as a result; the dev split and the bundled gold pairs are.

Prints a table and writes benchmarks/results/default_reader_choice.json; the eval reports go to a
scratch folder, since neither set is a result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
NEWS_SELECTION = DATA / "news" / "qamr-wikinews-test.squad.json"
MAX_SQUAD_LOSS = 2.0
READERS = ("minilm", "mpnet")


def write_heldout_squad(path: Path) -> int:
    """The held-out train articles as a SQuAD 2.0 file (one entry per title and paragraph)."""
    sys.path.insert(0, str(ROOT))
    from qa.reader.training.train import DEFAULT_OVERLAP, DEFAULT_TRAIN, Recipe, load_examples, overlap_ids, split_by_article

    recipe = Recipe()
    examples = load_examples(DEFAULT_TRAIN, overlap_ids(DEFAULT_OVERLAP))
    _, held = split_by_article(examples, recipe.heldout_fraction, recipe.seed)
    articles: dict[str, dict[str, list]] = {}
    for e in held:
        qas = articles.setdefault(e.title, {}).setdefault(e.context, [])
        qas.append({"id": e.qid, "question": e.question, "is_impossible": not e.answers,
                    "answers": [{"text": t, "answer_start": s} for t, s in e.answers]})
    data = [{"title": title, "paragraphs": [{"context": c, "qas": q} for c, q in paragraphs.items()]}
            for title, paragraphs in articles.items()]
    path.write_text(json.dumps({"version": "v2.0", "data": data}))
    return len(held)


def evaluate(reader: str, gold: Path, out: Path, limit: int | None, *extra: str) -> dict:
    """`python -m eval run --oracle` with this reader; a finished report in `out` is reused."""
    if not (out / "metrics.json").is_file():
        command = [sys.executable, "-m", "eval", "run", str(gold), "--oracle", "--quiet", "--out", str(out), *extra]
        if limit is not None:
            command += ["--limit", str(limit), "--seed", "0"]
        subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "NEWSQA_READER": reader})
    return json.loads((out / "metrics.json").read_text())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--news-questions", type=int, default=2000)
    p.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "default_reader_choice.json"))
    p.add_argument("--scratch", default=None, help="folder for the reports (default: a new temporary one); "
                                                    "reports already finished there are reused")
    args = p.parse_args(argv)
    scratch = Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="reader-choice-"))
    scratch.mkdir(parents=True, exist_ok=True)
    heldout = scratch / "heldout-squad-train.json"
    n_heldout = write_heldout_squad(heldout)
    scores: dict[str, dict] = {}
    for reader in READERS:
        squad = evaluate(reader, heldout, scratch / reader / "heldout", None)
        news = evaluate(reader, NEWS_SELECTION, scratch / reader / "news", args.news_questions)
        # not part of the rule: the spans alone (always answering), to tell span quality from declining
        forced = evaluate(reader, NEWS_SELECTION, scratch / reader / "news-forced", args.news_questions,
                          "--no-answer-threshold=-inf")
        scores[reader] = {"heldout_squad_f1": squad["f1"], "heldout_squad_no_ans_accuracy": squad["no_ans_accuracy"],
                          "news_selection_f1": news["f1"], "news_selection_answered": news["answered_rate"],
                          "news_selection_f1_forced": forced["f1"], "news_selection_n": news["n"]}
    small, large = scores["minilm"], scores["mpnet"]
    wins_news = large["news_selection_f1"] > small["news_selection_f1"]
    squad_loss = small["heldout_squad_f1"] - large["heldout_squad_f1"]
    default = "mpnet" if wins_news and squad_loss <= MAX_SQUAD_LOSS else "minilm"
    print(f"{'reader':8} {'held-out SQuAD F1':>18} {'no-answer acc':>14} {'news F1':>8} {'answered %':>11} "
          f"{'news F1 forced':>15}")
    for reader, s in scores.items():
        print(f"{reader:8} {s['heldout_squad_f1']:18.1f} {s['heldout_squad_no_ans_accuracy']:14.1f} "
              f"{s['news_selection_f1']:8.1f} {s['news_selection_answered']:11.1f} {s['news_selection_f1_forced']:15.1f}")
    print(f"mpnet wins on news: {wins_news}; loses {squad_loss:.1f} F1 on held-out SQuAD "
          f"(at most {MAX_SQUAD_LOSS} allowed) -> default: {default}")
    Path(args.json).write_text(json.dumps({
        "rule": f"mpnet is the default when it beats minilm on the news selection set and loses at most "
                f"{MAX_SQUAD_LOSS} F1 on held-out SQuAD train articles",
        "heldout_questions": n_heldout, "news_selection": "qamr-wikinews-test, oracle, seed 0",
        "scores": scores, "default": default}, indent=1) + "\n")


if __name__ == "__main__":
    main()
