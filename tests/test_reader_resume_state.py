"""A training campaign continues in a fresh clone from the small state it commits.

The committed state (bf16 trainable weights, AdamW moments when they fit in 8 MB, step, RNG, log)
must continue a run as if it had never stopped: the losses after the resume are those of an
uninterrupted run, up to the bf16 rounding of the weights.
"""

from __future__ import annotations

import json
import shutil

import pytest

from qa.reader.training import resume_state
from qa.reader.training import train as reader_train
from tests.test_reader_train import tiny_squad
from tests.tiny_model import build_tiny_qa_model


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    return root, build_tiny_qa_model(root / "base"), tiny_squad(root / "train.json", articles=8)


def train(setup, ckpt: str, *extra: str) -> None:
    root, base, data = setup
    reader_train.main([
        "--train-file", str(data), "--overlap-file", str(root / "none.json"), "--base", str(base),
        "--out", str(root / f"out-{ckpt}"), "--checkpoints", str(root / ckpt), "--checkpoint-every", "1",
        "--max-examples", "24", "--batch-size", "2", "--heldout-fraction", "0.2", "--learning-rate", "0.01",
        "--heldout-eval-questions", "4", "--threads", "1", "--max-seq-tokens", "64", "--stride-tokens", "16",
        *extra,
    ])


def step_losses(log_path) -> dict[int, float]:
    rows = [json.loads(line) for line in log_path.read_text().splitlines()]
    return {row["step"]: row["step_loss"] for row in rows if "step_loss" in row}


def test_resume_from_the_committed_state_gives_the_uninterrupted_losses(setup):
    root, _, _ = setup
    train(setup, "whole")
    whole = step_losses(root / "whole" / "log.jsonl")
    assert sorted(whole) == list(range(1, 13))
    # the losses move from step to step, so matching them is not a given
    assert max(abs(whole[s] - whole[s + 1]) for s in range(5, 9)) > 0.02
    # the tiny model's dropout trains with FastDropout here, so resuming replays its masks too
    starts = [json.loads(line) for line in (root / "whole" / "log.jsonl").read_text().splitlines()]
    assert [row["dropout"] for row in starts if row.get("event") == "start"] == ["fast"]

    train(setup, "first", "--stop-after-steps", "5", "--state-out", str(root / "committed"))
    meta = json.loads((root / "committed" / resume_state.META_FILE).read_text())
    assert meta["step"] == 5 and meta["optimizer_moments"] == "kept" and meta["cpu_model"] is not None
    assert not (root / "out-first").exists()  # a stretch that stops early exports nothing
    shutil.rmtree(root / "first")  # a fresh clone has only what was committed

    train(setup, "fresh-clone", "--resume-from", str(root / "committed"))
    resumed = step_losses(root / "fresh-clone" / "log.jsonl")
    assert sorted(resumed) == list(range(1, 13))  # the committed log goes on
    assert resumed[6] == pytest.approx(whole[6], abs=1e-3)  # the next loss
    for step in range(7, 13):  # and the ones after, up to the bf16 rounding of the committed weights
        assert resumed[step] == pytest.approx(whole[step], abs=5e-3), step
    assert (root / "out-fresh-clone" / "reader_config.json").is_file()


def test_resuming_from_the_full_checkpoint_replays_the_uninterrupted_losses_exactly(setup):
    # the checkpoint keeps fp32 weights, the moments and the generator state that seeds every dropout
    # mask, so a stopped run goes on as if it had never stopped
    root, _, _ = setup
    whole = step_losses(root / "whole" / "log.jsonl")
    train(setup, "stopped", "--stop-after-steps", "5")
    train(setup, "stopped")
    resumed = step_losses(root / "stopped" / "log.jsonl")
    assert sorted(resumed) == list(range(1, 13))
    assert all(resumed[s] == pytest.approx(whole[s], abs=1e-6) for s in range(1, 13))


