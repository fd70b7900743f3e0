"""Where tests find the shared evaluation data (../shared/data), and what they do when it is absent.

A user's clone has no ../shared, so tests that need it skip with the reason; CI sets
NEWSQA_REQUIRE_SHARED=1, which turns that skip into a failure, since there a missing file means a
broken path, not a missing checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA_DIR = (Path(__file__).parents[1] / ".." / "shared" / "data").resolve()
REQUIRE_SHARED_ENV = "NEWSQA_REQUIRE_SHARED"


def shared_data_path(*parts: str) -> Path:
    """The path under ../shared/data; skips the calling test (or fails it in CI) when it does not exist."""
    path = SHARED_DATA_DIR.joinpath(*parts)
    if path.exists():
        return path
    reason = f"needs the shared evaluation data: {path} does not exist (a plain clone has no ../shared/data)"
    if os.environ.get(REQUIRE_SHARED_ENV) == "1":
        pytest.fail(f"{reason}; failing instead of skipping because {REQUIRE_SHARED_ENV}=1", pytrace=False)
    pytest.skip(reason)
