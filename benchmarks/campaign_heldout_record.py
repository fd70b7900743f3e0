"""Append an exported campaign checkpoint's score on all held-out questions to the campaign's results.

    python benchmarks/campaign_heldout_record.py --reader FOLDER --state STATE.json --revision REV

The score is the one export wrote into the folder's reader_config.json; the state (the committed
`state.json` the checkpoint came from, or one at another step) gives the CPU time where it is the
same step. A step already in the results file is not added again.
"""

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "campaign_heldout_all.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reader", type=Path, required=True, help="the exported reader's folder")
    parser.add_argument("--state", type=Path, required=True, help="the campaign state's state.json")
    parser.add_argument("--revision", required=True, help="the commit of that state, or 'checkpoint'")
    args = parser.parse_args()
    heldout = json.loads((args.reader / "reader_config.json").read_text())["heldout"]
    state = json.loads(args.state.read_text())
    step = heldout["step"]
    if any(json.loads(line)["step"] == step for line in RESULTS.read_text().splitlines()):
        print(f"step {step} is already recorded")
        return
    same = state["step"] == step
    record = {"step": step, "examples": step * state["recipe"]["batch_size"],
              "cpu_seconds": round(state["cpu_seconds"]) if same else None,
              "revision": args.revision if same else "checkpoint",
              "heldout": {k: v for k, v in heldout.items() if k != "step"}}
    with RESULTS.open("a") as f:
        f.write(json.dumps(record) + "\n")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
