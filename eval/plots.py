"""Plots of a run, as PNG files: F1 by question type, latency histogram, recall@k curve, score calibration,
reliability of the confidence shown (per bin and per label).

Drawn with matplotlib's Agg backend (no display needed); a plot with nothing to show (no retrieval
in an oracle run, no reader scores) is skipped rather than drawn empty. What this leaves out: the
numbers themselves, which are in metrics.json and report.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval.run_metrics import by_question_type, recall_at, reliability
from eval.runner import QuestionOutcome

CALIBRATION_BINS = 10


def draw_plots(outcomes: list[QuestionOutcome], out_dir: Path, retrieval_depth: int) -> list[str]:
    """Write the plots into out_dir; returns the file names written, in report order."""
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: a run on a server has no display
    import matplotlib.pyplot as plt

    written = []
    drawers = (
        ("f1_by_question_type.png", _f1_by_question_type),
        ("latency_histogram.png", _latency_histogram),
        ("recall_at_k.png", lambda ax_fig, o: _recall_at_k(ax_fig, o, retrieval_depth)),
        ("score_calibration.png", _score_calibration),
        ("reliability.png", _reliability),
    )
    for name, draw in drawers:
        figure = plt.figure(figsize=(7, 4.2))
        try:
            if draw(figure, outcomes):
                figure.tight_layout()
                figure.savefig(out_dir / name, dpi=110)
                written.append(name)
        finally:
            plt.close(figure)
    return written


def _f1_by_question_type(figure, outcomes) -> bool:
    groups = by_question_type(outcomes)
    if not groups:
        return False
    ax = figure.add_subplot()
    kinds = list(groups)[::-1]  # most frequent at the top
    f1_values = [groups[kind]["f1"] for kind in kinds]
    bars = ax.barh(kinds, f1_values, color="#4c72b0")
    for bar, kind in zip(bars, kinds):
        ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, f"n={groups[kind]['n']}", va="center", fontsize=8)
    ax.set_xlim(0, 110)
    ax.set_xlabel("F1 (0-100)")
    ax.set_title("Answer F1 by question word")
    return True


def _latency_histogram(figure, outcomes) -> bool:
    latencies = np.array([o.latency_ms for o in outcomes], dtype=float)
    if not latencies.size:
        return False
    ax = figure.add_subplot()
    ax.hist(latencies, bins=min(40, max(5, latencies.size // 3)), color="#55a868")
    for q, style in ((50, "--"), (95, ":")):
        value = float(np.percentile(latencies, q))
        ax.axvline(value, color="black", linestyle=style, label=f"p{q} = {value:.0f} ms")
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency")
    ax.legend()
    return True


def _recall_at_k(figure, outcomes, retrieval_depth: int) -> bool:
    judged = [o for o in outcomes if o.retrieval_judged]
    if not judged:
        return False
    ks = np.arange(1, retrieval_depth + 1)
    ax = figure.add_subplot()
    ax.plot(ks, [recall_at(judged, int(k)) for k in ks], marker="o", color="#c44e52")
    ax.set_xticks(ks)
    ax.set_ylim(0, 105)
    ax.set_xlabel("k (passages retrieved)")
    ax.set_ylabel("recall@k (%)")
    ax.set_title(f"Gold passage among the top k ({len(judged)} answerable questions)")
    ax.grid(alpha=0.3)
    return True


def _score_calibration(figure, outcomes) -> bool:
    """Left: does a higher reader score mean a better answer? Right: do scores separate no-answer questions?"""
    scored = [o for o in outcomes if o.score is not None]
    if not scored:
        return False
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    left = figure.add_subplot(1, 2, 1)
    answered = [o for o in scored if o.found]
    centers, mean_f1, counts = [], [], []
    for low, high in zip(edges[:-1], edges[1:]):
        in_bin = [o for o in answered if low <= o.score < high or (high == 1 and o.score == 1)]
        if in_bin:
            centers.append((low + high) / 2)
            mean_f1.append(100 * float(np.mean([o.f1 for o in in_bin])))
            counts.append(len(in_bin))
    left.plot([0, 1], [0, 100], color="grey", linestyle="--", linewidth=1, label="calibrated")
    left.scatter(centers, mean_f1, s=[10 + 4 * c for c in counts], color="#8172b2", label="answers (size = count)")
    left.set_xlim(0, 1)
    left.set_ylim(0, 105)
    left.set_xlabel("reader score")
    left.set_ylabel("mean F1 of answers given")
    left.set_title("Calibration", fontsize=10)
    left.legend(fontsize=7, loc="upper left")

    right = figure.add_subplot(1, 2, 2)
    groups = [
        ([o.score for o in scored if o.has_answer == has_answer], label, color)
        for has_answer, label, color in ((True, "answerable", "#4c72b0"), (False, "not answerable", "#dd8452"))
    ]
    groups = [(scores, f"{label} ({len(scores)})", color) for scores, label, color in groups if scores]
    right.hist([g[0] for g in groups], bins=edges, stacked=True, label=[g[1] for g in groups], color=[g[2] for g in groups])
    right.set_xlabel("reader score")
    right.set_ylabel("questions")
    right.set_title("Scores by answerability", fontsize=10)
    right.legend(fontsize=7)
    return True


def _reliability(figure, outcomes) -> bool:
    """Left: accuracy against the confidence shown, per bin (on the diagonal when calibrated).
    Right: the same per label."""
    table = reliability(outcomes)
    if not table["n"]:
        return False
    left = figure.add_subplot(1, 2, 1)
    filled = [b for b in table["bins"] if b["n"]]
    left.plot([0, 100], [0, 100], color="grey", linestyle="--", linewidth=1, label="calibrated")
    left.bar([100 * (b["low"] + b["high"]) / 2 for b in filled], [b["accuracy"] for b in filled],
             width=100 / len(table["bins"]) * 0.9, color="#4c72b0", alpha=0.8, label="right (%)")
    left.scatter([b["mean_confidence"] for b in filled], [b["accuracy"] for b in filled], color="black", s=12,
                 zorder=3, label="mean confidence")
    for b in filled:
        left.text(100 * (b["low"] + b["high"]) / 2, b["accuracy"] + 2, str(b["n"]), ha="center", fontsize=7)
    left.set_xlim(0, 100)
    left.set_ylim(0, 110)
    left.set_xlabel("confidence shown (%)")
    left.set_ylabel(f"answers right, {table['correct']} (%)")
    left.set_title("Reliability (numbers: answers per bin)", fontsize=10)
    left.legend(fontsize=7, loc="upper left")

    right = figure.add_subplot(1, 2, 2)
    labels = [label for label, row in table["by_label"].items() if row["n"]]
    x = np.arange(len(labels))
    rows = [table["by_label"][label] for label in labels]
    right.bar(x - 0.2, [r["mean_confidence"] for r in rows], width=0.4, color="#8172b2", label="mean confidence")
    right.bar(x + 0.2, [r["accuracy"] for r in rows], width=0.4, color="#55a868", label="right")
    right.set_xticks(x, [f"{label}\n({r['n']})" for label, r in zip(labels, rows)])
    right.set_ylim(0, 110)
    right.set_ylabel("%")
    right.set_title("By label (answers)", fontsize=10)
    right.legend(fontsize=7)
    return True
