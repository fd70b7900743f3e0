"""The reader runs in the precision its folder ships (or the one the settings ask for): fp32, bf16, int8."""

from __future__ import annotations

import json

import pytest
import torch

from qa.errors import ReaderError
from qa.reader import registry
from qa.reader.transformers_reader import TorchRunner, TransformersReader
from qa.reader import precision as precision_module
from qa.reader.precision import cpu_has_native_bf16, precision_for_this_cpu, to_precision
from qa.reader.training.choose_precision import MAX_F1_LOSS, choose
from qa.settings import Settings
from tests.tiny_model import build_tiny_qa_model

PASSAGE = ("Russian President Vladimir Putin hosted Syrian President Bashar al-Assad in Sochi on "
           "Monday, ahead of a summit with the leaders of Turkey and Iran on Wednesday.")


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return build_tiny_qa_model(tmp_path_factory.mktemp("tiny-qa"))


def _quantized_linears(model) -> int:
    return sum(1 for m in model.modules() if type(m).__module__.startswith("torch.ao.nn.quantized"))


def _logits(model, inputs):
    with torch.inference_mode():
        out = model(**inputs)
    return out.start_logits.float()


def test_each_precision_converts_the_model_and_keeps_its_answers_close(tiny_folder):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_folder))
    inputs = tokenizer("Who hosted Assad?", PASSAGE, return_tensors="pt")
    reference = _logits(AutoModelForQuestionAnswering.from_pretrained(str(tiny_folder)).eval(), inputs)
    for precision in ("bf16", "int8"):
        model = to_precision(AutoModelForQuestionAnswering.from_pretrained(str(tiny_folder)).eval(), precision)
        if precision == "bf16":
            assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
        else:
            assert _quantized_linears(model) > 0
            assert not any(isinstance(m, torch.nn.Linear) for m in model.modules())
        logits = _logits(model, inputs)
        assert logits.shape == reference.shape
        # the same model, rounded: its logits follow fp32's closely (not equal: that would mean nothing changed)
        assert not torch.equal(logits, reference)
        assert torch.corrcoef(torch.stack([logits.flatten(), reference.flatten()]))[0, 1] > 0.95


def test_an_unknown_precision_is_refused(tiny_folder):
    with pytest.raises(ValueError, match="fp32, bf16, int8"):
        to_precision(torch.nn.Linear(2, 2), "fp16")
    with pytest.raises(ReaderError, match="unknown reader precision 'fp16'") as caught:
        registry.make_reader(Settings(reader_model=str(tiny_folder), reader_precision="fp16"))
    assert "\n" not in str(caught.value)


def test_the_folder_names_the_precision_and_the_settings_override_it(tiny_folder, tmp_path):
    folder = tmp_path / "reader"
    folder.mkdir()
    for f in tiny_folder.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "reader_config.json").write_text(json.dumps({"precision": "int8"}))

    shipped = registry.make_reader(Settings(reader_model=str(folder)))
    shipped.warm_up()
    assert shipped.runner.precision == "int8" and _quantized_linears(shipped.runner.model) > 0
    asked = registry.make_reader(Settings(reader_model=str(folder), reader_precision="fp32"))
    asked.warm_up()
    assert asked.runner.precision == "fp32" and _quantized_linears(asked.runner.model) == 0
    # and it reads through the whole path: windows, batching, decoding
    readings = shipped.read("Who hosted Assad?", [PASSAGE, PASSAGE[:60]])
    assert len(readings) == 2


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    for flags, native in (("fpu sse2 avx2 fma", False), ("avx2 avx512f avx512_bf16", True), ("avx2 amx_bf16 amx_tile", True)):
        cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n\n")
        assert cpu_has_native_bf16(cpuinfo) is native, flags
    # a flag named in the model name is not a flag
    cpuinfo.write_text("model name\t: avx512_bf16 edition\nflags\t\t: avx2\n")
    assert cpu_has_native_bf16(cpuinfo) is False
    assert cpu_has_native_bf16(tmp_path / "absent") is False