def test_without_its_moments_the_next_loss_still_matches_but_later_ones_drift(setup, monkeypatch):
    root, _, _ = setup
    whole = step_losses(root / "whole" / "log.jsonl")
    monkeypatch.setattr(resume_state, "MAX_STATE_BYTES", 3_000_000)  # the tiny model's weights fit, moments not
    train(setup, "first-small", "--stop-after-steps", "5", "--state-out", str(root / "committed-small"))
    meta = json.loads((root / "committed-small" / resume_state.META_FILE).read_text())
    assert meta["optimizer_moments"].startswith("dropped")
    train(setup, "fresh-small", "--resume-from", str(root / "committed-small"))
    resumed = step_losses(root / "fresh-small" / "log.jsonl")
    assert resumed[6] == pytest.approx(whole[6], abs=2e-3)  # weights, RNG and batch order are back
    assert max(abs(resumed[s] - whole[s]) for s in range(7, 13)) > 2e-2  # fresh moments step differently


def test_a_local_checkpoint_further_along_wins_over_an_older_committed_state(setup):
    root, _, _ = setup
    train(setup, "local", "--stop-after-steps", "3", "--state-out", str(root / "committed-old"))
    train(setup, "local", "--stop-after-steps", "3")  # the local checkpoint is now at step 6
    train(setup, "local", "--resume-from", str(root / "committed-old"), "--stop-after-steps", "1")
    rows = [json.loads(line) for line in (root / "local" / "log.jsonl").read_text().splitlines()]
    starts = [row for row in rows if row.get("event") == "start"]
    assert [(s["step"], s["from"]) for s in starts] == [(0, "none"), (3, "checkpoint"), (6, "checkpoint")]


def test_weights_over_the_limit_are_refused(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(resume_state, "MAX_STATE_BYTES", 100)
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(100))])
    with pytest.raises(ValueError, match="over the 0 MB"):
        resume_state.write_state(tmp_path / "s", {"w": torch.zeros(100)}, opt.state_dict(), {}, None)
    assert not (tmp_path / "s").exists()


def test_averaged_states_export_like_a_trained_one(setup):
    import subprocess
    import sys

    import torch
    from safetensors.torch import load_file

    root, _, _ = setup
    train(setup, "avg", "--stop-after-steps", "3", "--state-out", str(root / "avg-3"))
    train(setup, "avg", "--stop-after-steps", "3", "--state-out", str(root / "avg-6"))
    done = subprocess.run([sys.executable, "-m", "qa.reader.training.average_states", "--out", str(root / "mean"),
                           str(root / "avg-3"), str(root / "avg-6")], capture_output=True, text=True, check=True)
    assert "steps 3, 6" in done.stdout
    three, six, mean = (load_file(str(root / d / resume_state.WEIGHTS_FILE)) for d in ("avg-3", "avg-6", "mean"))
    moved = [k for k in mean if not torch.equal(three[k], six[k])]
    assert moved  # six steps at lr 0.01 moved the weights, so the mean differs from both ends
    for k in mean:
        assert mean[k].dtype == torch.bfloat16
        assert torch.allclose(mean[k].float(), (three[k].float() + six[k].float()) / 2, atol=1e-2, rtol=1e-2)
    meta = resume_state.read_state(root / "mean").meta
    assert meta["step"] == 6 and [a["step"] for a in meta["averaged_from"]] == [3, 6]

    train(setup, "avg-export", "--resume-from", str(root / "mean"), "--export-checkpoint")
    exported = json.loads((root / "out-avg-export" / "reader_config.json").read_text())
    assert exported["heldout"]["step"] == 6 and exported["heldout"]["averaged_from_steps"] == [3, 6]


def test_states_of_different_models_are_not_averaged(tmp_path):
    import torch
    from safetensors.torch import save_file

    from qa.reader.training.average_states import average_state_folders, average_weights

    with pytest.raises(ValueError, match="different tensors"):
        average_weights([{"a": torch.zeros(2)}, {"b": torch.zeros(2)}])
    with pytest.raises(ValueError, match="shapes"):
        average_weights([{"a": torch.zeros(2)}, {"a": torch.zeros(3)}])
    for name, rank in (("r8", 8), ("r16", 16)):
        (tmp_path / name).mkdir()
        save_file({"a": torch.zeros(2)}, str(tmp_path / name / resume_state.WEIGHTS_FILE))
        (tmp_path / name / resume_state.META_FILE).write_text(json.dumps(
            {"step": rank, "cpu_seconds": 1.0, "recipe": {"base": "mpnet", "lora_rank": rank}}))
    with pytest.raises(ValueError, match="different models"):
        average_state_folders([tmp_path / "r8", tmp_path / "r16"], tmp_path / "out")
