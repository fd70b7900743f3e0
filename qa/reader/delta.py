"""A reader trained on a packaged base ships only what training changed; loading adds it to the base.

MPNet-base saved whole is 438 MB in fp32 (218 MB in fp16), and nearly all of it would be a copy of
what the base's packages already install. A reader folder holds instead, beside its tokenizer and
`reader_config.json` (which names the base and its sha256):
- after LoRA training, the adapter in peft's own format (`adapter/`): the low-rank matrices of the
  adapted linears and the span head in full, a few MB;
- after a full (or partly frozen) fine-tune, `delta.safetensors`: for each tensor that training
  changed, its difference from the base. Matrices are quantised to 4 bits in groups of 128 with one
  bf16 scale per group (4.1 bits a weight: MPNet-base with every weight trained comes to about
  56 MB), vectors (biases, LayerNorm) are stored as fp16 differences and tensors the base does not
  have (the span head) in full. A fine-tune moves the weights little, so the rounding error is a
  small fraction of a small difference; the training command scores its held-out questions on the
  model rebuilt from this file, so the threshold it ships is chosen on what loads.
Frozen tensors are not stored at all.

Loading rebuilds the base from its packages (`qa.reader.base`), cuts it to the layers the reader
was trained with, and adds the delta (or merges the adapter) into its weights once, so reading then
costs what the base model costs. A folder without a base in its config is an ordinary Hugging Face
model and loads as one.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from qa.errors import ReaderError
from qa.reader.adapt import SPAN_HEAD

DELTA_FILE = "delta.safetensors"
ADAPTER_DIR = "adapter"
GROUP = 128
LEVELS = 7  # codes -7..7, stored +8 in a nibble
MAX_SHIPPED_BYTES = 60 * 1000 * 1000


def read_config(folder: Path) -> dict:
    path = Path(folder) / "reader_config.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def base_of(config: dict) -> dict | None:
    """The packaged base a reader folder builds on (None: the folder holds the whole model)."""
    base = config.get("base")
    return base if isinstance(base, dict) else None


def pack_delta(trained: dict, base: dict, whole: tuple[str, ...] = (SPAN_HEAD + ".",)) -> dict:
    """The tensors of `delta.safetensors`: what differs between `trained` and `base`, by name.

    Names starting with `whole` are stored whole: the base model's span head is a random start,
    not part of the base, so a difference from it would not rebuild.
    """
    import torch

    packed = {}
    for name, value in trained.items():
        value = value.detach().float().cpu()
        reference = base.get(name)
        if reference is None or reference.shape != value.shape or name.startswith(whole):
            packed[name] = value.contiguous()
            continue
        diff = value - reference.float().cpu()
        if not torch.any(diff):
            continue  # frozen
        if diff.dim() < 2:
            packed[name + ".delta16"] = diff.half().contiguous()
            continue
        codes, scales = _quantize(diff)
        packed[name + ".q4"], packed[name + ".q4scale"] = codes, scales
    return packed


def apply_delta(base: dict, packed: dict) -> dict:
    """`base` with `packed` added: the state dict of the model a reader folder describes."""
    state = dict(base)
    for key, value in packed.items():
        if key.endswith(".q4scale"):
            continue
        if key.endswith(".q4"):
            name = key[: -len(".q4")]
            diff = _dequantize(value, packed[name + ".q4scale"], base[name].shape)
            state[name] = (base[name].float() + diff).to(base[name].dtype)
        elif key.endswith(".delta16"):
            name = key[: -len(".delta16")]
            state[name] = (base[name].float() + value.float()).to(base[name].dtype)
        else:
            state[key] = value
    return state


def _quantize(diff):
    import torch

    flat = diff.reshape(-1)
    pad = (-flat.numel()) % GROUP
    groups = torch.nn.functional.pad(flat, (0, pad)).view(-1, GROUP)
    # the scale as stored (bf16: no underflow for tiny differences), so rounding uses what loading will
    scales = (groups.abs().amax(dim=1) / LEVELS).to(torch.bfloat16)
    safe = scales.float().clamp_min(torch.finfo(torch.float32).tiny).unsqueeze(1)
    codes = (torch.round(groups / safe).clamp(-LEVELS, LEVELS) + 8).to(torch.uint8)
    return (codes[:, 0::2] | (codes[:, 1::2] << 4)).contiguous(), scales.contiguous()


def _dequantize(codes, scales, shape):
    import torch

    low, high = (codes & 0x0F).to(torch.int8) - 8, (codes >> 4).to(torch.int8) - 8
    values = torch.stack([low, high], dim=2).reshape(codes.shape[0], -1).float() * scales.float().unsqueeze(1)
    numel = 1
    for size in shape:
        numel *= size
    return values.reshape(-1)[:numel].reshape(shape)


def write_delta(folder: Path, model, packed: dict | None, base_name: str) -> dict:
    """Write what training changed into `folder`; returns the config's "delta" entry.

    `packed` (from `pack_delta`) after a full fine-tune; None after LoRA, whose adapter `model` holds.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    if packed is None:
        for config in model.peft_config.values():
            # else peft records the base's folder in this machine's cache; loading goes by reader_config.json
            config.base_model_name_or_path = base_name
        # LoRA never adapts the embeddings; saying so spares peft a hub lookup of the base's name
        model.save_pretrained(folder / ADAPTER_DIR, safe_serialization=True, save_embedding_layers=False)
        (folder / ADAPTER_DIR / "README.md").unlink(missing_ok=True)  # peft's empty model-card template
        return {"kind": "lora", "path": ADAPTER_DIR}
    save_file(packed, str(folder / DELTA_FILE), metadata={"format": "newsqa-q4-delta", "group": str(GROUP)})
    return {"kind": "q4-delta", "path": DELTA_FILE, "group": GROUP}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def check_shipped_size(folder: Path, limit: int = MAX_SHIPPED_BYTES) -> int:
    size = folder_bytes(folder)
    if size > limit:
        raise ReaderError(f"the reader in {folder} is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB a shipped "
                          "reader may take; train with --lora-rank or fewer trained layers")
    return size


