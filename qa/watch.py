"""Polling feeds into a collection: what `qa index watch` and `qa serve --watch` share.

Each poll is `Collection.add_new(feeds)`: entries already indexed (by canonical URL or by their
words) are skipped without being fetched again, and the write goes through the collection's lock,
the one every other write of the collection (an upload, a delete) takes, so a poll never runs
beside another write. A poll that fails is logged and the next one runs on time.
What this leaves out: reading feeds (`index.sources`), the command line and the server.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.errors import QAError

log = logging.getLogger(__name__)


def parse_interval(text: str) -> float:
    """Seconds in "90", "30s", "15m", "2h" or "1d"; QAError otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not match or float(match.group(1)) <= 0:
        raise QAError(f"--every takes a duration such as 30s, 15m or 2h, not {text!r}")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


@dataclass(frozen=True)
class Poll:
    added: int
    copies: int  # of the added, copies of a story already indexed (linked to its first version)
    failed: list[tuple[str, str]]  # (entry or feed, reason)


class FeedWatcher:
    def __init__(self, collection, feeds: Sequence[str], every_s: float):
        self.collection, self.feeds, self.every_s = collection, list(feeds), every_s
        self.stopped = threading.Event()

    def poll_once(self) -> Poll:
        added = self.collection.add_new(self.feeds)
        report, result = self.collection.last_load_report, self.collection.last_add_result
        return Poll(len(added), len(result.copies) if result else 0, list(report.skipped) if report else [])

    def run(self, on_poll: Callable[[Poll], None] | None = None) -> None:
        """Poll until `stop()`; a failed poll is logged, never the end of the watch."""
        while not self.stopped.is_set():
            try:
                poll = self.poll_once()
                if on_poll is not None:
                    on_poll(poll)
            except QAError as e:
                log.warning("polling %s failed: %s", ", ".join(self.feeds), e)
            except Exception:
                log.exception("polling %s failed", ", ".join(self.feeds))
            self.stopped.wait(self.every_s)

    def start(self) -> threading.Thread:
        """Poll in a background thread (a server's); returns it."""
        thread = threading.Thread(target=self.run, name="feed-watcher", daemon=True,
                                  kwargs={"on_poll": lambda p: log.info("feeds: added %d article(s)", p.added)})
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopped.set()
