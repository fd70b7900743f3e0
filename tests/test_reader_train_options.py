"""Training options on tiny models: --base mpnet (a fake packaged MPNet), --lora-rank, --freeze-layers, --keep-layers.

Each run is a few steps on a tiny SQuAD 2.0-style file. What is checked is what the options
promise: only the expected weights change, a run resumes from its checkpoint, the learning curve
is logged, and the exported MPNet reader holds only what training changed and loads back into a
reader that answers with a span of the passage.
"""

from __future__ import annotations

import json
from argparse import Namespace

import pytest
import torch

from qa.reader.training import train as reader_train
from tests.fake_base import install, packaged_base, split_zip, tiny_mpnet_folder
from tests.test_reader_train import tiny_squad
from tests.tiny_model import build_tiny_qa_model

PASSAGE = "The river0 was founded in 1800. The mountain0 was founded in 1807."


@pytest.fixture(scope="module")
def fake_mpnet(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpnet")
    pieces = split_zip(tiny_mpnet_folder(root / "model"), root / "pieces")
    packaged = packaged_base(pieces)
    with install(pieces, packaged):
        yield root, packaged


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_squad(tmp_path_factory.mktemp("data") / "train.json")


def run(data, folder, budget: int, *extra: str):
    reader_train.main([
        "--train-file", str(data), "--overlap-file", str(folder / "none.json"),
        "--out", str(folder / "out"), "--checkpoints", str(folder / "ckpt"), "--checkpoint-every", "1",
        "--max-examples", str(budget), "--batch-size", "2", "--heldout-fraction", "0.2",
        "--heldout-eval-questions", "6", "--threads", "1", "--max-length", "64", "--stride-tokens", "16",
        *extra,
    ])
    return torch.load(folder / "ckpt" / "last.pt", weights_only=False)


def base_weights(cache_dir, keep_layers=None) -> dict:
    from qa.reader.base import MPNET, BASES, base_model_dir
    from qa.reader.delta import build_base_model

    return build_base_model(base_model_dir(BASES[MPNET.name], cache_dir), keep_layers).state_dict()


def cache_dir():
    from qa.settings import Settings

    return Settings.from_env().cache_dir


def test_recipe_defaults_follow_the_base_and_lora():
    def recipe(**given):
        fields = {k: None for k in reader_train.Recipe.__dataclass_fields__}
        return reader_train.recipe_from_args(Namespace(**{**fields, **given}))

    assert recipe() == reader_train.Recipe()  # MiniLM's recipe, unchanged
    mpnet = recipe(base="mpnet")
    assert (mpnet.max_seq_tokens, mpnet.stride_tokens, mpnet.max_examples, mpnet.learning_rate) == (384, 128, 254_040, 3e-5)
    assert (mpnet.lora_rank, mpnet.freeze_layers, mpnet.keep_layers) == (0, 0, 0)  # a full fine-tune
    assert recipe(base="mpnet", lora_rank=8).learning_rate == reader_train.LORA_LEARNING_RATE
    assert recipe(base="mpnet", lora_rank=8, learning_rate=1e-4).learning_rate == 1e-4
    assert recipe(base="mpnet", max_seq_tokens=256).max_seq_tokens == 256


def test_a_checkpoint_from_before_the_new_options_resumes(tmp_path):
    old = {k: v for k, v in reader_train.asdict(reader_train.Recipe()).items()
           if k not in ("base", "lora_rank", "freeze_layers", "keep_layers")}
    assert reader_train.recipe_changes({"recipe": old}, reader_train.Recipe(), tmp_path / "last.pt") == set()
    with pytest.raises(SystemExit, match="another recipe"):
        reader_train.recipe_changes({"recipe": old}, reader_train.Recipe(lora_rank=4), tmp_path / "last.pt")


def test_mpnet_lora_on_kept_layers_trains_only_adapters_and_head_resumes_and_ships_small(fake_mpnet, data, tmp_path):
    from qa.reader.transformers_reader import TransformersReader

    state = run(data, tmp_path, 8, "--base", "mpnet", "--keep-layers", "2", "--lora-rank", "4")
    assert state["step"] == 4 and state["recipe"]["lora_rank"] == 4 and state["recipe"]["max_seq_tokens"] == 64
    names = set(state["model"])
    assert names and all(".lora_" in n or ".qa_outputs.modules_to_save." in n for n in names), names
    assert any(".qa_outputs.modules_to_save." in n for n in names)
    assert {int(n.split("encoder.layer.")[1].split(".")[0]) for n in names if "encoder.layer." in n} == {0, 1}
    assert all(v.abs().sum() > 0 for n, v in state["model"].items() if "lora_B" in n)  # the adapters moved

    first = {k: v.clone() for k, v in state["model"].items()}
    state = run(data, tmp_path, 12, "--base", "mpnet", "--keep-layers", "2", "--lora-rank", "4")
    assert state["step"] == 6 and state["budgets"] == [8, 12]
    assert set(state["model"]) == names and not all(torch.equal(first[k], state["model"][k]) for k in names)

    out = tmp_path / "out"
    config = json.loads((out / "reader_config.json").read_text())
    assert config["base"]["name"] == "all-mpnet-base-v2" and config["base"]["sha256"] == fake_mpnet[1].sha256
    assert config["base"]["keep_layers"] == 2 and config["delta"]["kind"] == "lora"
    assert config["max_seq_tokens"] == 64 and "no_answer_threshold" in config
    assert not (out / "model.safetensors").exists() and (out / "adapter").is_dir()
    # nothing in the folder points at this machine's cache (where the base was unpacked)
    assert not any(str(cache_dir()) in p.read_text(errors="ignore") for p in out.rglob("*.json"))
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["base_model_name_or_path"] == "all-mpnet-base-v2"

    reader = TransformersReader(out)
    reading = reader.read("When was the river0 founded?", [PASSAGE])[0]
    assert reading.span is not None and 0 <= reading.span.char_start < reading.span.char_end <= len(PASSAGE)
    loaded = reader._model.state_dict()
    base = base_weights(cache_dir(), keep_layers=2)
    assert reader._model.config.num_hidden_layers == 2 and set(loaded) == set(base)
    for name, value in loaded.items():
        moved = not torch.equal(value, base[name])
        adapted = name.endswith(".weight") and any(f".{m}." in name for m in ("q", "k", "v", "o", "dense"))
        # LoRA moved the adapted matrices (merged at load) and the head; nothing else
        if name.startswith("qa_outputs.") or (adapted and "LayerNorm" not in name):
            assert moved, name
        else:
            assert not moved, name
    head = state["model"]["base_model.model.qa_outputs.modules_to_save.default.weight"]
    assert torch.equal(loaded["qa_outputs.weight"], head)


def test_mpnet_lora_above_frozen_layers_leaves_them_as_the_base_has_them(fake_mpnet, data, tmp_path):
    from qa.reader.transformers_reader import TransformersReader

    state = run(data, tmp_path, 4, "--base", "mpnet", "--lora-rank", "2", "--freeze-layers", "1")
    assert not any("encoder.layer.0." in n for n in state["model"])
    loaded = TransformersReader(tmp_path / "out")._model.state_dict()
    base = base_weights(cache_dir())
    for name, value in loaded.items():
        if "encoder.layer.0." in name or "embeddings" in name:
            assert torch.equal(value, base[name]), name
        elif name.endswith("attn.q.weight") or name.endswith("intermediate.dense.weight"):
            assert not torch.equal(value, base[name]), name


def test_mpnet_full_fine_tune_with_frozen_layers_ships_a_4bit_delta(fake_mpnet, data, tmp_path):
    from safetensors.torch import load_file

    from qa.reader.transformers_reader import TransformersReader

    state = run(data, tmp_path, 8, "--base", "mpnet", "--freeze-layers", "1", "--eval-every", "2")
    names = set(state["model"])
    assert not any("embeddings" in n or "encoder.layer.0." in n for n in names)
    assert any("encoder.layer.2." in n for n in names) and "qa_outputs.weight" in names

    out = tmp_path / "out"
    config = json.loads((out / "reader_config.json").read_text())
    assert config["delta"]["kind"] == "q4-delta" and config["base"]["keep_layers"] is None
    delta = load_file(str(out / "delta.safetensors"))
    assert not any("embeddings" in k or "encoder.layer.0." in k for k in delta)
    assert torch.equal(delta["qa_outputs.weight"], state["model"]["qa_outputs.weight"])

    loaded = TransformersReader(out)._model.state_dict()
    base = base_weights(cache_dir())
    for name, value in loaded.items():
        if "embeddings" in name or "encoder.layer.0." in name:
            assert torch.equal(value, base[name]), name
        elif name in state["model"]:
            trained = state["model"][name]
            step = (trained - base[name]).abs().max() / 7
            assert (value - trained).abs().max() <= step / 2 * 1.05 + 1e-6, name

    # the learning curve: examples seen, training CPU-seconds and held-out F1 at each evaluation point
    curve = reader_train.learning_curve(tmp_path / "ckpt" / "log.jsonl")
    assert [row["examples"] for row in curve] == [4, 8]  # step 2, then the final score at step 4
    assert curve[0]["questions"] == 6 and all(0 <= row["f1"] <= 100 for row in curve)
    assert 0 < curve[0]["cpu_seconds"] <= curve[1]["cpu_seconds"] == pytest.approx(state["cpu_seconds"])


def test_keep_layers_and_lora_on_a_local_base_export_a_whole_merged_model(data, tmp_path):
    from transformers import AutoConfig

    from qa.reader.transformers_reader import TransformersReader

    base = build_tiny_qa_model(tmp_path / "base")
    state = run(data, tmp_path, 6, "--base", str(base), "--keep-layers", "1", "--lora-rank", "2")
    assert all(".lora_" in n or "modules_to_save" in n for n in state["model"])
    out = tmp_path / "out"
    assert AutoConfig.from_pretrained(str(out)).num_hidden_layers == 1
    assert (out / "model.safetensors").exists() and not (out / "adapter").exists()
    assert "base" not in json.loads((out / "reader_config.json").read_text())
    reading = TransformersReader(out).read("When was the river0 founded?", [PASSAGE])[0]
    assert reading.span is not None


def test_bad_options_are_refused(data, tmp_path):
    base = build_tiny_qa_model(tmp_path / "base")
    with pytest.raises(SystemExit, match="--keep-layers must be between 1 and 2"):
        run(data, tmp_path, 4, "--base", str(base), "--keep-layers", "3")
    with pytest.raises(SystemExit, match="--base must be minilm"):
        run(data, tmp_path / "other", 4, "--base", "bert-large")
