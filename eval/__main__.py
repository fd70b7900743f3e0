"""Command line of the evaluation: `python -m eval score ...` and `python -m eval run ...`.

`score` checks a SQuAD predictions file against a SQuAD dataset and prints the official metrics as
JSON. `run` asks every question of a gold file through `qa.Assistant`, prints the headline table
and writes metrics.json, predictions.jsonl, report.md and plots to a run folder. Errors a user can
cause print one line and exit 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

from eval.gold_questions import load_gold
from qa.errors import QAError

RUNS_DIR = Path(__file__).resolve().parent / "runs"
MIN_RETRIEVAL_DEPTH = 10  # recall@10 needs ten passages, whatever the reader reads


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Evaluate the question-answering assistant.")
    commands = parser.add_subparsers(dest="command", required=True)

    score = commands.add_parser("score", help="score a SQuAD predictions file like the official scripts")
    score.add_argument("dataset", type=Path, help="SQuAD v1.1 or v2.0 dataset JSON")
    score.add_argument("predictions", type=Path, help='JSON {question id: answer text}; "" = no answer')

    run = commands.add_parser("run", help="ask a gold file's questions through the assistant and report")
    run.add_argument("gold", type=Path, help="JSON-lines questions or conversations, or a SQuAD JSON file")
    run.add_argument(
        "--index",
        type=Path,
        default=None,
        help="index folder (default: the bundled article's index, or for a SQuAD file an index of its paragraphs)",
    )
    run.add_argument("--oracle", action="store_true", help="give the reader only each question's gold passage")
    run.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        help="ask a fixed-seed random sample of N questions (of a conversations file: N conversations)",
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the --limit sample (default 0)")
    run.add_argument("--top-k", type=_positive_int, default=None, help="passages the reader reads (default: the settings')")
    run.add_argument(
        "--no-answer-threshold",
        type=float,
        default=None,
        help="override the reader's shipped no-answer threshold (--no-answer-threshold=-inf always answers, to measure spans alone)",
    )
    run.add_argument("--out", type=Path, default=None, help="output folder (default: a new one under eval/runs/)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "score":
            return _score(args)
        return _run(args)
    except QAError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def _score(args) -> int:
    from eval.squad_score import score_files

    print(json.dumps(score_files(args.dataset, args.predictions), indent=2))
    return 0


def _run(args) -> int:
    from eval.corpus import describe_corpus, open_assistant
    from eval.report import headline_table, write_run
    from eval.run_metrics import summarize_outcomes
    from eval.runner import run_gold_set
    from qa.reader.registry import reader_folder
    from qa.settings import Settings

    settings = Settings.from_env(top_k=args.top_k, no_answer_threshold=args.no_answer_threshold)
    gold_set = load_gold(args.gold).sample(args.limit, args.seed)
    out_dir = args.out if args.out is not None else _new_run_dir(args.gold)
    retrieval_depth = max(MIN_RETRIEVAL_DEPTH, settings.top_k)
    run_info = {
        "gold": str(args.gold),
        "gold_sha256": gold_set.sha256,
        "gold_kind": gold_set.kind,
        "corpus": describe_corpus(gold_set, args.index, settings),
        "oracle": args.oracle,
        "top_k": settings.top_k,
        "retrieval_depth": retrieval_depth,
        "limit": args.limit,
        "seed": args.seed,
        "reader": settings.reader,
        "reader_model": reader_folder(settings),
        "no_answer_threshold": settings.no_answer_threshold,  # None: the reader's shipped one
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    assistant = open_assistant(gold_set, args.index, settings, progress=not args.quiet)
    outcomes = run_gold_set(
        assistant,
        gold_set,
        top_k=settings.top_k,
        retrieval_depth=retrieval_depth,
        oracle=args.oracle,
        show_progress=not args.quiet,
    )
    metrics = summarize_outcomes(outcomes)
    write_run(out_dir, outcomes, metrics, run_info)
    print(headline_table(metrics))
    print(f"\nreport: {out_dir / 'report.md'}")
    return 0


def _new_run_dir(gold_path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = RUNS_DIR / f"{stamp}-{gold_path.stem}"
    suffix = 2
    while candidate.exists():
        candidate = RUNS_DIR / f"{stamp}-{gold_path.stem}-{suffix}"
        suffix += 1
    return candidate


if __name__ == "__main__":
    sys.exit(main())
