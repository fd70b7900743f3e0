"""Questions that arrive together are answered together, by one thread, in shared forward passes.

The assistant reads one question at a time under its lock, so concurrent users queue for the
model anyway. Reading the waiting questions' passages in one batch (`Assistant.ask_many`) gets
more answers out of the same CPU: on a shared 2-core machine 4 questions together were answered
1.29 times and 8 questions 1.45 times as fast as one by one. A question that arrives while a
batch is being read waits for the next one; a lone question waits at most `gather_s` for
company. Questions share a reading only when they ask for the same `top_k` and search the same
part of the collection (`Scope`). A bad question fails only its own call.

After each batch the freed heap is handed back to the OS (`malloc_trim`): glibc otherwise keeps
the memory of the reader's varying-size tensors, and a server's RSS crept up with every question.
What this leaves out: the wait before a question gets here (Gradio's queue) and answering itself.

Why not Gradio's own batching (`batch=True`, `max_batch_size`): measured in one run
(benchmarks/gradio_batching.py: 8 clients x 4 questions through /ask, two interleaved rounds, a
2-core CPU) it answered 2.03 questions/s against this batcher's 2.16 (one by one: 1.63), so it
buys no speed, and it cannot do what the chat needs: the chat's reply is a generator (it shows
"Searching…" first), which Gradio refuses in batch mode; one bad question fails every question of
a Gradio batch; and a batch must be split by `top_k` and scope by hand. So this stays.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future

from qa.settings import Settings
from qa.types import AskResult, Scope
from ui.assistant_like import AssistantLike, CollectionLike, History

MAX_BATCH = 8  # 8 together read 1.45x as fast as one by one (4: 1.29x); a bigger batch makes all its answers later
GATHER_S = 0.005  # how long a lone question waits for others: nothing beside a reading of ~0.5 s
IDLE_EXIT_S = 60.0  # the worker thread ends after this long without questions and restarts on the next


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (musl, macOS, Windows)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Return the heap's free pages to the OS (20-60 ms at ~800 MB; a no-op without glibc)."""
    if _TRIM is not None:
        _TRIM(0)


class _Request:
    __slots__ = ("question", "history", "top_k", "scope", "future")

    def __init__(self, question: str, history, top_k: int | None, scope: Scope | None):
        self.question, self.history, self.top_k, self.scope = question, history, top_k, scope
        self.future: Future = Future()


class BatchingAssistant:
    """The assistant's `ask` through one batching thread; its collection (adding, removing,
    listing and reading articles) passes straight through.

    Callers (Gradio's worker threads) block until their own answer is ready. At most `max_batch`
    questions are read together, so a caller's wait is bounded by the batches ahead of it; the
    number of waiting callers is bounded by the server's queue, not here.
    """

    def __init__(self, assistant: AssistantLike, *, max_batch: int = MAX_BATCH, gather_s: float = GATHER_S,
                 idle_exit_s: float = IDLE_EXIT_S, release_memory: bool = True):
        self.assistant = assistant
        self.max_batch = max_batch
        self.gather_s = gather_s
        self.idle_exit_s = idle_exit_s
        self.release_memory = release_memory
        self._pending: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self.batch_sizes: deque[int] = deque(maxlen=1000)  # the latest batches' sizes, for tests and benchmarks
        self.batches = 0

    # ---- the assistant's interface (`ui.assistant_like.AssistantLike`) ---------------------------
    @property
    def settings(self) -> Settings:
        return self.assistant.settings

    @property
    def collection(self) -> CollectionLike:
        """Adding, removing and listing articles pass straight through."""
        return self.assistant.collection

    def check_question(self, question: str) -> str:
        return self.assistant.check_question(question)

    def ask(self, question: str, history: History = None, *, top_k: int | None = None,
            scope: Scope | None = None) -> AskResult:
        self.check_question(question)  # a bad question fails here, in its caller's thread, before any batch
        request = _Request(question, history, top_k, scope)
        self._pending.put(request)
        self._ensure_worker()
        return request.future.result()

    def ask_many(self, questions: Sequence[tuple[str, History]], *, top_k: int | None = None,
                 scope: Scope | None = None) -> list[AskResult]:
        """Already a batch: read at once, beside the worker's batches (the assistant's lock orders them)."""
        return self.assistant.ask_many(questions, top_k=top_k, scope=scope)

    # ---- the worker ------------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="qa-batcher", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            try:
                first = self._pending.get(timeout=self.idle_exit_s)
            except queue.Empty:
                with self._lock:  # a question put before this check is seen; one put after it starts a new worker
                    if self._pending.empty():
                        self._worker = None
                        return
                continue
            batch = [first]
            deadline = time.monotonic() + self.gather_s
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._pending.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            self.batches += 1  # counted before any caller is answered, so callers see their batch counted
            self.batch_sizes.append(len(batch))
            try:
                self._answer(batch)
            except BaseException as e:  # never leave a caller waiting on a dead thread
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(e)
                with self._lock:
                    self._worker = None
                if not self._pending.empty():
                    self._ensure_worker()  # the questions behind this batch still get answered
                raise
            if self.release_memory:
                release_free_memory()

    def _answer(self, batch: list[_Request]) -> None:
        # One ask_many call reads its questions with one top_k over one part of the collection.
        groups: dict[tuple[int | None, Scope | None], list[_Request]] = {}
        for request in batch:
            groups.setdefault((request.top_k, request.scope), []).append(request)
        for (top_k, scope), requests in groups.items():
            try:
                results = self.assistant.ask_many([(r.question, r.history) for r in requests], top_k=top_k, scope=scope)
            except Exception as e:
                if len(requests) == 1:
                    requests[0].future.set_exception(e)
                    continue
                # one bad question must not fail the others: ask each alone, so each gets its own outcome
                for r in requests:
                    try:
                        r.future.set_result(self.assistant.ask(r.question, r.history, top_k=top_k, scope=scope))
                    except Exception as alone:
                        r.future.set_exception(alone)
                continue
            for r, result in zip(requests, results):
                r.future.set_result(result)
