"""Where the project keeps what it makes once and reuses: converted models, the bundled article's
index, evaluation corpora.

`NEWSQA_CACHE` names the folder; otherwise it is `newsqa` under the user's cache folder
(`XDG_CACHE_HOME`, else ~/.cache). Only the edges read the environment (`qa.settings.Settings`
and a component built without one); Ray workers get the folder as an argument.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "NEWSQA_CACHE"


def default_cache_dir() -> Path:
    """The cache folder when NEWSQA_CACHE is not set."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsqa"


def cache_dir_from_env() -> Path:
    """The cache folder the environment names (NEWSQA_CACHE), else the default."""
    chosen = os.environ.get(CACHE_ENV)
    return Path(chosen) if chosen else default_cache_dir()
