"""Which depth the MPNet reader's long campaign should train: the depth comparison's points, side by side.

    python benchmarks/depth_choice.py [--runs ~/.cache/newsqa/depth]

Reads the three comparison runs' logs (`benchmarks/depth_comparison.sh`: 12 layers, 8 layers, the
shipped 6-layer reader continued; else their copies in benchmarks/results/depth-comparison/), each
with held-out F1 on 300 held-out SQuAD 2.0 train questions against questions seen and training
CPU-seconds, and sets them side by side three ways:

- at equal CPU time: each run's last point at or before the CPU-seconds all three reached;
- at equal questions seen: each deeper run's points beside the 6-layer reader's own curve
  (`benchmarks/results/learning_curves.json`, interpolated), i.e. how much each layer count learns
  per question;
- by cost: questions per CPU-second, and so the CPU-hours one epoch of SQuAD 2.0 train takes.

Two scores: F1 at the best no-answer threshold (what the reader would score) and F1 on the
answerable questions with the answer forced (whether it finds the span at all; the no-answer
decision is learned later and is noisy on 300 questions).

What this leaves out: no curve is fitted and carried to the budget. Saturating fits to these short
runs (each decays its learning rate to zero at its own end) gave ceilings from 52 to 100 F1, which
says the points cannot carry a forecast; the choice is argued from the measured rates instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from learning_curves import points  # noqa: E402  (the same reading of a training log as the plot)

SHIPPED_6_LAYER = "MPNet 6 layers, LoRA 16, lr 3e-4"  # the shipped reader's own curve, in learning_curves.json
SHIPPED_SEEN = 38_400
EPOCH = 127_020  # SQuAD 2.0 train questions, held-out articles excluded
RUNS = {"12 layers": "l12", "8 layers": "l8", "6 layers, continued": "l6c"}


def rate(log: Path) -> float:
    """Questions per training CPU-second over the run (its last logged step)."""
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    last = [r for r in rows if "examples_per_cpu_s" in r][-1]
    return last["examples"] / last["cpu_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=Path, default=Path("~/.cache/newsqa/depth").expanduser(),
                        help="the comparison's checkpoint folders (else the logs kept in benchmarks/results)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "depth-comparison" / "choice.json")
    args = parser.parse_args()
    six = json.loads((ROOT / "benchmarks" / "results" / "learning_curves.json").read_text())[SHIPPED_6_LAYER]
    six_n = np.array([p["examples"] for p in six], dtype=float)
    logs = {}
    for label, name in RUNS.items():
        log = args.runs / name / "log.jsonl"
        logs[label] = log if log.exists() else ROOT / "benchmarks" / "results" / "depth-comparison" / f"{name}.log.jsonl"
    curves = {label: points(log) for label, log in logs.items()}
    common_cpu_h = min(curve[-1]["cpu_hours"] for curve in curves.values())
    report = {"equal_cpu_hours": common_cpu_h, "runs": {}}
    for label, curve in curves.items():
        seen = SHIPPED_SEEN if label.startswith("6 layers") else 0
        at_cpu = [p for p in curve if p["cpu_hours"] <= common_cpu_h + 1e-9][-1]
        q_per_cpu_s = rate(logs[label])
        per_question = [{"questions": p["examples"] + seen, "forced_f1": p["answerable_f1_forced"], "f1": p["f1"],
                         "six_layer_forced_f1_at_same_questions":
                             None if seen else round(float(np.interp(p["examples"], six_n,
                                                                     [q["answerable_f1_forced"] for q in six])), 1),
                         "six_layer_f1_at_same_questions":
                             None if seen else round(float(np.interp(p["examples"], six_n, [q["f1"] for q in six])), 1)}
                        for p in curve]
        report["runs"][label] = {
            "at_equal_cpu": {"cpu_hours": at_cpu["cpu_hours"], "questions": at_cpu["examples"] + seen,
                             "f1": at_cpu["f1"], "forced_f1": at_cpu["answerable_f1_forced"]},
            "questions_per_cpu_second": round(q_per_cpu_s, 3),
            "cpu_hours_for_one_epoch": round(EPOCH / q_per_cpu_s / 3600, 1),
            "cpu_hours_to_finish_the_epoch": round((EPOCH - seen) / q_per_cpu_s / 3600, 1),
            "points": per_question}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"at equal CPU time (last point at or before {common_cpu_h:.2f} CPU-hours):")
    for label, run in report["runs"].items():
        e = run["at_equal_cpu"]
        print(f"  {label:<22} {e['cpu_hours']:.2f} CPU-h  {e['questions']:>6,} questions  F1 {e['f1']:.1f}  "
              f"forced {e['forced_f1']:.1f}  |  {run['questions_per_cpu_second']:.2f} q/CPU-s, "
              f"one epoch {run['cpu_hours_for_one_epoch']} CPU-h (to finish it: {run['cpu_hours_to_finish_the_epoch']})")
    print("per question, beside the 6-layer reader's own curve at the same count (forced F1 / F1):")
    for label, run in report["runs"].items():
        for p in run["points"]:
            if p["six_layer_forced_f1_at_same_questions"] is not None:
                print(f"  {label:<12} {p['questions']:>6,} q  {p['forced_f1']:5.1f} / {p['f1']:4.1f}   "
                      f"6 layers: {p['six_layer_forced_f1_at_same_questions']:5.1f} / {p['six_layer_f1_at_same_questions']:4.1f}")


if __name__ == "__main__":
    main()