def test_a_shipped_bf16_runs_in_fp32_on_a_cpu_without_native_bf16():
    assert precision_for_this_cpu("bf16", native_bf16=False) == "fp32"
    assert precision_for_this_cpu("bf16", native_bf16=True) == "bf16"
    for other in ("fp32", "int8"):
        assert precision_for_this_cpu(other, native_bf16=False) == other
    with pytest.raises(ValueError):
        precision_for_this_cpu("fp16", native_bf16=True)


def test_the_reader_follows_the_cpu_unless_the_settings_ask(tiny_folder, tmp_path, monkeypatch):
    folder = tmp_path / "reader"
    folder.mkdir()
    for f in tiny_folder.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "reader_config.json").write_text(json.dumps({"precision": "bf16"}))
    for native, runs_in in ((False, torch.float32), (True, torch.bfloat16)):
        monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda native=native: native)
        reader = registry.make_reader(Settings(reader_model=str(folder)))
        reader.warm_up()
        assert {p.dtype for p in reader.runner.model.parameters()} == {runs_in}
        assert len(reader.read("Who hosted Assad?", [PASSAGE])) == 1
    # asked for by name, bf16 runs even where it is slow
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: False)
    asked = registry.make_reader(Settings(reader_model=str(folder), reader_precision="bf16"))
    asked.warm_up()
    assert asked.runner.precision == "bf16"
    assert {p.dtype for p in asked.runner.model.parameters()} == {torch.bfloat16}


def test_a_folder_that_names_no_precision_runs_in_fp32(tiny_folder):
    runner = TorchRunner()
    reader = TransformersReader(str(tiny_folder), runner=runner)
    reader.warm_up()
    assert runner.precision == "fp32"
    assert {p.dtype for p in runner.model.parameters()} == {torch.float32}


def test_the_environment_chooses_the_precision(monkeypatch):
    monkeypatch.setenv("NEWSQA_READER_PRECISION", "bf16")
    assert Settings.from_env().reader_precision == "bf16"
    monkeypatch.delenv("NEWSQA_READER_PRECISION")
    assert Settings.from_env().reader_precision is None


def _results(**scores):
    return {"questions": 100, "precisions": {p: {"f1": f1, "mean_ms": ms} for p, (f1, ms) in scores.items()}}


def test_the_fastest_precision_within_half_a_point_of_fp32_is_chosen():
    assert choose(_results(fp32=(70.0, 100), bf16=(69.8, 40), int8=(69.6, 30))) == "int8"
    # int8 is faster but loses more than the allowed half point
    assert choose(_results(fp32=(70.0, 100), bf16=(69.8, 40), int8=(70.0 - MAX_F1_LOSS - 0.01, 30))) == "bf16"
    # nothing is both close enough and faster: fp32 stays
    assert choose(_results(fp32=(70.0, 100), bf16=(68.0, 40), int8=(67.0, 30))) == "fp32"
    # a slower precision is never chosen for its score alone
    assert choose(_results(fp32=(70.0, 100), bf16=(71.0, 120))) == "fp32"


def test_without_native_bf16_its_emulated_time_does_not_count_against_it():
    # emulated bf16 is ten times slower, but a shipped bf16 runs in fp32 on such a CPU: it ties with
    # fp32 and wins the tie, being the faster one where it does run
    emulated = _results(fp32=(70.0, 100), bf16=(69.8, 1000), int8=(65.0, 80))
    assert choose(emulated) == "fp32"
    assert choose(emulated, native_bf16=False) == "bf16"
    # it must still keep its F1, and a faster precision that keeps it still wins
    assert choose(_results(fp32=(70.0, 100), bf16=(69.0, 1000)), native_bf16=False) == "fp32"
    assert choose(_results(fp32=(70.0, 100), bf16=(69.8, 1000), int8=(69.9, 80)), native_bf16=False) == "int8"
