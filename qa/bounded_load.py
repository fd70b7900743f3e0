"""Reading uploaded files with a CPU-time limit per file, in a worker process.

Some files cost far more to parse than their size suggests: a 4.8 MB HTML page of tiny
paragraphs took 78.5 s of CPU, during which a server's upload slot was taken. A `FileParser`
reads each file in a worker process whose CPU time for that file is capped with `RLIMIT_CPU`
(the kernel stops the worker past it, however the parser is stuck); the file is then skipped
with a reason, and the next file gets a fresh worker. The worker is started with `spawn`, never
forked from a server whose threads hold locks. What this leaves out: what a file holds
(`index.load`), and indexing what was read (`qa.collection`).
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from index.load import LoadReport

DEFAULT_PARSE_CPU_S = 20


def _load_capped(path: str, cpu_s: int) -> LoadReport:
    from index.load import load_paths

    usage = resource.getrusage(resource.RUSAGE_SELF)
    spent = usage.ru_utime + usage.ru_stime  # this worker's CPU time so far (earlier files)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(spent) + cpu_s + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    return load_paths([Path(path)])


class FileParser:
    """`load_paths` for one file at a time, each capped at `cpu_s` seconds of CPU."""

    def __init__(self, cpu_s: int = DEFAULT_PARSE_CPU_S):
        self.cpu_s = cpu_s
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def load(self, path: Path) -> LoadReport:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            pool = self._pool
        try:
            return pool.submit(_load_capped, str(path), self.cpu_s).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None  # the next file gets a fresh worker
            pool.shutdown(wait=False)
            return LoadReport(articles=[], skipped=[(str(path), f"reading it took over {self.cpu_s} s of CPU; "
                                                               "it was skipped (split it into smaller files)")])

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
