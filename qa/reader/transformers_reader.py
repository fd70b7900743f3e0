"""The reader: any Hugging Face extractive QA model, run with our own tokenization and decoding.

(`qa.reader.registry` chooses which model folder a named reader reads with; this module reads.)

transformers 5 has no question-answering pipeline, so this file does what it did: split each
passage into overlapping token windows (stride), run `AutoModelForQuestionAnswering`, map tokens
back to characters with the fast tokenizer's offset mapping, and keep the best span per passage.
Answers are character offsets into the passage given, never text rebuilt from tokens.

The model loads lazily on first use (`warm_up`); constructing a reader does no I/O.
What this leaves out: choosing passages (retrieval) and the answer/no-answer policy across
passages (`qa.answer_policy`).
"""

from __future__ import annotations

import bisect
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from index.split import PARAGRAPH_BREAK  # the splitter's own rule: a reader paragraph is an index paragraph
from qa.confidence import Calibration, load_calibration
from qa.errors import ReaderError
from qa.reader.decode import NOT_CONTEXT, Span, Window, passage_spans
from qa.reader.markup import MarkupCheck

# next best spans kept per passage, for answers that must fit the question's type
PASSAGE_ALTERNATIVES = 4

# Our own settings file saved beside the weights: no-answer threshold and window sizes
# chosen when the model was trained.
READER_CONFIG = "reader_config.json"
MAX_QUESTION_TOKENS = 64
# padding a batch of windows may carry, as a fraction of its real tokens (`padding_bounded_batches`)
MAX_PADDING = 0.05


@dataclass(frozen=True)
class ReaderSettings:
    max_seq_tokens: int = 256
    stride_tokens: int = 96
    max_answer_tokens: int = 30
    batch_windows: int = 32
    # margin (best span score - null score) above which a span counts as an answer
    no_answer_threshold: float = 0.0
    # raw answer score -> probability that the answer is right (calibration.json beside the weights)
    calibration: Calibration | None = None


@dataclass(frozen=True)
class PassageReading:
    """The reader's verdict on one passage: its best span (or None) and the no-answer score."""

    span: Span | None
    null_score: float
    # the passage's next best distinct spans after `span`, best first, each with its own score and
    # the passage's null score: what the answer policy falls back to when `span` does not fit the
    # question's type (`qa.answer_type`)
    alternatives: tuple[Span, ...] = ()


def load_reader_settings(model_dir: Path) -> ReaderSettings:
    path = Path(model_dir) / READER_CONFIG
    try:
        calibration = load_calibration(model_dir)
    except ValueError as e:
        raise ReaderError(str(e)) from e
    if not path.exists():
        return ReaderSettings(calibration=calibration)
    data = json.loads(path.read_text())
    known = {k: data[k] for k in ReaderSettings.__dataclass_fields__ if k in data and k != "calibration"}
    return ReaderSettings(**known, calibration=calibration)


class ModelRunner(Protocol):
    """The one step a new backend replaces: token windows in, start and end logits out.

    `inputs` holds `input_ids`, `attention_mask` (and `token_type_ids` when the model uses them)
    as int64 arrays of shape (windows, tokens); the result is two float32 arrays of that shape.
    """

    def load(self, model_name_or_path: str) -> None: ...
    def run(self, inputs: dict[str, np.ndarray], batch_windows: int) -> tuple[np.ndarray, np.ndarray]: ...


class TorchRunner:
    """Runs a Hugging Face `AutoModelForQuestionAnswering` with PyTorch on the CPU.

    A folder whose reader_config.json names a packaged base holds only what training changed; the
    base is then unpacked into `cache_dir` (once) and the change added to it (`qa.reader.delta`).
    It runs in `precision` if given, else in the one its reader_config.json ships (fp32 if none),
    as this CPU runs it fastest (`qa.reader.precision.precision_for_this_cpu`).
    """

    def __init__(self, cache_dir: Path | None = None, precision: str | None = None):
        self.model = None
        self.cache_dir = cache_dir
        self.precision = precision
        self._inputs: set[str] | None = None

    def load(self, model_name_or_path: str) -> None:
        from qa.reader.delta import load_qa_model, read_config
        from qa.reader.precision import precision_for_this_cpu, to_precision

        model = load_qa_model(model_name_or_path, self.cache_dir)
        folder = Path(model_name_or_path)
        shipped = read_config(folder).get("precision", "fp32") if folder.is_dir() else "fp32"
        self.precision = self.precision or precision_for_this_cpu(shipped)
        self.model = to_precision(model, self.precision)

    def run(self, inputs: dict[str, np.ndarray], batch_windows: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        if self._inputs is None:
            from qa.reader.adapt import accepted_inputs

            self._inputs = accepted_inputs(self.model)
        # a tokenizer may add token_type_ids for a model that has none (MPNet)
        inputs = {k: v for k, v in inputs.items() if k in self._inputs}
        device = next(self.model.parameters()).device  # the training loop scores its model where it trains
        n_windows = len(inputs["input_ids"])
        start_all, end_all = [], []
        with torch.inference_mode():
            for lo in range(0, n_windows, batch_windows):
                batch = {k: torch.from_numpy(v[lo: lo + batch_windows]).to(device) for k, v in inputs.items()}
                out = self.model(**batch)
                start_all.append(out.start_logits.float().cpu().numpy())
                end_all.append(out.end_logits.float().cpu().numpy())
        return np.concatenate(start_all), np.concatenate(end_all)


RUNNERS = {"torch": TorchRunner}


class Reader(Protocol):
    """What the assistant needs from a reader: its settings and one reading per passage.

    `read_many` reads several questions' passages at once (a server batches questions that
    arrive together); its result is `read`'s for each item, so a reader that cannot share work
    between questions implements it as that loop."""

    settings: ReaderSettings

    def warm_up(self) -> None: ...  # load the model now; safe to call twice
    def read(self, question: str, passages: Sequence[str]) -> list[PassageReading]: ...
    def read_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[PassageReading]]: ...


