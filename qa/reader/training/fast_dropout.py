"""Dropout whose random mask costs a quarter of the random draws, for training on the CPU.

`nn.Dropout` on the CPU draws one random float per element from PyTorch's Mersenne twister, which
runs on one thread: about 6 ns an element on the 2-core AVX512-BF16 host. MPNet with LoRA drops
out 73 tensors a step (attention probabilities, hidden states, and each adapter's input), and that
one op took 35 % of a training step's CPU time in a profile. `FastDropout` draws 64-bit random
words and cuts each into four 16-bit integers; an element is dropped when its integer falls in the
lowest `round(p * 65536)` of the 65,536 values, so p = 0.1 drops with probability 6554/65536
(0.100006). Kept elements are scaled by 1 / (1 - p) as `nn.Dropout` scales them, the factor in
the input's dtype: in bf16 it is 1 / (1 - p) rounded to bf16 (1.109375 at p = 0.1, 0.16 % under),
where `nn.Dropout` rounds each scaled element once. A training step
of the campaign's recipe took 3.1 s instead of 4.1 s (`python -m qa.reader.training.train`,
batches of 16 windows of 170 tokens).

The draws come from PyTorch's default generator, the one whose state a checkpoint saves, so a
resumed run draws the masks an uninterrupted one would.
"""

from __future__ import annotations

import torch

from qa.reader.swap_modules import swap_modules

LEVELS = 1 << 16


class FastDropout(torch.nn.Module):
    """`nn.Dropout(p)` in training, identity in eval; its mask drawn four elements per random word."""

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), not {p}")
        self.p = p
        self.dropped_levels = round(p * LEVELS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.dropped_levels == 0:
            return x
        keep = keep_mask(x.shape, self.dropped_levels)
        scale = torch.tensor(1.0 / (1.0 - self.p), dtype=x.dtype)
        return x * torch.where(keep, scale, torch.zeros((), dtype=x.dtype))

    def extra_repr(self) -> str:
        return f"p={self.p}"


def keep_mask(shape: torch.Size, dropped_levels: int) -> torch.Tensor:
    """A bool tensor of `shape`, each element False with probability dropped_levels / 65536."""
    n = shape.numel()
    words = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(1 << 63), (1 << 63) - 1)
    return words.view(torch.int16)[:n].view(shape) >= dropped_levels - LEVELS // 2


def use_fast_dropout(model: torch.nn.Module) -> int:
    """Replace every `nn.Dropout` of `model` in place by a `FastDropout` of the same p; returns how many."""
    return swap_modules(model, lambda child: FastDropout(child.p) if type(child) is torch.nn.Dropout else None)
