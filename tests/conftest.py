"""Shared fixtures. Tests never touch the network: model hubs are switched off for the whole run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "qa" / "data" / "putin-hosts-assad-in-sochi.txt"
SHIPPED_READER = ROOT / "qa" / "reader" / "weights"
SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own cache folder (the bundled index is built there on first use)."""
    monkeypatch.setenv("NEWSQA_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def real_embedder(tmp_path_factory):
    from index.embed import SentenceEmbedder

    # the session's cache folder, where NEWSQA_CACHE points in each test: the int8 conversion
    # runs once per session, never into the user's own cache
    embedder = SentenceEmbedder(cache_dir=tmp_path_factory.getbasetemp() / "cache" / "embedder")
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def shipped_reader():
    # the weights are part of the package: missing weights are a broken checkout, not a skip
    assert (SHIPPED_READER / "model.safetensors").exists(), "qa/reader/weights/model.safetensors is missing"
    from qa.reader.transformers_reader import TransformersReader

    reader = TransformersReader(SHIPPED_READER)
    reader.warm_up()
    return reader


@pytest.fixture(scope="session")
def bundled_assistant(tmp_path_factory, real_embedder, shipped_reader):
    """The real assistant over the bundled article (real embedder, real shipped reader, real index on disk)."""
    from qa import Assistant, Settings

    folder = tmp_path_factory.mktemp("bundled") / "index"
    return Assistant.build([BUNDLED], folder, Settings(index_dir=folder), embedder=real_embedder,
                           reader=shipped_reader)


@pytest.fixture
def bundled_copy(tmp_path) -> Path:
    target = tmp_path / "article.txt"
    shutil.copy(BUNDLED, target)
    return target
