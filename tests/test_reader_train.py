"""The training command end to end on a tiny model and a tiny SQuAD 2.0-style file.

It checks what a long CPU run depends on: checkpoints resume where they stopped, a larger budget
first replays the batches already trained on and then adds only new questions, and the export is
a reader the product loads.
"""

from __future__ import annotations

import json
import random

import pytest
import torch

from qa.reader.training import train as reader_train
from tests.tiny_model import build_tiny_qa_model

WORDS = "river mountain council treaty harbour festival engine library orchard senate".split()


def tiny_squad(path, articles: int = 6, questions: int = 6):
    rng = random.Random(0)
    data = []
    for a in range(articles):
        names = [f"{w}{a}" for w in WORDS]
        context = " ".join(f"The {n} was founded in {1800 + 7 * i + a}." for i, n in enumerate(names))
        qas = []
        for q in range(questions):
            i = rng.randrange(len(names))
            year = str(1800 + 7 * i + a)
            if q % 3 == 2:  # a third unanswerable, as in SQuAD 2.0
                qas.append({"id": f"a{a}q{q}", "question": f"Who closed the {names[i]}?", "answers": [],
                            "is_impossible": True})
            else:
                qas.append({"id": f"a{a}q{q}", "question": f"When was the {names[i]} founded?",
                            "answers": [{"text": year, "answer_start": context.index(year)}]})
        data.append({"title": f"Article {a}", "paragraphs": [{"context": context, "qas": qas}]})
    path.write_text(json.dumps({"version": "v2.0", "data": data}))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    return root, build_tiny_qa_model(root / "base"), tiny_squad(root / "train.json")


def run(setup, budget: int, *extra: str):
    """Train (or resume) with the tiny recipe; `extra` flags come last, so they override it."""
    root, base, data = setup
    reader_train.main([
        "--train-file", str(data), "--overlap-file", str(root / "none.json"), "--base", str(base),
        "--out", str(root / "out"), "--checkpoints", str(root / "ckpt"), "--checkpoint-every", "1",
        "--max-examples", str(budget), "--batch-size", "2", "--heldout-fraction", "0.2",
        "--heldout-eval-questions", "6", "--threads", "1", "--max-seq-tokens", "64", "--stride-tokens", "16",
        *extra,
    ])
    return torch.load(root / "ckpt" / "last.pt", weights_only=False)


def test_plan_batches_extension_replays_the_old_order(setup):
    from transformers import AutoTokenizer

    root, base, data = setup
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    examples = reader_train.load_examples(data, set())
    recipe = reader_train.Recipe(batch_size=2, max_examples=8)
    f1, b1 = reader_train.plan_batches(examples, [8], tokenizer, recipe)
    bigger = reader_train.Recipe(batch_size=2, max_examples=20)
    f2, b2 = reader_train.plan_batches(examples, [8, 20], tokenizer, bigger)
    assert len(b1) == 4 and len(b2) == 10
    assert [[f1[i] for i in b] for b in b1] == [[f2[i] for i in b] for b in b2[:4]]
    assert sorted(i for b in b2[4:] for i in b) == list(range(8, 20))  # only new questions after
    shorter = reader_train.Recipe(batch_size=2, max_examples=14)
    _, b3 = reader_train.plan_batches(examples, [8, 20], tokenizer, shorter)
    assert b3 == b2[:7]


def test_example_sequence_epochs():
    pool = list(range(10))
    first_epoch = reader_train.example_sequence(pool, 10, seed=13)
    shuffled = list(pool)
    random.Random(13).shuffle(shuffled)
    assert first_epoch == shuffled  # the order every earlier run trained on
    assert reader_train.example_sequence(pool, 4, seed=13) == first_epoch[:4]
    three = reader_train.example_sequence(pool, 25, seed=13)
    assert len(three) == 25 and three[:10] == first_epoch
    assert sorted(three[10:20]) == pool and three[10:20] != first_epoch  # each question once more, reshuffled
    assert set(three[20:]) <= set(pool)


def test_heldout_order_keeps_the_sample_earlier_runs_were_scored_on():
    held = list(range(3284))  # the real held-out count
    order = reader_train.heldout_order(held, seed=13)
    assert sorted(order) == held
    assert order[:1500] == random.Random(14).sample(held, 1500)


def test_train_resume_extend_and_export(setup):
    root = setup[0]
    (root / "out").mkdir()
    (root / "out" / "MODEL_CARD.md").write_text("card")
    state = run(setup, 8)
    assert state["step"] == 4 and state["budgets"] == [8]
    first_weights = {k: v.clone() for k, v in state["model"].items()}

    # Nothing left to train: the same checkpoint, exported again, with its threshold chosen on fewer
    # held-out questions (a change that does not touch the weights, so resuming allows it).
    state = run(setup, 8, "--heldout-eval-questions", "3")
    assert state["step"] == 4
    assert json.loads((root / "out" / "reader_config.json").read_text())["heldout"]["n"] == 3
    assert all(torch.equal(first_weights[k], v) for k, v in state["model"].items())

    state = run(setup, 16)
    assert state["step"] == 8 and state["budgets"] == [8, 16]
    assert not all(torch.equal(first_weights[k], v) for k, v in state["model"].items())
    log = [json.loads(line) for line in (root / "ckpt" / "log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log if "loss" in row] == [1, 2, 3, 4, 5, 6, 7, 8]
    # each row's cost in tokens run: every window is at least a question and a few passage tokens
    assert all(row["tokens_per_cpu_s"] > 8 * row["examples_per_cpu_s"] for row in log if "loss" in row)

    with pytest.raises(SystemExit, match="already trained 8 steps"):
        run(setup, 12)

    state = run(setup, 40)  # past the 30 training questions: a second, reshuffled epoch
    assert state["step"] == 20 and state["budgets"] == [8, 16, 40]
    trained = {k: v.clone() for k, v in state["model"].items()}

    config = json.loads((root / "out" / "reader_config.json").read_text())
    assert config["recipe"]["max_examples"] == 40 and config["heldout"]["n"] == 6
    assert (root / "out" / "model.safetensors").exists()
    assert (root / "out" / "MODEL_CARD.md").read_text() == "card"

    from qa.reader.transformers_reader import TransformersReader

    reader = TransformersReader(root / "out")
    passage = "The river0 was founded in 1800. The mountain0 was founded in 1807."
    reading = reader.read("When was the river0 founded?", [passage])[0]
    # A tiny random model may say anything, but always as a slice (the threshold is the assistant's).
    assert reading.span is not None and 0 <= reading.span.char_start < reading.span.char_end <= len(passage)

    # Exporting the checkpoint as it stands trains nothing and re-chooses the threshold.
    state = run(setup, 40, "--heldout-eval-questions", "2", "--export-checkpoint")
    assert state["step"] == 20 and all(torch.equal(trained[k], v) for k, v in state["model"].items())
    config = json.loads((root / "out" / "reader_config.json").read_text())
    assert config["heldout"]["n"] == 2 and config["heldout"]["step"] == 20
    with pytest.raises(SystemExit, match="another recipe"):
        run(setup, 40, "--export-checkpoint", "--seed", "7")
