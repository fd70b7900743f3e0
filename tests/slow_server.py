"""A real server over the fast assistant whose reading and embedding take time, run as its own
process (`python tests/slow_server.py FOLDER PORT`), stopped by signals in tests/test_server_stop.py.

The delays stand in for a large model on a busy CPU, so that a signal can arrive while
answers and writes are in flight.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

READ_S = 1.5  # per batch of questions
EMBED_S = 0.5  # per call to the embedder


class SlowReader:
    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def read(self, question, passages):
        time.sleep(READ_S)
        return self.inner.read(question, passages)

    def read_many(self, items):
        time.sleep(READ_S)
        return self.inner.read_many(items)


class SlowEmbedder:
    def __init__(self, inner):
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed(self, texts, progress=False):
        time.sleep(EMBED_S)
        return self.inner.embed(texts, progress)


def main(folder: Path, port: int) -> None:
    from fakes import HashEmbedder, KeywordReader
    from qa import Assistant, Settings
    from ui.app import build_app, serve_app
    from ui_support import KEYWORD_ANSWERS, copy_bundled

    index_dir = folder / "index"
    settings = Settings(index_dir=index_dir, cache_dir=folder / "cache")
    embedder, reader = SlowEmbedder(HashEmbedder()), SlowReader(KeywordReader(KEYWORD_ANSWERS))
    if (index_dir / "index.sqlite").exists():
        assistant = Assistant.load(index_dir, settings, embedder=embedder, reader=reader)
    else:
        assistant = Assistant.build([copy_bundled(folder / "articles")], index_dir, settings,
                                    embedder=embedder, reader=reader)
    serve_app(build_app(assistant), "127.0.0.1", port)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
