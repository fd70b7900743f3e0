"""Training's CPU dropout drops as nn.Dropout does, at a quarter of the random draws."""

from __future__ import annotations

import pytest
import torch

from qa.reader.training.fast_dropout import FastDropout, keep_mask, use_fast_dropout


def test_it_drops_each_element_with_probability_p_and_scales_the_rest():
    torch.manual_seed(0)
    for p in (0.1, 0.25, 0.5):
        x = torch.ones(2_000_000)
        y = FastDropout(p).train()(x)
        dropped = (y == 0).float().mean().item()
        assert dropped == pytest.approx(p, abs=0.002)  # 4 sigma is about 0.0014 at p = 0.5
        assert y.unique().tolist() == [0.0, pytest.approx(1 / (1 - p))]
        assert y.mean().item() == pytest.approx(1.0, abs=0.005)


def test_neighbouring_elements_are_dropped_independently():
    # four elements share a random word: each quarter of it must be its own draw
    torch.manual_seed(1)
    keep = keep_mask(torch.Size([4_000_000]), 6554).view(-1, 4).float()
    dropped = 1 - keep
    assert dropped.mean(0).tolist() == pytest.approx([0.1] * 4, abs=0.002)
    both = (dropped[:, 0] * dropped[:, 1]).mean().item()
    assert both == pytest.approx(0.01, abs=0.0008)


def test_each_call_draws_a_new_mask_from_the_default_generator():
    # the masks come from PyTorch's default generator: consecutive masks are independent, and the
    # generator's state (what a checkpoint saves) decides them
    torch.manual_seed(4)
    first, second = (1 - keep_mask(torch.Size([1_000_000]), 6554).float() for _ in range(2))
    assert (first * second).mean().item() == pytest.approx(0.01, abs=0.0008)
    state = torch.get_rng_state()
    third = keep_mask(torch.Size([1000]), 6554)
    torch.set_rng_state(state)
    assert torch.equal(keep_mask(torch.Size([1000]), 6554), third)


def test_gradient_flows_through_the_kept_elements_only():
    torch.manual_seed(2)
    x = torch.randn(64, 32, requires_grad=True)
    y = FastDropout(0.1).train()(x)
    y.sum().backward()
    assert torch.equal(x.grad == 0, y == 0)
    assert torch.allclose(x.grad[y != 0], torch.tensor(1 / 0.9))


def test_the_same_seed_draws_the_same_mask_and_eval_is_identity():
    x = torch.randn(8, 100, dtype=torch.bfloat16)
    layer = FastDropout(0.1).train()
    torch.manual_seed(3)
    first = layer(x)
    torch.manual_seed(3)
    assert torch.equal(layer(x), first) and first.dtype == torch.bfloat16
    assert layer.eval()(x) is x
    with pytest.raises(ValueError):
        FastDropout(1.0)


def test_every_dropout_of_a_model_is_replaced_with_its_p():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.1),
                                torch.nn.Sequential(torch.nn.Dropout(0.3), torch.nn.ReLU()))
    assert use_fast_dropout(model) == 2
    layers = [m for m in model.modules() if isinstance(m, FastDropout)]
    assert [m.p for m in layers] == [0.1, 0.3]
    assert not any(type(m) is torch.nn.Dropout for m in model.modules())
