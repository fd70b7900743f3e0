"""The small state a long training campaign keeps in the repository, so a fresh clone continues it.

A campaign trains for many hours over many stretches of work, each maybe on a new machine. The
checkpoint folder (`last.pt`: fp32 weights and the whole optimizer) lives in a local cache and is
lost with the machine; this folder is what survives, committed at one fixed path:

- `trainable.safetensors`: the weights that train (LoRA adapters and span head), in bf16;
- `optimizer.safetensors`: AdamW's moments in bf16, only when they fit beside the weights within
  `MAX_STATE_BYTES` (otherwise a resume starts the moments afresh and says so);
- `state.json`: step, recipe, example budgets, CPU-seconds so far, the RNG state, and where it ran;
- `log.jsonl`: the campaign's whole log (losses, rates, held-out scores).

One path overwritten each time keeps the repository's growth to one state per commit. Safetensors
and JSON, never pickle: a committed file is data, not code. What this leaves out: when to write
(the training loop, `qa.reader.training.train`) and how the model is shaped (`qa.reader.adapt`).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_FILE = "trainable.safetensors"
MOMENTS_FILE = "optimizer.safetensors"
META_FILE = "state.json"
LOG_FILE = "log.jsonl"
MAX_STATE_BYTES = 8 * 2**20  # weights + moments; the log is extra


@dataclass
class ResumeState:
    weights: dict  # name -> fp32 tensor
    optimizer: dict | None  # a torch optimizer state_dict, or None when the moments were not kept
    meta: dict  # step, recipe, budgets, cpu_seconds, torch_rng (bytes), host


def _tensor_bytes(tensors: dict) -> int:
    return sum(t.numel() * t.element_size() for t in tensors.values())


def _moments_as_tensors(optimizer_state: dict) -> tuple[dict, dict]:
    """AdamW's per-parameter moments as flat bf16 tensors, and the rest (steps, groups) as JSON."""
    import torch

    tensors, steps = {}, {}
    for index, per_param in optimizer_state["state"].items():
        for key, value in per_param.items():
            if key == "step":
                steps[str(index)] = float(value)
            else:
                tensors[f"{index}.{key}"] = value.detach().to(torch.bfloat16).contiguous()
    return tensors, {"steps": steps, "param_groups": optimizer_state["param_groups"]}


def _moments_from_tensors(tensors: dict, extra: dict) -> dict:
    import torch

    state: dict[int, dict] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value.float()
    for index, step in extra["steps"].items():
        state.setdefault(int(index), {})["step"] = torch.tensor(step)
    return {"state": state, "param_groups": extra["param_groups"]}


def write_state(folder: Path, weights: dict, optimizer_state: dict, meta: dict, log_path: Path | None) -> dict:
    """Replace the state in `folder` (written beside it, then swapped in); returns what was kept."""
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    small = {k: v.detach().to(torch.bfloat16).contiguous() for k, v in weights.items()}
    moments, extra = _moments_as_tensors(optimizer_state)
    keep_moments = _tensor_bytes(small) + _tensor_bytes(moments) <= MAX_STATE_BYTES
    if _tensor_bytes(small) > MAX_STATE_BYTES:
        raise ValueError(f"the trainable weights take {_tensor_bytes(small) / 2**20:.1f} MB in bf16, over the "
                         f"{MAX_STATE_BYTES / 2**20:.0f} MB a committed state may take: train fewer weights")
    save_file(small, str(tmp / WEIGHTS_FILE))
    if keep_moments:
        save_file(moments, str(tmp / MOMENTS_FILE))
    rng = meta.get("torch_rng")
    meta = {**meta, "optimizer_moments": "kept" if keep_moments else "dropped (over the size limit)",
            "optimizer": extra if keep_moments else None,
            "torch_rng": base64.b64encode(bytes(rng)).decode() if rng is not None else None}
    (tmp / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    if log_path is not None and Path(log_path).is_file():
        shutil.copyfile(log_path, tmp / LOG_FILE)
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)
    return {"bytes": _tensor_bytes(small) + (_tensor_bytes(moments) if keep_moments else 0),
            "moments": keep_moments}


def read_state(folder: Path) -> ResumeState:
    import torch
    from safetensors.torch import load_file

    folder = Path(folder)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise SystemExit(f"{folder} holds no training state ({META_FILE} is missing)")
    meta = json.loads(meta_path.read_text())
    weights = {k: v.float() for k, v in load_file(str(folder / WEIGHTS_FILE)).items()}
    optimizer = None
    if meta.get("optimizer") is not None and (folder / MOMENTS_FILE).is_file():
        optimizer = _moments_from_tensors(load_file(str(folder / MOMENTS_FILE)), meta["optimizer"])
    if meta.get("torch_rng") is not None:
        meta["torch_rng"] = torch.tensor(list(base64.b64decode(meta["torch_rng"])), dtype=torch.uint8)
    return ResumeState(weights, optimizer, meta)


def host_description() -> dict:
    """The CPU a rate was measured on: model name, core count, and whether it has AMX or AVX512-BF16."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    return {"cpu_model": model, "cpus": os.cpu_count(), "amx": "amx_bf16" in flags,
            "avx512_bf16": "avx512_bf16" in flags}
