"""The reader registry: the readers a user chooses by name (`Settings.reader`, `qa ask --reader`, NEWSQA_READER), behind one interface.

- "mpnet": the default, a reader trained on all-mpnet-base-v2 by `python -m qa.reader.training.train --base mpnet`;
  its folder holds only what training changed, and the base comes from its five packages;
- "minilm": MiniLM-L6 fine-tuned by `python -m qa.reader.training.train`, the faster option.

Both are `TransformersReader`s; only the folder differs, and the folder's reader_config.json says
how to build the model (`qa.reader.delta`). Choosing a reader whose weights are not there is a
one-line error that names the command that trains them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa.errors import ReaderError
from qa.reader.precision import check_precision
from qa.reader.transformers_reader import READER_CONFIG, RUNNERS, TransformersReader
from qa.settings import MPNET_READER, SHIPPED_READER, Settings


@dataclass(frozen=True)
class ReaderChoice:
    folder: Path
    description: str
    train_command: str


READERS = {
    "minilm": ReaderChoice(SHIPPED_READER, "the shipped MiniLM-L6 reader",
                           f"python -m qa.reader.training.train --out {SHIPPED_READER}"),
    "mpnet": ReaderChoice(MPNET_READER, "an MPNet-base reader",
                          f"python -m qa.reader.training.train --base mpnet --out {MPNET_READER}"),
}


def reader_folder(settings: Settings) -> str:
    """The model folder (or hub name) the settings choose."""
    if settings.reader_model is not None:
        return settings.reader_model
    choice = READERS.get(settings.reader)
    if choice is None:
        raise ReaderError(f"unknown reader {settings.reader!r}; choose one of {', '.join(READERS)}")
    return str(choice.folder)


def make_reader(settings: Settings) -> TransformersReader:
    """The reader `settings` name, not loaded yet (the first question or `warm_up` loads it).

    A named reader whose weights are absent fails here, before an index is opened or built for it.
    """
    folder = reader_folder(settings)
    choice = READERS.get(settings.reader) if settings.reader_model is None else None
    if choice is not None and not (choice.folder / READER_CONFIG).is_file():
        raise ReaderError(f"{choice.description} is not installed (no trained weights in {choice.folder}); "
                          f"train it: {choice.train_command}")
    if settings.reader_precision is not None:
        try:
            check_precision(settings.reader_precision)
        except ValueError as e:  # a bad setting fails here, before an index is opened, as a one-line error
            raise ReaderError(str(e)) from e
    runner = RUNNERS[settings.reader_backend](cache_dir=settings.cache_dir, precision=settings.reader_precision)
    return TransformersReader(folder, runner=runner)
