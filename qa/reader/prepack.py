"""Linear layers whose weights are laid out once, at load time, for oneDNN's bf16 matrix kernel.

A bf16 `nn.Linear` on the CPU hands its weight to oneDNN in PyTorch's row-major layout on every
call, and oneDNN copies it into its own blocked layout each time before multiplying. Copying once
when the reader loads (what PyTorch's own compiler does when it freezes a bf16 model) leaves only
the product: on a 2-core AVX512-BF16 host the trained MPNet reader read 5 passages in 373 ms p50
against 407, with bit-identical logits (`benchmarks/reader_latency.py`, variant suffix `@unpacked`).

Only bf16 models are packed. fp32 ran in 0.85 of the time on that host too, but fp32 is what the
reader runs in on AVX2-only hosts, where oneDNN's fp32 kernel has not been measured against the
one PyTorch uses there.
"""

from __future__ import annotations

import torch

from qa.reader.swap_modules import swap_modules


class PrepackedLinear(torch.nn.Module):
    """Stands for an `nn.Linear` at inference: the same product, its weight in oneDNN's layout."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        with torch.inference_mode():
            self.packed_weight = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach())
        self.bias = None if linear.bias is None else linear.bias.detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, self.packed_weight, self.bias, "none", [], "")

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, prepacked"


def prepack_linears(model: torch.nn.Module) -> int:
    """Replace `model`'s bf16 Linear layers in place by prepacked ones; returns how many.

    A layer stays as it is where this build or CPU has no such kernel, or where the packed layer's
    product differs from the layer's own on a probe (a wrong layout gives other numbers, not
    rounding differences, so the check allows bf16 rounding only)."""
    if not torch.backends.mkldnn.is_available():
        return 0
    return swap_modules(model, _packed_or_none)


def _packed_or_none(child: torch.nn.Module) -> PrepackedLinear | None:
    """`child` prepacked if it is a bf16 Linear whose packed product matches its own on a probe."""
    if type(child) is not torch.nn.Linear or child.weight.dtype != torch.bfloat16:
        return None
    try:
        layer = PrepackedLinear(child)
        with torch.inference_mode():
            probe = torch.randn(2, 3, child.in_features, dtype=torch.bfloat16)
            same = torch.allclose(layer(probe).float(), child(probe).float(), rtol=1e-2, atol=1e-2)
    except (RuntimeError, AttributeError):  # no such kernel in this build or on this CPU
        return None
    return layer if same else None
