"""The number format a reader's model runs in on the CPU: fp32, bf16 or int8.

- "fp32": as trained and exported; the reference every other precision is scored against.
- "bf16": every weight and activation in bfloat16, the Linear weights laid out once for oneDNN
  (`qa.reader.prepack`). Fast only on CPUs with native bf16 matrix units (AMX, AVX512-BF16);
  elsewhere PyTorch emulates it and it is slower than fp32.
- "int8": torch dynamic quantization of every Linear (int8 weights, activations quantized per
  batch on the fly); embeddings, LayerNorm and the attention products stay fp32.

A reader folder may name the precision it ships in (`"precision"` in reader_config.json, chosen by
measuring held-out F1 and latency: `python -m qa.reader.training.choose_precision`);
`Settings.reader_precision` (NEWSQA_READER_PRECISION) overrides it.

A shipped "bf16" is a choice made on a CPU with native bf16. On one without (AVX2 only), the same
reader read 5 passages in 11.0 s in bf16 against 1.1 s in fp32, with the same answers within a
tenth of a point of F1, so a shipped bf16 runs in fp32 there (`precision_for_this_cpu`); only an
explicit setting makes such a CPU run bf16.
"""

from __future__ import annotations

from pathlib import Path

PRECISIONS = ("fp32", "bf16", "int8")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown reader precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return precision


def to_precision(model, precision: str):
    """`model` (fp32, eval mode) converted to run in `precision`, for inference only; fp32 returns it
    unchanged."""
    import torch

    check_precision(precision)
    if precision == "bf16":
        from qa.reader.prepack import prepack_linears

        model = model.to(torch.bfloat16)
        prepack_linears(model)  # weights laid out once for the bf16 kernel: same logits, less time
        return model
    if precision == "int8":
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU multiplies bf16 matrices natively (AMX or AVX512-BF16); False where unknown."""
    try:
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("flags")), [])
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def precision_for_this_cpu(shipped: str, native_bf16: bool | None = None) -> str:
    """The precision a folder's shipped one runs in here: bf16 becomes fp32 without native bf16."""
    check_precision(shipped)
    if shipped == "bf16" and not (cpu_has_native_bf16() if native_bf16 is None else native_bf16):
        return "fp32"
    return shipped
