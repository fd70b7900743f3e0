"""Open the assistant a run asks: a given index, the bundled article's, or a cached index of a SQuAD file.

A SQuAD file's corpus is every paragraph of the file. It is indexed once and kept under the
settings' cache folder, keyed by the file's sha256, so later runs on the same file start at once.
Opening or rebuilding it follows the collection's one policy (`qa.Collection.cached`): an index
whose build did not complete, or that no longer loads (format or embedder changed), is resumed or
rebuilt, since it is ours. What this leaves out: everything about asking and scoring.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from eval.gold_questions import GoldSet
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


def open_assistant(gold_set: GoldSet, index_dir: Path | None, settings: Settings, progress: bool = True, *,
                   embedder=None, reader=None):
    """`embedder` and `reader` go to the Assistant unchanged: tests pass stand-in models."""
    # the reader and embedder stack: only paid for by `run`, not `score`
    from qa import Assistant, Collection
    from qa.reader.registry import make_reader

    if index_dir is not None:
        return Assistant.load(index_dir, settings, embedder=embedder, reader=reader)
    if gold_set.kind == "squad":
        corpus_dir = squad_corpus_dir(gold_set, settings)
        corpus_dir.parent.mkdir(parents=True, exist_ok=True)
        log.info("the corpus of %s: %d articles, cached in %s", gold_set.path, len(gold_set.articles), corpus_dir)
        reader = reader if reader is not None else make_reader(settings)  # a missing reader fails before indexing
        collection = Collection.cached(list(gold_set.articles), corpus_dir, settings, embedder, progress)
        return Assistant(reader=reader, collection=collection)
    # the gold file is about the bundled article, whatever index NEWSQA_INDEX points at
    return Assistant.load(None, dataclasses.replace(settings, index_dir=None), embedder=embedder, reader=reader)
