"""Average the trainable weights of several committed campaign states into one state.

    python -m qa.reader.training.average_states --out FOLDER STATE_FOLDER STATE_FOLDER ...

Weight averaging of points from one training run (the ends of its two learning-rate cycles, or its
latest few states) can score better than any of them: the average sits nearer the middle of the
region the run moved around in. The states must be the same model (base, depth, LoRA rank) with
the same tensors; the LoRA factors are averaged one by one (A with A, B with B), which for states
this close differs from averaging the merged updates B·A by about 2 % of their norm.

The folder written is a state like any other (`state.json` from the newest input, with an
`averaged_from` list naming the inputs' steps), so `python -m qa.reader.training.train ...
--resume-from FOLDER --export-checkpoint` exports and scores it as it would a trained state. It
carries no optimizer moments and is for export, not for resuming training: the schedule's step is
the newest input's, but the weights are not that step's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.reader.training.resume_state import META_FILE, WEIGHTS_FILE

# the recipe fields that shape the model; the rest (the example budget, above all) may differ, as
# between a campaign's first epoch and its second
MODEL_SHAPE = ("base", "lora_rank", "keep_layers", "freeze_layers")


def average_weights(states: list[dict]) -> dict:
    """The element-wise mean of same-named tensors, computed in fp32, returned in the inputs' dtype."""
    if len(states) < 2:
        raise ValueError("averaging needs at least two states")
    names = set(states[0])
    for other in states[1:]:
        if set(other) != names:
            raise ValueError(f"the states hold different tensors: {sorted(names ^ set(other))[:3]}")
        for name in names:
            if other[name].shape != states[0][name].shape:
                raise ValueError(f"{name}: shapes {tuple(states[0][name].shape)} and {tuple(other[name].shape)}")
    return {name: (sum(s[name].float() for s in states) / len(states)).to(states[0][name].dtype)
            for name in sorted(names)}


def average_state_folders(folders: list[Path], out: Path) -> dict:
    """Write the averaged state of `folders` to `out`; returns its state.json."""
    from safetensors.torch import load_file, save_file

    metas = [json.loads((Path(f) / META_FILE).read_text()) for f in folders]
    models = {tuple(m["recipe"].get(k) for k in MODEL_SHAPE) for m in metas}
    if len(models) > 1:
        raise ValueError(f"the states are different models ({', '.join(MODEL_SHAPE)}: {sorted(models)})")
    weights = average_weights([load_file(str(Path(f) / WEIGHTS_FILE)) for f in folders])
    newest = max(metas, key=lambda m: m["step"])
    meta = {**newest, "optimizer": None, "optimizer_moments": "none (an averaged state)",
            "averaged_from": [{"step": m["step"], "cpu_seconds": m["cpu_seconds"]} for m in metas]}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in weights.items()}, str(out / WEIGHTS_FILE))
    (out / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("states", nargs="+", type=Path, help="state folders (state.json + trainable.safetensors)")
    parser.add_argument("--out", type=Path, required=True, help="the folder to write the averaged state to")
    args = parser.parse_args()
    meta = average_state_folders(args.states, args.out)
    steps = ", ".join(f"{a['step']:,}" for a in meta["averaged_from"])
    print(f"averaged the states at steps {steps} into {args.out}")


if __name__ == "__main__":
    main()