class TransformersReader:
    """Extractive reader over a Hugging Face QA model (a local folder, or a hub name where a network exists).

    read = tokenize the question with each passage into overlapping windows -> the runner's logits
    -> decode the best span per passage (`qa.reader.decode`). Only the runner knows the backend.
    """

    def __init__(self, model_name_or_path: str | Path, settings: ReaderSettings | None = None,
                 runner: ModelRunner | None = None):
        self.model_name_or_path = str(model_name_or_path)
        self._settings_override = settings
        self._settings: ReaderSettings | None = None
        self.runner = runner if runner is not None else TorchRunner()
        self._tokenizer = None
        self._loaded = False
        self._lock = threading.Lock()

    @classmethod
    def from_loaded(cls, model, tokenizer, settings: ReaderSettings) -> "TransformersReader":
        """Wrap an in-memory model (the training loop scores its checkpoints this way)."""
        runner = TorchRunner()
        runner.model = model
        reader = cls("<in-memory>", settings, runner)
        reader._tokenizer, reader._settings, reader._loaded = tokenizer, settings, True
        return reader

    @property
    def _model(self):
        """The torch model, for tools that inspect it (only with the torch runner)."""
        self.warm_up()
        return self.runner.model

    @property
    def settings(self) -> ReaderSettings:
        self.warm_up()
        return self._settings

    def warm_up(self) -> None:
        """Load tokenizer and model once; safe to call again and from several threads."""
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            try:
                from transformers import AutoTokenizer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # a per-load bar is noise in a CLI's output
                tokenizer = AutoTokenizer.from_pretrained(self.model_name_or_path)
                self.runner.load(self.model_name_or_path)
            except (OSError, ValueError) as e:
                raise ReaderError(
                    f"cannot load the reader model from {self.model_name_or_path!r}: {e}"
                ) from e
            if not getattr(tokenizer, "is_fast", False):
                raise ReaderError("the reader needs a fast tokenizer (for character offsets)")
            settings = self._settings_override
            if settings is None:
                path = Path(self.model_name_or_path)
                settings = load_reader_settings(path) if path.is_dir() else ReaderSettings()
            self._tokenizer, self._settings = tokenizer, settings
            self._loaded = True

    def read(self, question: str, passages: Sequence[str]) -> list[PassageReading]:
        """Read each passage for `question`; one PassageReading per passage, in order."""
        return self.read_many([(question, passages)])[0]

    def read_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[PassageReading]]:
        """Read several questions' passages in shared forward passes; one `read` result per item.

        The windows of all questions are sorted by length and run in batches of at most
        `batch_windows` windows of nearly one length (`padding_bounded_batches`), so questions that
        arrive together cost fewer, fuller model calls than reading them one by one, and little of
        any call is padding.
        """
        self.warm_up()
        encoded = [self._encode(question, passages) if passages else None for question, passages in items]
        logits = iter(self._run_windows([e for e in encoded if e is not None]))
        results = []
        for (_, passages), enc in zip(items, encoded):
            if enc is None:
                results.append([])
                continue
            readings = []
            for text, windows in zip(passages, self._passage_windows(passages, enc, next(logits))):
                markup = MarkupCheck(text)
                # a span of markup is never an answer: the next best span of the passage is read instead
                spans, null = passage_spans(windows, self._settings.max_answer_tokens,
                                            keep=lambda s, e: not markup.is_markup(*snapped(text, s, e)),
                                            alternatives=PASSAGE_ALTERNATIVES)
                spans = distinct_snapped(text, spans)
                readings.append(PassageReading(spans[0] if spans else None, null, tuple(spans[1:])))
            results.append(readings)
        return results

    def _encode(self, question: str, passages: Sequence[str]):
        s = self._settings
        question = truncate_question(self._tokenizer, question)
        return self._tokenizer(
            [question] * len(passages),
            list(passages),
            truncation="only_second",
            max_length=s.max_seq_tokens,
            stride=s.stride_tokens,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="longest",
            return_tensors="np",
        )

    def _run_windows(self, encodings: list) -> list[tuple[np.ndarray, np.ndarray]]:
        """(start, end) logits shaped like each encoding's input_ids, for all their windows together."""
        if not encodings:
            return []
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in encodings[0]]
        # (encoding, window, tokens without padding); the tokenizer pads on the right
        windows = [(e, w, int(enc["attention_mask"][w].sum()))
                   for e, enc in enumerate(encodings) for w in range(len(enc["input_ids"]))]
        windows.sort(key=lambda item: item[2])  # windows of similar length share a batch: little padding
        # padding positions are never context, so their logits are never read; fill them with a low value
        out = [(np.full(enc["input_ids"].shape, -1e4, dtype=np.float32),
                np.full(enc["input_ids"].shape, -1e4, dtype=np.float32)) for enc in encodings]
        batch_windows = self._settings.batch_windows
        for batch in padding_bounded_batches(windows, batch_windows):
            length = batch[-1][2]
            inputs = {}
            for k in keys:
                pad = self._tokenizer.pad_token_id if k == "input_ids" else 0
                inputs[k] = np.full((len(batch), length), pad or 0, dtype=encodings[0][k].dtype)
                for row, (e, w, n) in enumerate(batch):
                    inputs[k][row, :n] = encodings[e][k][w, :n]
            start, end = self.runner.run(inputs, batch_windows)
            for row, (e, w, n) in enumerate(batch):
                out[e][0][w, :n] = start[row, :n]
                out[e][1][w, :n] = end[row, :n]
        return out

    def _windows(self, question: str, passages: Sequence[str]) -> list[list[Window]]:
        """One question's windows with their logits, per passage (for tools that inspect them)."""
        encoded = self._encode(question, passages)
        return self._passage_windows(passages, encoded, self._run_windows([encoded])[0])

    def _passage_windows(self, passages: Sequence[str], encoded, logits) -> list[list[Window]]:
        start_logits, end_logits = logits
        passage_of_window = encoded["overflow_to_sample_mapping"]
        breaks = [[m.start() for m in PARAGRAPH_BREAK.finditer(text)] for text in passages]
        per_passage: list[list[Window]] = [[] for _ in passages]
        for w in range(len(passage_of_window)):
            p = int(passage_of_window[w])
            sequence_ids = encoded.sequence_ids(w)
            offsets = [
                (int(a), int(b)) if seq == 1 else NOT_CONTEXT
                for (a, b), seq in zip(encoded["offset_mapping"][w], sequence_ids)
            ]
            paragraph = np.array([bisect.bisect(breaks[p], a) for a, _ in offsets]) if breaks[p] else None
            per_passage[p].append(Window(start_logits[w], end_logits[w], offsets, paragraph))
        return per_passage


