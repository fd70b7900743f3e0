"""Upgrade an index folder of format 1 (JSON lines + one FAISS file + bm25s) to today's format.

Format 1 kept `manifest.json`, `articles.jsonl`, `passages.jsonl` (offsets) and `vectors.faiss`
(row i = passage i). The upgrade reuses its vectors, so nothing is embedded again: it writes a
format-2 index in a sibling folder, then swaps the folders with two renames under the write
lock, keeping the old one as `.NAME.format1` until the new one is in place.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from index.errors import EmbedderMismatchError, IndexFormatError, IndexNotFoundError
from index.store import IndexStore, is_index, write_lock
from index.types import Article, Passage


def read_format1(folder: Path) -> tuple[dict, list[Article], list[Passage], np.ndarray]:
    import faiss

    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise IndexNotFoundError(f"no index of format 1 at {folder} (no manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format_version") != 1:
            raise IndexFormatError(f"{folder} has format {manifest.get('format_version')!r}, not 1")
        articles = [Article(**json.loads(line)) for line in (folder / "articles.jsonl").open(encoding="utf-8")]
        by_id = {a.id: a for a in articles}
        passages = []
        for line in (folder / "passages.jsonl").open(encoding="utf-8"):
            row = json.loads(line)
            text = by_id[row["article_id"]].text[row["start"]:row["end"]]
            passages.append(Passage(row["article_id"], row["index"], row["start"], row["end"], text))
        index = faiss.read_index(str(folder / "vectors.faiss"))
        vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
    except (OSError, KeyError, TypeError, ValueError, RuntimeError, json.JSONDecodeError) as e:
        raise IndexFormatError(f"{folder} cannot be read as a format-1 index ({e}); rebuild it with: "
                               f"qa index build PATH... --index {folder}") from e
    if len(vectors) != len(passages):
        raise IndexFormatError(f"{folder} is inconsistent ({len(vectors)} vectors, {len(passages)} passages)")
    return manifest, articles, passages, vectors


def upgrade_format1(folder: Path, embedder_name: str) -> IndexStore:
    folder = Path(folder)
    if is_index(folder):
        return IndexStore.open(folder, embedder_name)  # already upgraded
    manifest, articles, passages, vectors = read_format1(folder)
    if manifest.get("embedding_model") != embedder_name:
        raise EmbedderMismatchError(f"{folder} was built with {manifest.get('embedding_model')!r}, but "
                                    f"{embedder_name!r} is configured; rebuild it instead",
                                    stored=manifest.get("embedding_model"))
    for stale in folder.parent.glob(f".{folder.name}.upgrade-*"):  # left by an upgrade that was killed
        if not _alive(stale.name.rsplit("-", 1)[-1]):
            shutil.rmtree(stale, ignore_errors=True)
    staging = folder.with_name(f".{folder.name}.upgrade-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    store = IndexStore.create(staging, embedder_name, int(manifest["embedding_dim"]))
    store.add_embedded(articles, passages, vectors)
    store.close()
    old = folder.with_name(f".{folder.name}.format1")
    with write_lock(folder):
        shutil.rmtree(old, ignore_errors=True)
        os.rename(folder, old)
        os.rename(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    return IndexStore.open(folder, embedder_name)


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
        return True
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
