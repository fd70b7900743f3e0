"""Deterministic stand-ins for the two models, for fast tests of everything around them."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from qa.reader.decode import Span
from qa.reader.transformers_reader import PassageReading, ReaderSettings


class HashEmbedder:
    """Bag of words hashed into 384 dimensions: passages sharing words with a question score higher."""

    name = "sentence-transformers/all-MiniLM-L6-v2"  # poses as the real one so indexes stay loadable
    dim = 384

    def warm_up(self) -> None:
        pass

    def embed(self, texts, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out


class ReadsOneByOne:
    """`read_many` as a loop over `read`, for stand-in readers (the `Reader` protocol asks for both)."""

    def read_many(self, items):
        return [self.read(question, passages) if passages else [] for question, passages in items]


class KeywordReader(ReadsOneByOne):
    """Answers with a fixed span: for a question containing a key, the first occurrence of its answer."""

    def __init__(self, answers: dict[str, str], threshold: float = 0.0):
        self.answers = answers
        self.settings = ReaderSettings(no_answer_threshold=threshold)
        self.calls = 0

    def warm_up(self) -> None:
        pass

    def read(self, question: str, passages) -> list[PassageReading]:
        self.calls += 1
        readings = []
        for text in passages:
            span = None
            for key, answer in self.answers.items():
                if key.lower() in question.lower() and answer in text:
                    start = text.index(answer)
                    span = Span(start, start + len(answer), 5.0, 0.0)
                    break
            readings.append(PassageReading(span, 0.0))
        return readings
