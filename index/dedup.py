"""Near-duplicate articles (syndicated copies) by MinHash-LSH over word shingles (datasketch).

An article's signature is the MinHash (`NUM_PERM` permutations, a fixed seed) of its
`SHINGLE_WORDS`-word shingles, lower-cased; two articles whose signatures agree on at least
`THRESHOLD` of their positions (their estimated Jaccard similarity) are one story. LSH cuts each
signature into `BANDS` bands of `ROWS` values: articles sharing a band are the candidates, and only
they are compared, so finding a copy costs a few indexed lookups however large the archive. The
index keeps the signatures and band keys in its database (`index.records`), so a copy is
recognised against every article ever added, across runs and processes.

The threshold was chosen on labelled pairs of real paragraphs (SQuAD, Wikinews): syndication
edits against different articles on the same topic; `benchmarks/dedup_threshold.py` measures it
and `benchmarks/results/dedup_threshold.json` holds the figures.
What this leaves out: which copy is kept and how retrieval treats copies (`index.store`, `qa.retrieve`).
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

NUM_PERM = 128
# chosen by benchmarks/dedup_threshold.py on 600 labelled pairs of SQuAD train paragraphs (F1 1.000,
# and 0.993 either side of it), then measured unchanged on held-out pairs: SQuAD dev P 1.000 R 1.000,
# Wikinews P 1.000 R 0.993
SHINGLE_WORDS = 5
SEED = 1
THRESHOLD = 0.2


def lsh_shape(threshold: float = THRESHOLD, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows per band) that best separate pairs above and below `threshold` (datasketch's choice)."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


BANDS, ROWS = 28, 2  # lsh_shape(THRESHOLD), fixed here so importing this needs no datasketch


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    words = re.findall(r"\w+", text.lower())
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i:i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


_PERMUTATIONS = None


def signature(text: str, size: int = SHINGLE_WORDS, num_perm: int = NUM_PERM) -> np.ndarray:
    """The MinHash of the text's word shingles: `num_perm` unsigned 64-bit values."""
    from datasketch import MinHash

    global _PERMUTATIONS
    if _PERMUTATIONS is None or len(_PERMUTATIONS[0][0]) != num_perm:
        first = MinHash(num_perm=num_perm, seed=SEED)  # drawing the permutations is costly: once
        _PERMUTATIONS = (first.permutations, first.scheme)
    minhash = MinHash(num_perm=num_perm, seed=SEED, permutations=_PERMUTATIONS[0], scheme=_PERMUTATIONS[1])
    minhash.update_batch(sorted(shingles(text, size)))
    return np.asarray(minhash.hashvalues, dtype=np.uint64)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures' shingle sets."""
    return float(np.mean(np.asarray(a) == np.asarray(b)))


def band_keys(sig: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> list[bytes]:
    """One short key per band; two signatures share a key when that band is identical."""
    raw = np.asarray(sig, dtype="<u8")
    return [hashlib.blake2b(raw[i * rows:(i + 1) * rows].tobytes(), digest_size=8).digest() for i in range(bands)]


def to_blob(sig: np.ndarray) -> bytes:
    return np.asarray(sig, dtype="<u8").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8")
