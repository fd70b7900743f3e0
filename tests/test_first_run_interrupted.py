"""A first run interrupted at any moment is followed by a run that answers.

The bundled article's index is built on first use. A first `qa ask` stopped while it builds it
(Ctrl-C, kill -9) must never leave an index that later runs use empty: the build happens aside
and is moved into place whole, and an index without its completion record is rebuilt. These
tests kill the real CLI on a fresh cache at several moments (a set time after start, or as soon
as the index's database appears), then ask again and expect the quoted answer.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.store import BUILDING, IndexStore
from qa import Assistant, Collection, Settings

from fakes import HashEmbedder, KeywordReader

QA = Path(sys.executable).parent / "qa"
QUESTION = "Where will the UN talks resume?"
ANSWER = "Geneva"


def ask(env: dict) -> dict:
    proc = subprocess.run([str(QA), "ask", QUESTION, "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def index_being_built(cache: Path) -> bool:
    # the index's database, wherever the run builds it (aside, or in place)
    return any(cache.glob("*bundled-index-*/index.sqlite"))


def interrupt(env: dict, cache: Path, sig: signal.Signals, when: str, delay_s: float) -> None:
    """Start `qa ask` and send `sig` `delay_s` after it starts (when="start") or after the index's
    database appears (when="index"); a run that finishes first is not interrupted."""
    proc = subprocess.Popen([str(QA), "ask", QUESTION, "--json"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        if when == "index":
            while not index_being_built(cache) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
        time.sleep(delay_s)
        if proc.poll() is None:
            proc.send_signal(sig)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.skipif(not QA.exists(), reason="the qa console script is not installed (pip install -e .)")
@pytest.mark.parametrize("sig, when, delay_s, converted_embedder", [
    (signal.SIGINT, "start", 3.0, False),  # Ctrl-C in the first seconds, on a wholly fresh cache
    (signal.SIGKILL, "index", 0.0, True),  # the moment the index exists, before any article is in it
    (signal.SIGKILL, "index", 0.4, True),  # while the article is split, embedded and committed
    (signal.SIGINT, "index", 0.2, True),
])
def test_a_run_after_an_interrupted_first_run_answers(tmp_path, real_embedder, sig, when, delay_s, converted_embedder):
    cache = tmp_path / "cache"
    if converted_embedder:  # a cache that has the int8 embedder but no index: the build starts at once
        shutil.copytree(real_embedder.onnx_path.parent, cache / "embedder")
    env = dict(os.environ, HF_HUB_OFFLINE="1", NEWSQA_CACHE=str(cache))
    env.pop("NEWSQA_INDEX", None)
    interrupt(env, cache, sig, when, delay_s)
    result = ask(env)
    assert result["found"] and result["answer"] == ANSWER
    assert result["context"][result["context_start"]:result["context_end"]] == ANSWER
    assert not list(cache.glob(".bundled-index-*.aside-*"))  # nothing half-built is left behind


def test_an_index_without_its_completion_record_is_rebuilt_not_used_empty(tmp_path):
    settings = Settings(cache_dir=tmp_path / "cache")
    folder = settings.bundled_index_dir
    # what an interrupted first run used to leave: the bundled index, created, never filled
    empty = IndexStore.create(folder, HashEmbedder.name, HashEmbedder.dim)
    empty.set_build_state(BUILDING)
    empty.close()
    assistant = Assistant(settings, embedder=HashEmbedder(), reader=KeywordReader({"UN talks": ANSWER}))
    assert assistant.ask(QUESTION).answer == ANSWER
    assert assistant.store.counts()[0] == 1 and assistant.store.build_state() == "complete"
    # an index from before builds recorded their completion is rebuilt once, then used as it is
    legacy = tmp_path / "legacy"
    IndexStore.create(legacy / folder.name, HashEmbedder.name, HashEmbedder.dim).close()
    rebuilt = Collection(Settings(cache_dir=legacy), HashEmbedder()).describe()
    assert rebuilt["article_count"] == 1 and rebuilt["build"] == "complete"
    assert Collection(Settings(cache_dir=legacy), HashEmbedder()).describe() == rebuilt  # used, not rebuilt


def test_a_user_index_whose_build_was_interrupted_opens_with_a_warning(tmp_path, caplog):
    folder = tmp_path / "idx"
    store = IndexStore.create(folder, HashEmbedder.name, HashEmbedder.dim)
    store.set_build_state(BUILDING)
    store.close()
    with caplog.at_level("WARNING"):
        Collection.open(folder, Settings(index_dir=folder), HashEmbedder())
    assert "did not finish" in caplog.text and "qa index build" in caplog.text
