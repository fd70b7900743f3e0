"""Open the assistant a run asks: a given index, the bundled article's, or a cached index of a SQuAD file.

A SQuAD file's corpus is every paragraph of the file. It is indexed once and kept under the
settings' cache folder, keyed by the file's sha256, so later runs on the same file start at once;
a cached index that no longer loads (format or embedder changed) is rebuilt, since it is ours to
replace. What this leaves out: everything about asking and scoring.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from eval.gold_questions import GoldSet
from qa.errors import EmbedderMismatchError, IndexFormatError
from qa.settings import Settings

log = logging.getLogger(__name__)


def squad_corpus_dir(gold_set: GoldSet, settings: Settings) -> Path:
    return settings.cache_dir / "eval-corpora" / f"{gold_set.path.stem}-{gold_set.sha256[:16]}"


def describe_corpus(gold_set: GoldSet, index_dir: Path | None, settings: Settings) -> str:
    if index_dir is not None:
        return str(index_dir)
    if gold_set.kind == "squad":
        return f"every paragraph of the SQuAD file (cached in {squad_corpus_dir(gold_set, settings)})"
    return "the bundled article"


def open_assistant(gold_set: GoldSet, index_dir: Path | None, settings: Settings, progress: bool = True, **parts):
    """`parts` (embedder=, reader=) go to the Assistant unchanged: tests pass stand-in models."""
    from qa import Assistant  # the reader and embedder stack: only paid for by `run`, not `score`

    if index_dir is not None:
        return Assistant.load(index_dir, settings, **parts)
    if gold_set.kind == "squad":
        return _open_squad_corpus(Assistant, gold_set, settings, progress, parts)
    # the gold file is about the bundled article, whatever index NEWSQA_INDEX points at
    return Assistant.load(None, dataclasses.replace(settings, index_dir=None), **parts)


def _open_squad_corpus(assistant_class, gold_set: GoldSet, settings: Settings, progress: bool, parts: dict):
    corpus_dir = squad_corpus_dir(gold_set, settings)
    if (corpus_dir / "index.sqlite").exists():
        try:
            return assistant_class.load(corpus_dir, settings, **parts)
        except (IndexFormatError, EmbedderMismatchError) as e:
            log.warning("rebuilding the cached corpus index %s: %s", corpus_dir, e)
    corpus_dir.parent.mkdir(parents=True, exist_ok=True)
    log.info("indexing %d articles of %s into %s", len(gold_set.articles), gold_set.path, corpus_dir)
    # build makes the folder hold exactly these articles: a half-built cache continues where it stopped
    return assistant_class.build(list(gold_set.articles), corpus_dir, settings, progress=progress, **parts)
