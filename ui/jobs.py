"""Large uploads as jobs: run in the background, with progress, their result kept for the caller.

An upload over `JOB_MIN_BYTES` is not added while its caller waits: `/add_files` answers at once
with a job id, and one background thread reads the files (each with its CPU-time limit) and adds
their articles in chunks of `CHUNK_ARTICLES`, each chunk one committed write, so questions go on
meanwhile and the progress is known (articles added of articles read). The job's state and
result stay on the server (the latest `KEPT_JOBS`), so a caller who closed the page or lost the
connection fetches them later (`/job`, or the page's upload box, which polls its job). Jobs run
one at a time; stopping the server waits for a running job to finish, so none is left half done.
What this leaves out: reading and checking files (`ui.uploads`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

JOB_MIN_BYTES = 512 * 1024  # an upload this large (all its files together) runs as a job
CHUNK_ARTICLES = 500
KEPT_JOBS = 200


@dataclass
class Job:
    id: str
    owner: str
    files: int
    state: str = "queued"  # queued, reading, adding, done, failed
    articles_read: int = 0
    articles_done: int = 0  # added or already indexed
    articles_added: int = 0
    lines: list[tuple[str, str]] = field(default_factory=list)  # (ok | error, message), as the status box shows
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def as_json(self) -> dict:
        return {"id": self.id, "state": self.state, "files": self.files, "articles_read": self.articles_read,
                "articles_done": self.articles_done, "articles_added": self.articles_added,
                "messages": [{"kind": kind, "text": text} for kind, text in self.lines],
                "created_at": self.created_at, "finished_at": self.finished_at}


class JobBoard:
    """The server's upload jobs: one runs at a time, in its own thread."""

    def __init__(self):
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: list[tuple[Job, Callable[[Job], None]]] = []
        self._worker: threading.Thread | None = None
        self._idle = threading.Condition(self._lock)

    def start(self, owner: str, files: int, work: Callable[[Job], None]) -> Job:
        job = Job(id=secrets.token_hex(6), owner=owner, files=files)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEPT_JOBS:
                oldest = next(iter(self._jobs))
                if not self._jobs[oldest].finished:
                    break
                self._jobs.pop(oldest)
            self._queue.append((job, work))
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="upload-jobs", daemon=True)
                self._worker.start()
        return job

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._worker = None
                    self._idle.notify_all()
                    return
                job, work = self._queue.pop(0)
            try:
                work(job)
                job.state = "done"
            except Exception:  # the job says so; the server goes on
                log.exception("upload job %s failed", job.id)
                job.lines.append(("error", "Something went wrong on the server; its log has the details."))
                job.state = "failed"
            job.finished_at = time.time()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def of(self, owner: str) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if job.owner == owner]

    def busy(self) -> bool:
        with self._lock:
            return self._worker is not None

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Wait until no job runs or waits; False when `timeout_s` passed first."""
        with self._lock:
            return self._idle.wait_for(lambda: self._worker is None, timeout_s)
