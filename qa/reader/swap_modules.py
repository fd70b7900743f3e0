"""Replace a model's submodules in place, one type at a time.

Both the reader's load-time prepacking (`qa.reader.prepack`) and training's dropout
(`qa.reader.training.fast_dropout`) swap every module of one kind for a drop-in of their own;
this is the walk they share.
"""

from __future__ import annotations

from typing import Callable

import torch


def swap_modules(model: torch.nn.Module, replacement: Callable[[torch.nn.Module], torch.nn.Module | None]) -> int:
    """Put `replacement(child)` in place of each submodule of `model` it returns a module for; returns how many.

    `replacement` returns None to keep a child as it is. The children are listed before any is
    replaced, so a replacement is never visited itself."""
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            new = replacement(child)
            if new is not None:
                setattr(parent, name, new)
                swapped += 1
    return swapped
