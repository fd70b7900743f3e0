"""What an MPNet reader ships: the 4-bit delta from the base rebuilds the trained weights closely and stays small."""

from __future__ import annotations

import pytest
import torch

from qa.errors import ReaderError
from qa.reader import base as base_module
from qa.reader.delta import GROUP, MAX_SHIPPED_BYTES, apply_delta, check_shipped_size, pack_delta


def _states(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    base = {
        "encoder.layer.0.attn.q.weight": torch.randn(64, 48, generator=g) * 0.05,
        "encoder.layer.0.attn.q.bias": torch.randn(64, generator=g) * 0.01,
        "embeddings.word_embeddings.weight": torch.randn(100, 48, generator=g) * 0.05,
        "encoder.layer.0.odd.weight": torch.randn(7, 5, generator=g),  # not a multiple of the group
        "qa_outputs.weight": torch.randn(2, 48, generator=g),
        "qa_outputs.bias": torch.zeros(2),
    }
    trained = {k: v.clone() for k, v in base.items()}
    trained["encoder.layer.0.attn.q.weight"] += torch.randn(64, 48, generator=g) * 1e-3
    trained["encoder.layer.0.attn.q.bias"] += torch.randn(64, generator=g) * 1e-3
    trained["encoder.layer.0.odd.weight"] += torch.randn(7, 5, generator=g) * 1e-3
    trained["qa_outputs.weight"] = torch.randn(2, 48, generator=g)  # the span head is learnt from scratch
    trained["qa_outputs.bias"] = torch.tensor([0.5, -0.5])
    return base, trained


def test_the_delta_rebuilds_the_trained_weights_within_its_rounding():
    base, trained = _states()
    packed = pack_delta(trained, base)
    # frozen tensors are not stored; the span head is stored whole; matrices as 4-bit codes
    assert not any(k.startswith("embeddings.") for k in packed)
    assert torch.equal(packed["qa_outputs.weight"], trained["qa_outputs.weight"])
    assert packed["encoder.layer.0.attn.q.weight.q4"].dtype == torch.uint8
    assert packed["encoder.layer.0.attn.q.weight.q4"].numel() == 64 * 48 // 2
    assert packed["encoder.layer.0.attn.q.weight.q4scale"].numel() == 64 * 48 // GROUP

    rebuilt = apply_delta(base, packed)
    assert set(rebuilt) == set(base)
    for name in ("qa_outputs.weight", "qa_outputs.bias", "embeddings.word_embeddings.weight"):
        assert torch.equal(rebuilt[name], trained[name])
    for name in ("encoder.layer.0.attn.q.weight", "encoder.layer.0.odd.weight"):
        diff = trained[name] - base[name]
        error = (rebuilt[name] - trained[name]).abs().max()
        # at most half a step of the coarsest group, each step being max|diff| / 7
        assert error <= diff.abs().max() / 7 / 2 * 1.02
        assert error < 0.1 * diff.abs().max()
    bias_error = (rebuilt["encoder.layer.0.attn.q.bias"] - trained["encoder.layer.0.attn.q.bias"]).abs().max()
    assert bias_error < 1e-6  # fp16 of a 1e-3 difference


def test_packing_what_was_rebuilt_gives_the_same_delta():
    base, trained = _states(1)
    packed = pack_delta(trained, base)
    again = pack_delta(apply_delta(base, packed), base)
    assert set(again) == set(packed)
    assert all(torch.equal(again[k], packed[k]) for k in packed)


def test_a_reader_folder_over_the_limit_is_refused(tmp_path):
    (tmp_path / "delta.safetensors").write_bytes(b"\0" * 2000)
    assert check_shipped_size(tmp_path, limit=5000) == 2000
    with pytest.raises(ReaderError, match="over the 0 MB"):
        check_shipped_size(tmp_path, limit=1000)


@pytest.mark.slow
def test_a_full_fine_tune_of_the_real_mpnet_ships_under_the_limit(tmp_path):
    """Every weight of MPNet-base moved (the worst case for the delta's size): the file still fits."""
    from safetensors.torch import save_file

    from qa.reader.delta import build_base_model
    from qa.settings import Settings

    model = build_base_model(base_module.base_model_dir(base_module.MPNET, Settings.from_env().cache_dir), None)
    base = {k: v for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(0)
    trained = {k: v + torch.randn(v.shape, generator=g) * 1e-3 for k, v in base.items()}
    packed = pack_delta(trained, base)
    save_file(packed, str(tmp_path / "delta.safetensors"))
    size = (tmp_path / "delta.safetensors").stat().st_size
    assert size <= MAX_SHIPPED_BYTES - 2_000_000, size  # room left for the tokenizer and config
    rebuilt = apply_delta(base, packed)
    name = "mpnet.encoder.layer.5.attention.attn.q.weight"
    assert (rebuilt[name] - trained[name]).abs().max() < 1e-3
