"""Passage vectors on disk as immutable segments, searched with FAISS.

Each write adds one segment: `seg-<batch>.npy` (float32 rows, L2-normalised) and
`seg-<batch>.ids.npy` (the passage ids of those rows, ascending). A segment is never modified;
removal is a tombstone (the passage id) that searches exclude with a FAISS id selector, and
compaction writes one new segment of the live vectors and drops the old ones. A search limited to
some passages (a question scoped to some articles) passes their ids the same way, as a selector
of the ids allowed, so the k results are the k best of those passages, not a filtered top k.

Small segments are searched exactly (`IndexFlatIP`, held in memory). A segment of at least
`APPROXIMATE_MIN_VECTORS` rows also gets `seg-<batch>.ivf.faiss`, an inverted-file index with
8-bit scalar-quantised codes, memory-mapped: a question scans `nprobe` of its lists and the best
candidates are re-scored exactly from the memory-mapped float32 rows. So memory holds the
quantised codes (384 bytes a vector) rather than the float32 vectors, and the page cache holds
what searches touch. `benchmarks/scale.py` measured where each pays (see the README).

What this leaves out: which segments are live and which ids are tombstones (the records
database says; see `index.store`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# From this many vectors on, a segment is searched approximately: an exact scan grows linearly
# with the rows while the approximate search stays at a few milliseconds (benchmarks/scale.py).
APPROXIMATE_MIN_VECTORS = 100_000
# Lists probed, and candidates re-scored exactly per result wanted. Measured on 200 real SQuAD
# train questions against exact search (synthetic copies of real passage vectors, see
# benchmarks/scale.py): recall@10 0.953 / 0.975 / 0.988 / 0.997 with 32 / 64 / 128 / 256 lists
# probed at 100k vectors (1,264 lists), and 0.994 / 0.998 / 0.9995 with 128 / 256 / 512 at 1M
# (4,000 lists; 2.3 / 4.7 / 8.5 ms a search on one thread). More candidates than 2x changed nothing.
RESCORE_FACTOR = 4
NPROBE = 256
# A scope of up to this many rows of an approximate segment is scanned exactly (tens of
# milliseconds, like a segment below APPROXIMATE_MIN_VECTORS): probing the inverted lists with a
# narrow selector would find few allowed rows in the lists it visits and miss better ones elsewhere.
SCOPED_EXACT_MAX_ROWS = APPROXIMATE_MIN_VECTORS
EXACT_SCAN_CHUNK_ROWS = 16_384


def segment_paths(folder: Path, name: str) -> tuple[Path, Path, Path]:
    return folder / f"{name}.npy", folder / f"{name}.ids.npy", folder / f"{name}.ivf.faiss"


def write_segment(folder: Path, name: str, vectors: np.ndarray, ids: np.ndarray,
                  approximate_min: int = APPROXIMATE_MIN_VECTORS) -> None:
    """Write a segment's files durably (temporary name, fsync, rename); the caller commits it."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if len(vectors) != len(ids):
        raise ValueError(f"{len(vectors)} vectors for {len(ids)} ids")
    order = np.argsort(ids, kind="stable")
    vectors, ids = vectors[order], ids[order]
    folder.mkdir(parents=True, exist_ok=True)
    vec_path, ids_path, ivf_path = segment_paths(folder, name)
    _save_npy(vec_path, vectors)
    _save_npy(ids_path, ids)
    if len(ids) >= approximate_min:
        import faiss

        index = build_approximate(vectors, ids)
        tmp = ivf_path.with_name(ivf_path.name + f".tmp-{os.getpid()}")
        faiss.write_index(index, str(tmp))
        _fsync_file(tmp)
        os.replace(tmp, ivf_path)


