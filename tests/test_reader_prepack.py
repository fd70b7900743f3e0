"""bf16 Linear layers laid out once for oneDNN give the products the plain layers give."""

from __future__ import annotations

import copy

import pytest
import torch

from qa.reader.precision import cpu_has_native_bf16, to_precision
from qa.reader.prepack import PrepackedLinear, prepack_linears
from tests.tiny_model import build_tiny_qa_model


def _linears(model) -> int:
    return sum(1 for m in model.modules() if type(m) is torch.nn.Linear)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    folder = build_tiny_qa_model(tmp_path_factory.mktemp("tiny-qa"))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    inputs = tokenizer(["Who hosted Assad?"] * 2, ["Putin hosted Assad in Sochi.", "The summit is in Sochi on Wednesday."],
                       padding=True, return_tensors="pt")
    return AutoModelForQuestionAnswering.from_pretrained(str(folder)).eval(), inputs


def _logits(model, inputs):
    with torch.inference_mode():
        out = model(**inputs)
    return torch.stack([out.start_logits, out.end_logits]).float()


def test_a_bf16_model_reads_the_same_logits_packed_as_plain(tiny_model):
    model, inputs = tiny_model
    plain = copy.deepcopy(model).to(torch.bfloat16)
    packed = copy.deepcopy(model).to(torch.bfloat16)
    linears = _linears(packed)
    count = prepack_linears(packed)
    assert count + _linears(packed) == linears  # each layer packed or left as it was
    if cpu_has_native_bf16():
        assert count == linears > 0
    assert torch.allclose(_logits(packed, inputs), _logits(plain, inputs), atol=0.02)


def test_the_bf16_precision_is_packed_and_fp32_is_not(tiny_model):
    model, inputs = tiny_model
    fp32 = copy.deepcopy(model)
    assert prepack_linears(fp32) == 0 and _linears(fp32) == _linears(model)
    bf16 = to_precision(copy.deepcopy(model), "bf16")
    packed = sum(1 for m in bf16.modules() if isinstance(m, PrepackedLinear))
    if cpu_has_native_bf16():
        assert packed == _linears(model)
    assert torch.allclose(_logits(bf16, inputs), _logits(model, inputs), atol=0.1)


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="oneDNN's bf16 kernel needs native bf16 to be worth packing")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(7, 48), (2, 5, 48), (1, 1, 48)])
def test_a_packed_layer_multiplies_like_the_layer(shape, bias):
    torch.manual_seed(0)
    layer = torch.nn.Linear(48, 24, bias=bias).to(torch.bfloat16)
    packed = PrepackedLinear(layer)
    x = torch.randn(*shape, dtype=torch.bfloat16)
    with torch.inference_mode():
        assert torch.equal(packed(x), layer(x))
    assert packed(x).shape == (*shape[:-1], 24)