def padding_bounded_batches(windows: Sequence[tuple[int, int, int]], most: int,
                            padding: float | None = None) -> list[list[tuple[int, int, int]]]:
    """Length-sorted `(encoding, window, tokens)` cut into batches of at most `most` windows, each
    padded to its longest window, with padding at most `padding` times its real tokens.

    On the CPU a model's cost is its token count, padding included, and a matrix product over one
    200-token window runs nearly as fast per token as over many. Padding five passages' windows to
    the longest wasted 15 % of the tokens on SQuAD-sized paragraphs, so a window that would add
    more than that bound starts a batch of its own; windows of nearly one length still share one.
    """
    padding = MAX_PADDING if padding is None else padding
    batches: list[list[tuple[int, int, int]]] = []
    for item in windows:
        batch = batches[-1] if batches else None
        if batch is not None and len(batch) < most:
            real = sum(n for _, _, n in batch) + item[2]
            if (len(batch) + 1) * item[2] <= (1 + padding) * real:
                batch.append(item)
                continue
        batches.append([item])
    return batches


def distinct_snapped(text: str, spans: Sequence[Span]) -> list[Span]:
    """Spans (best first) snapped to whole words; two that become the same keep the better one."""
    seen, out = set(), []
    for span in spans:
        span = snap_to_words(text, span)
        if (span.char_start, span.char_end) not in seen:
            seen.add((span.char_start, span.char_end))
            out.append(span)
    return out


def snap_to_words(text: str, span: Span) -> Span:
    """Widen a span that starts or ends inside a word (a sub-word token) to the whole word."""
    return Span(*snapped(text, span.char_start, span.char_end), span.score, span.null_score)


def snapped(text: str, start: int, end: int) -> tuple[int, int]:
    """(start, end) widened to whole words."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end


def truncate_question(tokenizer, question: str, max_tokens: int = MAX_QUESTION_TOKENS) -> str:
    """Cut a question to its first `max_tokens` tokens so the passage always gets most of the window."""
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = enc["offset_mapping"]
    if len(offsets) <= max_tokens:
        return question
    return question[: offsets[max_tokens - 1][1]]
