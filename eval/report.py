"""Write a run's results to its folder (metrics.json, predictions.jsonl, report.md, plots) and format the headline table.

What this leaves out: computing the metrics (run_metrics) and drawing (plots).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from eval.plots import draw_plots
from eval.run_metrics import by_question_type
from eval.runner import QuestionOutcome

HEADLINE = (
    ("n", "questions", "{:.0f}"),
    ("exact_match", "exact match", "{:.2f}"),
    ("f1", "F1", "{:.2f}"),
    ("has_ans_f1", "F1, answerable", "{:.2f}"),
    ("no_ans_accuracy", "no-answer accuracy", "{:.2f}"),
    ("recall@1", "recall@1", "{:.2f}"),
    ("recall@5", "recall@5", "{:.2f}"),
    ("recall@10", "recall@10", "{:.2f}"),
    ("mrr", "MRR (0-1)", "{:.3f}"),
    ("citation_accuracy", "citation accuracy", "{:.2f}"),
    ("support_precision", "support precision", "{:.2f}"),
    ("support_recall", "support recall", "{:.2f}"),
    ("conflict_recall", "conflict recall", "{:.2f}"),
    ("conflict_precision", "conflict precision", "{:.2f}"),
    ("newest_wins_accuracy", "newest-wins accuracy", "{:.2f}"),
    ("answer_date_accuracy", "answer_date accuracy", "{:.2f}"),
    ("latency_ms_p50", "latency p50 (ms)", "{:.1f}"),
    ("latency_ms_p95", "latency p95 (ms)", "{:.1f}"),
)
WORST_SHOWN = 15


def headline_table(metrics: dict) -> str:
    """The headline metrics as a Markdown table (printed by the CLI and opening report.md)."""
    rows = ["| metric | value |", "|---|---:|"]
    for key, label, number_format in HEADLINE:
        if key in metrics:
            value = metrics[key]
            rows.append(f"| {label} | {'n/a' if value is None else number_format.format(value)} |")
    return "\n".join(rows)


def write_run(out_dir: Path, outcomes: list[QuestionOutcome], metrics: dict, run_info: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "predictions.jsonl", "w", encoding="utf-8") as f:
        for outcome in outcomes:
            f.write(json.dumps(dataclasses.asdict(outcome), ensure_ascii=False) + "\n")
    per_type = by_question_type(outcomes)
    document = {**metrics, "by_question_type": per_type, "run": run_info}
    (out_dir / "metrics.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plots = draw_plots(outcomes, out_dir, run_info["retrieval_depth"])
    (out_dir / "report.md").write_text(_report_markdown(outcomes, metrics, per_type, run_info, plots), encoding="utf-8")


def _report_markdown(outcomes, metrics, per_type, run_info, plots) -> str:
    lines = [f"# Evaluation: {Path(run_info['gold']).name}", ""]
    lines += [f"- {key.replace('_', ' ')}: {value}" for key, value in run_info.items()]
    lines += ["", "## Headline", "", headline_table(metrics), ""]
    lines += [
        "Shares of questions are percentages; MRR is 0-1. Retrieval is judged on answerable questions",
        "with a known gold passage, citations on answerable questions the assistant answered.",
        "",
        "## By question word",
        "",
        "| question word | n | exact match | F1 |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {kind} | {row['n']} | {row['exact_match']:.2f} | {row['f1']:.2f} |" for kind, row in per_type.items()]
    lines += _reliability_markdown(metrics.get("reliability"))
    if plots:
        lines += ["", "## Plots", ""] + [f"![{name[:-4].replace('_', ' ')}]({name})" for name in plots]
    misses = sorted((o for o in outcomes if o.has_answer and o.f1 < 1), key=lambda o: (o.f1, o.id))[:WORST_SHOWN]
    if misses:
        lines += ["", f"## Worst answers ({len(misses)} lowest F1)", "", "| id | question | gold | predicted | F1 |", "|---|---|---|---|---:|"]
        lines += [
            f"| {_cell(o.id)} | {_cell(_asked(o))} | {_cell(' / '.join(o.gold_answers))} | "
            f"{_cell(o.prediction) or '*(no answer)*'} | {100 * o.f1:.0f} |"
            for o in misses
        ]
    false_answers = [o for o in outcomes if not o.has_answer and o.found][:WORST_SHOWN]
    if false_answers:
        lines += ["", "## Answers to questions the articles do not answer", "", "| id | question | predicted | score |", "|---|---|---|---:|"]
        lines += [
            f"| {_cell(o.id)} | {_cell(_asked(o))} | {_cell(o.prediction)} | {_score(o.score)} |" for o in false_answers
        ]
    return "\n".join(lines) + "\n"


def _reliability_markdown(table: dict | None) -> list[str]:
    if not table or not table["n"]:
        return []
    lines = ["", "## Reliability of the confidence shown", "",
             f"Answers given: {table['n']}. Right means {table['correct']}. A calibrated score has its mean "
             "confidence close to its accuracy in every row.", "",
             "| confidence shown | answers | mean confidence (%) | right (%) |", "|---|---:|---:|---:|"]
    lines += [f"| {b['low']:.1f}–{b['high']:.1f} | {b['n']} | {b['mean_confidence']:.1f} | {b['accuracy']:.1f} |"
              for b in table["bins"] if b["n"]]
    lines += ["", "| label | answers | mean confidence (%) | right (%) |", "|---|---:|---:|---:|"]
    lines += [f"| {label} | {row['n']} | {_percent_cell(row['mean_confidence'])} | {_percent_cell(row['accuracy'])} |"
              for label, row in table["by_label"].items()]
    if table["expected_calibration_error"] is not None:
        lines += ["", f"Expected calibration error: {table['expected_calibration_error']:.1f} percentage points."]
    return lines


def _percent_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _asked(outcome: QuestionOutcome) -> str:
    if outcome.resolved_question and outcome.resolved_question != outcome.question:
        return f"{outcome.question} → {outcome.resolved_question}"
    return outcome.question


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _score(score: float | None) -> str:
    return "" if score is None else f"{score:.2f}"
