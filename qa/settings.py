"""Settings: one frozen dataclass, built at the edges (CLI flags, env vars, UI) and passed down."""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

from newsqa.cache import CACHE_ENV, default_cache_dir

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_ARTICLE = PACKAGE_DIR / "data" / "putin-hosts-assad-in-sochi.txt"
SHIPPED_READER = PACKAGE_DIR / "reader" / "weights"
# where `python -m qa.reader.training.train --base mpnet` writes its reader (only what training changed)
MPNET_READER = PACKAGE_DIR / "reader" / "weights-mpnet"
READER_NAMES = ("minilm", "mpnet")


def bundled_index_key(article: Path) -> str:
    """A short key for the bundled article's cached index: its path and its text.

    The cache folder is shared by every checkout and install on a machine; keying it by path keeps
    each one's citations pointing at its own file, and keying it by text rebuilds the index when a
    new release changes the article.
    """
    digest = hashlib.sha256(str(Path(article).resolve()).encode() + b"\0" + Path(article).read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def _shipped_bundled_index_key() -> str:
    # Once per process: `bundled_index_dir` is read on every question, and the shipped file does not change under it.
    return bundled_index_key(BUNDLED_ARTICLE)


@dataclass(frozen=True)
class Settings:
    """What the assistant is made of and how it behaves. The parts are named here and composed by
    `Assistant`: the store (`index.store.IndexStore`), the embedder (`index.embed`), the retriever
    (`qa.retrieve.make_retriever`: "fused", "dense" or "bm25") and the reader (`qa.reader.registry`:
    "mpnet" or "minilm", or any model folder as `reader_model`) and its backend (`qa.reader.transformers_reader.RUNNERS`)."""

    index_dir: Path | None = None  # None: the bundled article's index, built on first use
    embedder_precision: str = "int8"  # "int8" (ONNX Runtime), "bf16" or "fp32": see index.embed
    retriever: str = "fused"
    top_k: int = 5  # passages retrieved and read per question
    candidates_per_retriever: int = 50  # depth of the dense and BM25 lists before fusion
    rrf_k: int = 60
    # one of READER_NAMES: "mpnet" (the default: better on news, README "Which reader answers by default")
    # or "minilm" (faster, weaker on news)
    reader: str = "mpnet"
    reader_model: str | None = None  # a model folder (or hub name) read instead; None: the named reader's
    reader_backend: str = "torch"  # the ModelRunner that runs the reader's model
    # "fp32", "bf16" or "int8"; None: the one the reader ships in (a shipped bf16 runs as fp32 on a CPU
    # without native bf16: qa.reader.precision.precision_for_this_cpu)
    reader_precision: str | None = None
    no_answer_threshold: float | None = None  # None: the threshold shipped with the reader
    # A retrieved passage sharing no content word with the question still counts as related to it
    # from this cosine similarity on (a paraphrase). Chosen for the shipped embedder on 2,944 held-out
    # SQuAD train questions (python -m qa.reader.training.calibrate): the nearest passage of another article
    # sharing no word with the question reaches 0.45 for 0.6% of them (0.40: 2.8%, 0.35: 10.9%),
    # while a question's own passage has a median of 0.56 and shares a content word 99.5% of the time.
    related_min_cosine: float = 0.45
    max_question_chars: int = 1000
    cache_dir: Path = default_cache_dir()

    def with_overrides(self, **overrides) -> "Settings":
        """A copy with the overrides that are not None (per-call options)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = {}
        if os.environ.get("NEWSQA_INDEX"):
            env["index_dir"] = Path(os.environ["NEWSQA_INDEX"])
        if os.environ.get("NEWSQA_READER"):
            # a reader's name, or (as before names existed) a model folder
            chosen = os.environ["NEWSQA_READER"]
            env["reader" if chosen in READER_NAMES else "reader_model"] = chosen
        if os.environ.get("NEWSQA_EMBEDDER_PRECISION"):
            env["embedder_precision"] = os.environ["NEWSQA_EMBEDDER_PRECISION"]
        if os.environ.get("NEWSQA_READER_PRECISION"):
            env["reader_precision"] = os.environ["NEWSQA_READER_PRECISION"]
        if os.environ.get("NEWSQA_RETRIEVER"):
            env["retriever"] = os.environ["NEWSQA_RETRIEVER"]
        if os.environ.get(CACHE_ENV):
            env["cache_dir"] = Path(os.environ[CACHE_ENV])
        return cls().with_overrides(**env).with_overrides(**overrides)

    @property
    def bundled_index_dir(self) -> Path:
        return self.cache_dir / f"bundled-index-{_shipped_bundled_index_key()}"