def build_approximate(vectors: np.ndarray, ids: np.ndarray):
    """IVF with 8-bit scalar quantisation; about 4·sqrt(n) lists, trained on a sample."""
    import faiss

    n, dim = vectors.shape
    nlist = int(min(max(64, 4 * np.sqrt(n)), n // 39))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 10  # k-means iterations: the lists need to be balanced, not optimal
    rng = np.random.default_rng(0)
    sample = vectors[np.sort(rng.choice(n, size=min(n, 40 * nlist), replace=False))]
    index.train(np.ascontiguousarray(sample))
    for lo in range(0, n, 100_000):
        index.add_with_ids(vectors[lo:lo + 100_000], ids[lo:lo + 100_000])
    return index


def remove_segment(folder: Path, name: str) -> None:
    for path in segment_paths(folder, name):
        path.unlink(missing_ok=True)


@dataclass
class Segment:
    """One opened segment: its rows memory-mapped, and the index that searches them."""

    name: str
    ids: np.ndarray
    vectors: np.ndarray  # memory-mapped float32
    index: object  # faiss index returning passage ids

    @property
    def approximate(self) -> bool:
        return not hasattr(self.index, "id_map")

    @classmethod
    def open(cls, folder: Path, name: str) -> "Segment":
        import faiss

        vec_path, ids_path, ivf_path = segment_paths(folder, name)
        vectors = np.load(vec_path, mmap_mode="r")
        ids = np.load(ids_path)
        if ivf_path.exists():
            index = faiss.read_index(str(ivf_path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        else:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
            if len(ids):
                index.add_with_ids(np.ascontiguousarray(vectors), ids)
        return cls(name, ids, vectors, index)

    def search(self, query: np.ndarray, k: int, excluded: np.ndarray | None,
               allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the k nearest live rows, best first; scores are exact inner products.

        `allowed` (sorted ids, tombstones already taken out) limits the search to those rows."""
        import faiss

        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is not None:
            selector = faiss.IDSelectorBatch(allowed) if len(allowed) else None
            if selector is None:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            if self.approximate:
                rows = self._rows_of(allowed)
                if len(rows) <= SCOPED_EXACT_MAX_ROWS:
                    return self._exact(query[0], rows, k)
        else:
            selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(excluded)) \
                if excluded is not None and len(excluded) else None
        if not self.approximate:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
            scores, ids = self.index.search(query, min(k, len(self.ids)), params=params)
            keep = ids[0] >= 0
            return ids[0][keep], scores[0][keep]
        params = faiss.SearchParametersIVF(sel=selector, nprobe=NPROBE) if selector is not None \
            else faiss.SearchParametersIVF(nprobe=NPROBE)
        _, ids = self.index.search(query, k * RESCORE_FACTOR, params=params)
        ids = ids[0][ids[0] >= 0]
        rows = np.sort(np.searchsorted(self.ids, ids))  # ascending rows: sequential reads of the memory map
        exact = np.asarray(self.vectors[rows], dtype=np.float32) @ query[0]
        best = np.argsort(-exact, kind="stable")[:k]
        return self.ids[rows[best]], exact[best]

    def _rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Rows of this segment holding these ids (ascending; ids it does not hold are skipped)."""
        rows = np.searchsorted(self.ids, ids)
        inside = rows < len(self.ids)
        rows = rows[inside]
        return rows[self.ids[rows] == ids[inside]]

    def _exact(self, query: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best of these rows by exact inner product, read from the memory map in chunks."""
        if not len(rows):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = np.concatenate([np.asarray(self.vectors[rows[lo:lo + EXACT_SCAN_CHUNK_ROWS]], dtype=np.float32) @ query
                                 for lo in range(0, len(rows), EXACT_SCAN_CHUNK_ROWS)])
        ids = self.ids[rows]
        best = np.lexsort((ids, -scores))[:k]
        return ids[best], scores[best]


def search_segments(segments: list[Segment], query: np.ndarray, k: int,
                    excluded: np.ndarray | None, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k best (ids, scores) over all segments; ties go to the lower id (older passage).

    `allowed` (passage ids; None: all) limits the search to those passages."""
    import faiss

    if allowed is not None:
        allowed = np.unique(np.asarray(allowed, dtype=np.int64))
        if excluded is not None and len(excluded):
            allowed = allowed[~np.isin(allowed, excluded)]
        if not len(allowed):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    # One question is too little work to share between threads, and on a busy machine (a server
    # answering several users) OpenMP's threads wait on each other. The setting is the calling
    # thread's, and FAISS shares the OpenMP runtime with PyTorch: left at 1, every model the thread
    # runs afterwards (the reader) would run on one core. So it holds for the search only.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    all_ids, all_scores = [], []
    try:
        for segment in segments:
            ids, scores = segment.search(query, k, excluded, allowed)
            all_ids.append(ids)
            all_scores.append(scores)
    finally:
        faiss.omp_set_num_threads(threads)
    if not all_ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    ids, scores = np.concatenate(all_ids), np.concatenate(all_scores)
    order = np.lexsort((ids, -scores))[:k]
    return ids[order].astype(np.int64), scores[order].astype(np.float32)


def _save_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        np.save(f, array)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())
