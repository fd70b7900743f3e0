"""The server's question batcher: waiting questions are read together, each caller gets its own answer."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from qa.errors import BadQuestionError
from ui import batcher as b
from ui_support import fast_assistant


class GatedAssistant:
    """Records each batch; the first batch waits at the gate so that the next questions pile up."""

    def __init__(self):
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.started = threading.Event()

    settings = None
    collection = None

    def check_question(self, question):
        return question

    def ask_many(self, questions, top_k=None, scope=None):
        self.started.set()
        self.gate.wait(10)
        self.batches.append([q for q, _ in questions])
        if any(q == "bad" for q, _ in questions):
            raise ValueError("bad question in the batch")
        return [f"answer to {q}" for q, _ in questions]

    def ask(self, question, history=None, top_k=None, scope=None):
        if question == "bad":
            raise ValueError("bad question")
        return f"answer to {question}"


def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_questions_waiting_behind_a_batch_are_read_together_and_each_gets_its_own_answer():
    inner = GatedAssistant()
    asker = b.BatchingAssistant(inner, max_batch=4)
    questions = [f"q{i}" for i in range(7)]
    with ThreadPoolExecutor(7) as pool:
        first = pool.submit(asker.ask, questions[0])
        assert inner.started.wait(10)
        rest = [pool.submit(asker.ask, q) for q in questions[1:]]
        wait_until(lambda: asker._pending.qsize() == 6)
        inner.gate.set()
        answers = [first.result(10)] + [f.result(10) for f in rest]
    assert answers == [f"answer to {q}" for q in questions]
    assert [len(batch) for batch in inner.batches] == [1, 4, 2]  # never more than max_batch at once


def test_a_bad_question_fails_only_its_own_call():
    inner = GatedAssistant()
    inner.gate.set()
    asker = b.BatchingAssistant(inner, gather_s=0.2)
    with ThreadPoolExecutor(3) as pool:
        futures = {q: pool.submit(asker.ask, q) for q in ("good", "bad", "fine")}
        with pytest.raises(ValueError, match="bad question"):
            futures["bad"].result(10)
        assert futures["good"].result(10) == "answer to good" and futures["fine"].result(10) == "answer to fine"


def test_an_empty_question_is_refused_in_the_callers_thread(tmp_path):
    asker = b.BatchingAssistant(fast_assistant(tmp_path))
    with pytest.raises(BadQuestionError):
        asker.ask("   ")
    assert asker.batches == 0
    assert asker.ask("Where will the UN talks resume?").answer == "Geneva"
    assert asker.batches == 1


def test_the_worker_stops_when_idle_and_starts_again(tmp_path):
    asker = b.BatchingAssistant(fast_assistant(tmp_path), idle_exit_s=0.05)
    assert asker.ask("Where will the UN talks resume?").answer == "Geneva"
    wait_until(lambda: asker._worker is None)
    assert asker.ask("Who did Putin meet in Sochi?").answer == "Bashar al-Assad"


def test_freed_memory_goes_back_to_the_os_after_each_batch(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(b, "release_free_memory", lambda: calls.append(1))
    asker = b.BatchingAssistant(fast_assistant(tmp_path))
    for question in ("Where will the UN talks resume?", "Who did Putin meet in Sochi?"):
        asker.ask(question)
    wait_until(lambda: len(calls) == 2)  # each batch trims after its answers are handed out
    assert asker.batches == 2


def test_release_free_memory_never_fails():
    b.release_free_memory()  # glibc's malloc_trim on Linux, nothing where there is none


class ScopeRecorder(GatedAssistant):
    """Records the (top_k, scope) of each batch; the first batch waits at the gate."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def ask_many(self, questions, top_k=None, scope=None):
        self.started.set()
        self.gate.wait(10)
        self.calls.append((top_k, scope, [q for q, _ in questions]))
        return [f"answer to {q}" for q, _ in questions]

    def ask(self, question, history=None, top_k=None, scope=None):
        self.calls.append((top_k, scope, [question]))
        return f"answer to {question}"


def test_questions_are_read_together_only_with_the_same_top_k_and_scope():
    from qa.types import Scope

    inner = ScopeRecorder()
    asker = b.BatchingAssistant(inner, max_batch=8)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(asker.ask, "first")
        assert inner.started.wait(10)
        rest = [pool.submit(asker.ask, "a1", scope=Scope.parse(articles=["a"])),
                pool.submit(asker.ask, "a2", scope=Scope.parse(articles=("a",))),
                pool.submit(asker.ask, "o", scope=Scope.parse(outlets=["x.org"], since="2017-01-01")),
                pool.submit(asker.ask, "k", top_k=3), pool.submit(asker.ask, "plain")]
        wait_until(lambda: asker._pending.qsize() == 5)
        inner.gate.set()
        assert [f.result(10) for f in [first, *rest]] == [f"answer to {q}" for q in ("first", "a1", "a2", "o", "k", "plain")]
    second_batch = {(top_k, scope): questions for top_k, scope, questions in inner.calls[1:]}
    assert second_batch == {
        (None, Scope(articles=("a",))): ["a1", "a2"],  # a list and a tuple name the same scope
        (None, Scope(outlets=("x.org",), since="2017-01-01")): ["o"],
        (3, None): ["k"],
        (None, None): ["plain"],
    }


def test_an_unscoped_batch_calls_ask_many_without_a_scope_and_a_failed_one_retries_each_alone():
    from qa.types import Scope

    class Failing(ScopeRecorder):
        def ask_many(self, questions, top_k=None, scope=None):
            self.calls.append(("many", scope, [q for q, _ in questions]))
            raise ValueError("the batch failed")

    inner = Failing()
    inner.gate.set()
    since = Scope.parse(since="2017-01-01")
    asker = b.BatchingAssistant(inner, gather_s=0.2)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(asker.ask, q, scope=since) for q in ("q1", "q2")]
        assert [f.result(10) for f in futures] == ["answer to q1", "answer to q2"]
    assert ("many", Scope(since="2017-01-01"), ["q1", "q2"]) in inner.calls
    assert sorted(c[2][0] for c in inner.calls if c[0] is None) == ["q1", "q2"]
    assert all(c[1] == since for c in inner.calls if c[0] is None)
    with pytest.raises(ValueError, match="the batch failed"):  # alone in its batch: its own failure
        asker.ask("alone")
    assert ("many", None, ["alone"]) in inner.calls
