"""Two readers behind one interface: the setting, the environment and `qa ask --reader` choose; MPNet is the default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.errors import ReaderError
from qa.reader import registry
from qa.reader.transformers_reader import TransformersReader
from qa.settings import MPNET_READER, READER_NAMES, SHIPPED_READER, Settings

QA = Path(sys.executable).parent / "qa"


def test_mpnet_is_the_default_reader_and_minilm_the_fast_option():
    settings = Settings()
    assert settings.reader == "mpnet" and settings.reader_model is None
    assert registry.reader_folder(settings) == str(MPNET_READER)
    assert registry.reader_folder(settings.with_overrides(reader="minilm")) == str(SHIPPED_READER)
    reader = registry.make_reader(settings)
    assert isinstance(reader, TransformersReader) and reader.model_name_or_path == str(MPNET_READER)
    assert reader.runner.cache_dir == settings.cache_dir  # where a packaged base would be unpacked
    assert set(registry.READERS) == set(READER_NAMES)


def test_the_environment_names_a_reader_or_a_model_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSQA_READER", "mpnet")
    assert (Settings.from_env().reader, Settings.from_env().reader_model) == ("mpnet", None)
    monkeypatch.setenv("NEWSQA_READER", str(tmp_path))
    settings = Settings.from_env()
    assert (settings.reader, settings.reader_model) == ("mpnet", str(tmp_path))
    assert registry.reader_folder(settings) == str(tmp_path)


def _without_mpnet_weights(monkeypatch, tmp_path):
    """The mpnet choice pointed at an empty folder: an install whose MPNet reader is missing."""
    missing = tmp_path / "weights-mpnet"
    choice = registry.READERS["mpnet"]
    monkeypatch.setitem(registry.READERS, "mpnet", registry.ReaderChoice(missing, choice.description,
                                                                        choice.train_command))


def test_choosing_mpnet_without_its_weights_names_the_command_that_trains_it(monkeypatch, tmp_path):
    _without_mpnet_weights(monkeypatch, tmp_path)
    with pytest.raises(ReaderError) as caught:
        registry.make_reader(Settings(reader="mpnet"))
    message = str(caught.value)
    assert "\n" not in message and "python -m qa.reader.training.train --base mpnet" in message


def test_an_unknown_reader_is_a_one_line_error():
    with pytest.raises(ReaderError, match="unknown reader 'bert'; choose one of minilm, mpnet"):
        registry.make_reader(Settings(reader="bert"))


def test_a_trained_mpnet_folder_is_what_mpnet_chooses(monkeypatch, tmp_path):
    folder = tmp_path / "weights-mpnet"
    folder.mkdir()
    (folder / "reader_config.json").write_text("{}")
    monkeypatch.setitem(registry.READERS, "mpnet", registry.ReaderChoice(folder, "an MPNet-base reader", "train it"))
    reader = registry.make_reader(Settings(reader="mpnet"))
    assert reader.model_name_or_path == str(folder)


def test_the_shipped_mpnet_reader_is_installed():
    config = json.loads((MPNET_READER / "reader_config.json").read_text())
    assert config["base"]["name"] == "all-mpnet-base-v2" and config["delta"]["kind"] in ("lora", "q4-delta")
    assert (MPNET_READER / "MODEL_CARD.md").exists()


@pytest.mark.skipif(not QA.exists(), reason="the qa console script is not installed (pip install -e .)")
def test_qa_ask_with_an_unknown_reader_is_one_line(tmp_path):
    proc = subprocess.run([str(QA), "ask", "Who hosted Assad?", "--reader", "bert"], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "NEWSQA_CACHE": str(tmp_path)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "unknown reader 'bert'" in errors[0], proc.stderr
    assert not any(tmp_path.iterdir())  # it failed before building the bundled index
