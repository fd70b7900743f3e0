"""A write embeds outside the lock that questions need: questions asked during a long write are
answered in about their usual time, not after it (benchmarks/write_stall.py measures the
figures with the shipped reader)."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from fakes import HashEmbedder, KeywordReader
from ui_support import BUNDLED, KEYWORD_ANSWERS

pytestmark = pytest.mark.slow  # the packaged embedder embeds 1,500 articles


def articles(n: int):
    from index.ids import article_id
    from qa.types import Article

    for i in range(n):
        title = f"Council meeting {i}"
        text = f"The council met on day {i} to discuss road number {i % 97} and {i % 7 + 2} new bus stops."
        yield Article(article_id(title, text), title, f"https://town.example/news/{i}", None, text)


def test_questions_are_answered_while_a_long_write_embeds(tmp_path, real_embedder):
    from qa import Assistant, Settings
    from qa.write_embedder import embedder_for_writes

    index = tmp_path / "index"
    assistant = Assistant.build([BUNDLED], index, Settings(index_dir=index, cache_dir=tmp_path / "c"),
                                embedder=real_embedder, reader=KeywordReader(KEYWORD_ANSWERS))
    # the write's embedder is a copy of the packaged one: the same vectors, its own tokenizer
    copy = embedder_for_writes(real_embedder, assistant.collection.lock)
    assert copy.name == real_embedder.name and copy is embedder_for_writes(real_embedder, assistant.collection.lock)

    def ask() -> float:
        started = time.perf_counter()
        assert assistant.ask("Where will the UN talks resume?").answer == "Geneva"
        return time.perf_counter() - started

    idle = [ask() for _ in range(5)]
    done = threading.Event()
    took = {}

    def write():
        started = time.perf_counter()
        took["added"] = len(assistant.collection.add(list(articles(1500))))
        took["s"] = time.perf_counter() - started
        done.set()

    threading.Thread(target=write).start()
    time.sleep(0.5)
    during = []
    while not done.is_set():
        during.append(ask())
    done.wait()
    assert took["added"] == 1500
    # before, the write held the lock for its whole embedding: one question waited for all of it
    assert len(during) >= 5, (took, during)
    assert max(during) < took["s"] / 3, (took, during)
    assert statistics.median(during) < max(1.0, 10 * statistics.median(idle)), (idle, during)


def test_an_embedder_that_cannot_be_copied_embeds_under_the_lock_only_while_it_embeds(tmp_path):
    from qa import Collection, Settings
    from qa.write_embedder import embedder_for_writes

    embedder = HashEmbedder()
    collection = Collection.build([BUNDLED], tmp_path / "i", Settings(index_dir=tmp_path / "i"), embedder=embedder)
    shared = embedder_for_writes(embedder, collection.lock)
    held = []

    class Watching(HashEmbedder):
        def embed(self, texts, progress=False):
            held.append(collection.lock._is_owned())
            return super().embed(texts, progress)

    watched = Watching()
    wrapped = embedder_for_writes(watched, collection.lock)
    wrapped.embed(["a text"])
    assert held == [True] and shared.name == embedder.name
    assert not collection.lock._is_owned()