def build_base_model(base_dir: Path, keep_layers: int | None):
    """The base as a QA model in fp32, cut to `keep_layers` (its span head is random until replaced)."""
    import torch
    from transformers import AutoModelForQuestionAnswering
    from transformers.utils import logging as hf_logging

    from qa.reader.adapt import keep_lowest_layers

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized qa_outputs" is expected: the reader replaces it
    try:
        model = AutoModelForQuestionAnswering.from_pretrained(str(base_dir), dtype=torch.float32)
    finally:
        hf_logging.set_verbosity(verbosity)
    if keep_layers:
        keep_lowest_layers(model, keep_layers)
    return model


def load_qa_model(folder: str | Path, cache_dir: Path | None = None):
    """The QA model a reader folder describes, in fp32 and eval mode: whole, or base + delta or adapter."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    config = read_config(Path(folder)) if Path(folder).is_dir() else {}
    base_info = base_of(config)
    if base_info is None:
        model = AutoModelForQuestionAnswering.from_pretrained(str(folder), dtype=torch.float32)
        return model.eval()
    from qa.reader.base import BASES, base_model_dir

    base = BASES.get(base_info.get("name"))
    if base is None:
        raise ReaderError(f"the reader in {folder} builds on {base_info.get('name')!r}, a base this version "
                          f"of newsqa does not know (known: {', '.join(BASES)})")
    if base_info.get("sha256") != base.sha256:
        raise ReaderError(f"the reader in {folder} was trained on {base.name} sha256 {str(base_info.get('sha256'))[:12]}…, "
                          f"but the installed base is {base.sha256[:12]}…; retrain it: python -m qa.reader.training.train "
                          f"--base {base_info.get('option', base.name)} --out {folder}")
    if cache_dir is None:
        from qa.settings import Settings  # a reader built outside an Assistant follows the CLI's environment

        cache_dir = Settings.from_env().cache_dir
    model = build_base_model(base_model_dir(base, cache_dir), base_info.get("keep_layers"))
    delta = config.get("delta") or {}
    path = Path(folder) / delta.get("path", "")
    if delta.get("kind") == "lora":
        model = _merge_adapter(model, path)
    elif delta.get("kind") == "q4-delta":
        from safetensors.torch import load_file

        state = apply_delta(model.state_dict(), load_file(str(path)))
        model.load_state_dict(state)
    else:
        raise ReaderError(f"{folder}/reader_config.json names no delta this version can apply: {delta!r}")
    return model.eval()


def _merge_adapter(model, adapter_dir: Path):
    try:
        from peft import PeftModel
    except ImportError as e:
        raise ReaderError(f"this reader is a LoRA adapter and needs peft: pip install peft==0.21.2 ({e})") from e
    with warnings.catch_warnings():
        # peft 0.21 calls a transformers method that transformers 5 deprecates; nothing for a user to do
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
        return PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()


def replace_folder(tmp: Path, out: Path) -> None:
    """Move a finished folder into place: a reader sees the old reader or the new one, never a mix."""
    import shutil

    if out.exists():
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)
