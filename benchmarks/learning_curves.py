"""Plot readers' learning curves from their training logs: held-out F1 against examples seen and CPU-hours.

    python benchmarks/learning_curves.py "mpnet6 LoRA-16=~/.cache/newsqa/curve-lora/log.jsonl" \
        "mpnet6 full=~/.cache/newsqa/curve-full/log.jsonl" --out benchmarks/results/learning_curves

Each log is what `python -m qa.reader.training.train` writes beside its checkpoints: at every --eval-every
point the examples seen, the training steps' CPU seconds and the held-out scores. Two scores are
plotted: F1 with the best no-answer threshold (what the reader would score; a reader that always
declines already gets the unanswerable share of it) and F1 on the answerable questions with the
answer forced (whether it has learned to find spans at all). Writes a PNG and the points as JSON.

The shipped MiniLM reader's curve is drawn beside them from its model card
(qa/reader/weights/MODEL_CARD.md): its stages were scored on the first 1,500 questions of the same
seeded held-out order (the MPNet runs score its first 300), and its training log kept wall-clock
time only, so its CPU-hours are 2 threads x the wall-clock hours of its stages (an upper bound).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# (questions seen, cumulative wall-clock hours, F1, answerable F1 forced) of the MiniLM stages
MINILM_STAGES = [(48_000, 108 / 60, 56.1, 66.2), (104_000, 199 / 60, 60.7, 68.9), (127_000, 230 / 60, 62.0, 70.1),
                 (170_000, 287 / 60, 63.4, 71.4), (240_000, 381 / 60, 63.7, 71.8)]
MINILM_LABEL = "MiniLM-L6 full fine-tune (shipped; model card)"


def minilm_points() -> list[dict]:
    return [{"examples": n, "cpu_hours": round(2 * hours, 2), "f1": f1, "answerable_f1_forced": forced,
             "questions": 1500} for n, hours, f1, forced in MINILM_STAGES]


def points(log_path: Path) -> list[dict]:
    out = []
    for line in log_path.read_text().splitlines():
        row = json.loads(line)
        score = row.get("heldout300") or row.get("heldout")
        # one curve, one held-out sample: a re-export scored on all held-out questions is not a point of it
        if score is not None and "cpu_seconds" in row and (not out or score["n"] == out[0]["questions"]):
            out.append({"examples": row["examples"], "cpu_hours": round(row["cpu_seconds"] / 3600, 3),
                        "f1": round(score["f1"], 2), "answerable_f1_forced": round(score["has_ans_f1_forced"], 2),
                        "questions": score["n"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="LABEL=PATH/log.jsonl")
    parser.add_argument("--no-minilm", action="store_true", help="leave out the shipped MiniLM reader's curve")
    parser.add_argument("--earlier", type=Path, action="append", default=[],
                        help="a JSON file this script wrote before: its curves are drawn beside the new ones "
                             "(labelled with the file's name; their CPU-hours were measured on that run's host)")
    parser.add_argument("--continues", action="append", default=[], metavar="LABEL=N",
                        help="the run LABEL continued a reader that had already seen N questions: its points "
                             "are drawn from N on the questions axis")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "learning_curves")
    args = parser.parse_args()
    curves = {} if args.no_minilm else {MINILM_LABEL: minilm_points()}
    for earlier in args.earlier:
        for label, curve in json.loads(earlier.read_text()).items():
            if label != MINILM_LABEL:
                curves[f"{label} ({earlier.stem})"] = curve
    seen_before = {label: int(n) for label, n in (c.split("=", 1) for c in args.continues)}
    for run in args.runs:
        label, path = run.split("=", 1)
        curves[label] = [{**p, "examples": p["examples"] + seen_before.get(label, 0)}
                         for p in points(Path(path).expanduser())]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = {label: curve for label, curve in curves.items() if curve}
    legend_rows = (len(drawn) + 1) // 2  # the legend sits below both plots, two runs to a row
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2 + 0.22 * legend_rows))
    colours = plt.get_cmap("tab10" if len(drawn) <= 10 else "tab20")
    for i, (label, curve) in enumerate(drawn.items()):
        # one colour per run: its F1 solid, its answerable F1 with the answer forced dashed
        for ax, x in zip(axes, ("examples", "cpu_hours")):
            xs = [p[x] for p in curve]
            ax.plot(xs, [p["f1"] for p in curve], marker="o", markersize=4, color=colours(i), label=label)
            ax.plot(xs, [p["answerable_f1_forced"] for p in curve], marker="x", markersize=4, linestyle="--",
                    color=colours(i))
    axes[0].set_xlabel("training questions seen")
    axes[1].set_xlabel("training CPU-hours (2 cores)")
    for ax in axes:
        ax.set_xscale("log")  # MiniLM's 240,000 questions beside MPNet's tens of thousands
        ax.set_ylabel("held-out F1")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle("Reader learning curves on held-out SQuAD 2.0 train articles "
                 "(solid: F1; dashed: answerable F1, answer forced)", fontsize=10)
    fig.tight_layout(rect=(0, 0.045 * legend_rows + 0.02, 1, 1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out.with_suffix(".png"), dpi=90)
    args.out.with_suffix(".json").write_text(json.dumps(curves, indent=2) + "\n")
    for label, curve in curves.items():
        print(label)
        for p in curve:
            print(f"  {p['examples']:>6} questions  {p['cpu_hours']:.2f} CPU-h  F1 {p['f1']:.1f}  "
                  f"answerable forced {p['answerable_f1_forced']:.1f}  ({p['questions']} held-out)")


if __name__ == "__main__":
    main()
