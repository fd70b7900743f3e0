"""Shape a QA model before training: keep its lowest layers, freeze the lowest ones, or train LoRA adapters.

These are the options of `python -m qa.reader.training.train` that change which weights exist or which of
them train (`--keep-layers`, `--freeze-layers`, `--lora-rank`); the same calls rebuild the same
structure when a run resumes or a checkpoint is exported. They work on any encoder that Hugging
Face lays out as `<base>.embeddings` and `<base>.encoder.layer[i]` (BERT, MPNet and their kin).

What this leaves out: the training loop (`qa.reader.training.train`) and what a trained model ships
(`qa.reader.delta`).
"""

from __future__ import annotations

import inspect
import re
import warnings

LAYER = re.compile(r"(?:^|\.)encoder\.layer\.(\d+)\.")
# The span head is new in every reader; it always trains in full, LoRA or not.
SPAN_HEAD = "qa_outputs"


def _core(model):
    """The encoder under the span head (`model.bert`, `model.mpnet`, ...)."""
    core = model.base_model
    if not hasattr(core, "encoder") or not hasattr(core.encoder, "layer"):
        raise ValueError(f"{type(model).__name__} has no encoder.layer list to cut, freeze or adapt")
    return core


def layer_count(model) -> int:
    return len(_core(model).encoder.layer)


def keep_lowest_layers(model, n: int) -> None:
    """Drop every encoder layer above the lowest `n` (the config follows, so a saved model reloads so)."""
    import torch

    core = _core(model)
    layers = core.encoder.layer
    if not 0 < n <= len(layers):
        raise ValueError(f"--keep-layers must be between 1 and {len(layers)}, not {n}")
    core.encoder.layer = torch.nn.ModuleList(list(layers)[:n])
    model.config.num_hidden_layers = n


def freeze_lowest_layers(model, n: int) -> None:
    """Stop gradients into the embeddings and the lowest `n` layers (n = 0 freezes nothing)."""
    if n <= 0:
        return
    core = _core(model)
    if n > len(core.encoder.layer):
        raise ValueError(f"--freeze-layers must be at most the {len(core.encoder.layer)} layers kept, not {n}")
    for module in [core.embeddings, *list(core.encoder.layer)[:n]]:
        for p in module.parameters():
            p.requires_grad_(False)


def lora_targets(model, skip_layers: int = 0) -> list[str]:
    """Every linear layer inside the encoder layers from `skip_layers` up: attention and feed-forward."""
    import torch

    targets = []
    for name, module in model.named_modules():
        found = LAYER.search(name)
        if isinstance(module, torch.nn.Linear) and found and int(found.group(1)) >= skip_layers:
            targets.append(name)
    return targets


def add_lora(model, rank: int, skip_layers: int = 0):
    """Wrap the model with LoRA adapters of `rank` (peft); the span head trains in full beside them."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as e:
        raise SystemExit(f"--lora-rank needs peft: pip install peft==0.21.2 ({e})") from e
    targets = lora_targets(model, skip_layers)
    if not targets:
        raise SystemExit(f"no encoder layers above the {skip_layers} frozen ones to adapt")
    # alpha = 2 x rank keeps the adapters' scale the same whatever the rank
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.1, target_modules=targets,
                        modules_to_save=[SPAN_HEAD], bias="none")
    with warnings.catch_warnings():
        # peft 0.21 calls a transformers method that transformers 5 deprecates; nothing for a user to do
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
        return get_peft_model(model, config)


def shape_for_training(model, lora_rank: int = 0, freeze_layers: int = 0, keep_layers: int = 0):
    """Apply the training options in the one order that makes them mean what they say.

    Cutting comes first, so `--freeze-layers` counts among the layers kept; LoRA freezes every base
    weight itself, so `--freeze-layers` then only says which layers get no adapters.
    """
    if keep_layers:
        keep_lowest_layers(model, keep_layers)
    if lora_rank:
        if freeze_layers > layer_count(model):
            raise ValueError(f"--freeze-layers must be at most the {layer_count(model)} layers kept, not {freeze_layers}")
        return add_lora(model, lora_rank, skip_layers=freeze_layers)
    freeze_lowest_layers(model, freeze_layers)
    return model


def trainable_state(model) -> dict:
    """The parameters that train, by name: all a checkpoint needs, the rest is rebuilt from the base."""
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model, state: dict) -> None:
    """Put a checkpoint's trained parameters back; a checkpoint that lacks any of them is refused."""
    wanted = {name for name, p in model.named_parameters() if p.requires_grad}
    missing = wanted - set(state)
    if missing:
        raise SystemExit(f"the checkpoint lacks {len(missing)} trained tensor(s) (e.g. {sorted(missing)[0]}); "
                         "it was written for another model shape: use another --checkpoints folder")
    model.load_state_dict({k: v for k, v in state.items() if k in wanted}, strict=False)


def accepted_inputs(model) -> set[str]:
    """The keyword inputs the model's forward takes (MPNet has no token_type_ids, BERT does)."""
    core = model.get_base_model() if hasattr(model, "get_base_model") else model
    return set(inspect.signature(core.forward).parameters)
