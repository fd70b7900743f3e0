"""The number format a reader's model runs in on the CPU: fp32, bf16 or int8.

- "fp32": as trained and exported; the reference every other precision is scored against.
- "bf16": every weight and activation in bfloat16. Fast only on CPUs with native bf16 matrix units
  (AMX, AVX512-BF16); elsewhere PyTorch emulates it and it is slower than fp32.
- "int8": torch dynamic quantization of every Linear (int8 weights, activations quantized per
  batch on the fly); embeddings, LayerNorm and the attention products stay fp32.

A reader folder may name the precision it ships in (`"precision"` in reader_config.json, chosen by
measuring held-out F1 and latency: `python -m qa.reader.training.choose_precision`);
`Settings.reader_precision` (NEWSQA_READER_PRECISION) overrides it.
"""

from __future__ import annotations

PRECISIONS = ("fp32", "bf16", "int8")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown reader precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return precision


def to_precision(model, precision: str):
    """`model` (fp32, eval mode) converted to run in `precision`; fp32 returns it unchanged."""
    import torch

    check_precision(precision)
    if precision == "bf16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model
