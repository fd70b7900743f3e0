"""The on-disk index: articles, passages, FAISS vectors and BM25, saved as one versioned folder.

Layout of an index folder:
    manifest.json      format version, embedder name and dimension, metric, counts, file checksums
    articles.jsonl     one Article per line (the cleaned text every offset points into)
    passages.jsonl     one passage per line: article_id, index, start, end (text is derived)
    vectors.faiss      IndexFlatIP over L2-normalised vectors, row i = passage i
    bm25/              bm25s files

Saving writes a sibling temporary folder and swaps it in with renames, under a lock file, so
a crash (even kill -9) leaves the previous index or the new one, never half of each. Loading
verifies the format version, the embedder and every file's checksum, and says how to rebuild.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from index.embed import Embedder
from index.sparse import SparseIndex
from index.split import split_article
from index.types import Article, Passage
from index.errors import EmbedderMismatchError, IndexFormatError, IndexNotFoundError

FORMAT_VERSION = 1
METRIC = "inner_product"
_DATA_FILES = ("articles.jsonl", "passages.jsonl", "vectors.faiss")


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("newsqa")
    except Exception:  # not installed as a distribution (running from a source tree)
        return "0+source"


def rebuild_hint(folder: Path) -> str:
    return f"rebuild it with: qa index build PATH... --index {folder}"


class PassageIndex:
    """Articles, their passages, and the dense and sparse indexes over the passages, in memory."""

    def __init__(self, embedder_name: str, dim: int, articles: list[Article], passages: list[Passage],
                 vectors, sparse: SparseIndex | None, created_at: str):
        self.embedder_name = embedder_name
        self.dim = dim
        self.articles = {a.id: a for a in articles}
        self.passages = passages
        self.vectors = vectors  # faiss.IndexFlatIP
        self.sparse = sparse
        self.created_at = created_at
        self._by_article: dict[str, list[Passage]] = {}
        for p in passages:
            self._by_article.setdefault(p.article_id, []).append(p)

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def empty(cls, embedder: Embedder) -> "PassageIndex":
        import faiss

        return cls(embedder.name, embedder.dim, [], [], faiss.IndexFlatIP(embedder.dim), None,
                   datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def add_articles(self, articles: list[Article], embedder: Embedder, progress: bool = False) -> list[Article]:
        """Add the articles not already indexed (by id); returns those added."""
        new, seen = [], set(self.articles)
        for article in articles:
            if article.id not in seen:
                seen.add(article.id)
                new.append(article)
        passages = [p for article in new for p in split_article(article)]
        if passages:
            vectors = embedder.embed([p.text for p in passages], progress=progress)
            self.vectors.add(vectors)
        for article in new:
            self.articles[article.id] = article
        for p in passages:
            self._by_article.setdefault(p.article_id, []).append(p)
        self.passages.extend(passages)
        if new:
            self.sparse = SparseIndex.build([p.text for p in self.passages])
        return new

    def passages_of(self, article_id: str) -> list[Passage]:
        return list(self._by_article.get(article_id, []))

    # ---- searching ------------------------------------------------------------------------
    def dense_search(self, query_vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self.passages))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self.vectors.search(query_vector.reshape(1, -1).astype(np.float32), k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def sparse_search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.sparse is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return self.sparse.search(query, k)

    # ---- saving ---------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the whole index to `folder` atomically (temporary sibling folder, then rename)."""
        import faiss

        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        with open(tmp / "articles.jsonl", "w", encoding="utf-8") as f:
            for article in self.articles.values():
                f.write(json.dumps(asdict(article), ensure_ascii=False) + "\n")
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as f:
            for p in self.passages:
                f.write(json.dumps({"article_id": p.article_id, "index": p.index, "start": p.start, "end": p.end}) + "\n")
        faiss.write_index(self.vectors, str(tmp / "vectors.faiss"))
        if self.sparse is not None:
            self.sparse.save(tmp / "bm25")
        manifest = {
            "format_version": FORMAT_VERSION,
            "embedding_model": self.embedder_name,
            "embedding_dim": self.dim,
            "metric": METRIC,
            "article_count": len(self.articles),
            "passage_count": len(self.passages),
            "created_at": self.created_at,
            "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "package_version": _package_version(),
            "checksums": _checksums(tmp),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        _fsync_tree(tmp)
        _swap_in(tmp, folder)

    # ---- loading --------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: Path, embedder_name: str) -> "PassageIndex":
        import faiss

        folder = Path(folder)
        _recover_interrupted_swap(folder)
        if not folder.is_dir():
            raise IndexNotFoundError(f"no index at {folder}; build one with: qa index build PATH... --index {folder}")
        manifest_path = folder / "manifest.json"
        if not manifest_path.exists():
            raise IndexFormatError(f"{folder} is not an index (no manifest.json); {rebuild_hint(folder)}")
        try:
            manifest = json.loads(manifest_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise IndexFormatError(f"{folder}/manifest.json is corrupted; {rebuild_hint(folder)}") from e
        if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
            version = manifest.get("format_version") if isinstance(manifest, dict) else None
            raise IndexFormatError(f"{folder} has index format {version!r}, this version reads {FORMAT_VERSION}; "
                                   f"{rebuild_hint(folder)}")
        if manifest.get("embedding_model") != embedder_name:
            raise EmbedderMismatchError(
                f"{folder} was built with the embedder {manifest.get('embedding_model')!r}, "
                f"but {embedder_name!r} is configured; {rebuild_hint(folder)}")
        expected = manifest.get("checksums")
        if not isinstance(expected, dict) or _checksums(folder) != expected:
            raise IndexFormatError(f"{folder} is corrupted (its files do not match the manifest's checksums); "
                                   f"{rebuild_hint(folder)}")
        try:
            articles = [Article(**json.loads(line)) for line in (folder / "articles.jsonl").open(encoding="utf-8")]
            by_id = {a.id: a for a in articles}
            passages = []
            for line in (folder / "passages.jsonl").open(encoding="utf-8"):
                row = json.loads(line)
                text = by_id[row["article_id"]].text[row["start"]:row["end"]]
                passages.append(Passage(row["article_id"], row["index"], row["start"], row["end"], text))
            vectors = faiss.read_index(str(folder / "vectors.faiss"))
            sparse = SparseIndex.load(folder / "bm25") if (folder / "bm25").is_dir() else None
        except (OSError, KeyError, TypeError, ValueError, RuntimeError) as e:
            raise IndexFormatError(f"{folder} cannot be read ({e}); {rebuild_hint(folder)}") from e
        if vectors.ntotal != len(passages) or vectors.d != manifest.get("embedding_dim") or \
                manifest.get("passage_count") != len(passages):
            raise IndexFormatError(f"{folder} is inconsistent ({vectors.ntotal} vectors, {len(passages)} passages); "
                                   f"{rebuild_hint(folder)}")
        return cls(manifest["embedding_model"], vectors.d, articles, passages, vectors, sparse,
                   manifest.get("created_at", ""))


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / "manifest.json"
    if not path.exists():
        raise IndexNotFoundError(f"no index at {folder}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise IndexFormatError(f"{folder}/manifest.json is corrupted; {rebuild_hint(Path(folder))}") from e


@contextlib.contextmanager
def write_lock(folder: Path):
    """One writer at a time per index folder (readers never wait: they see whole snapshots)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(f".{folder.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _checksums(folder: Path) -> dict[str, str]:
    sums = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "manifest.json":
            sums[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def _backup_of(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.previous")


def _swap_in(tmp: Path, folder: Path) -> None:
    backup = _backup_of(folder)
    shutil.rmtree(backup, ignore_errors=True)
    if folder.exists():
        if not (folder / "manifest.json").exists() and any(folder.iterdir()):
            shutil.rmtree(tmp, ignore_errors=True)
            raise IndexFormatError(f"{folder} exists and is not an index; refusing to replace it")
        os.rename(folder, backup)
    os.rename(tmp, folder)
    shutil.rmtree(backup, ignore_errors=True)


def _recover_interrupted_swap(folder: Path, wait_s: float = 2.0) -> None:
    """Between the two renames of a save the folder is briefly missing: wait, then restore the backup."""
    backup = _backup_of(folder)
    deadline = time.monotonic() + wait_s
    while not folder.exists() and backup.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not folder.exists() and backup.exists():
        with write_lock(folder):
            if not folder.exists() and backup.exists():
                os.rename(backup, folder)
