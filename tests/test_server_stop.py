"""Stopping a server with SIGTERM: the answers in flight finish, a write in progress finishes
whole, new work is refused meanwhile, and a restart keeps everything.

The server runs as its own process (tests/slow_server.py: the real app over the fast assistant,
with reading and embedding slowed down so that the signal lands while work is in flight).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file

from ui_support import ROOT, client, free_port

HERE = Path(__file__).parent
RECORDS = 5000  # one passage each: three committed batches (index.ingest.COMMIT_EVERY_PASSAGES)


def start(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{HERE}", HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen([sys.executable, str(HERE / "slow_server.py"), str(folder), str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read())
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("the server did not start")


def stop(proc: subprocess.Popen) -> tuple[float, str]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    return time.monotonic() - started, output


def wait_until_running(url: str, n: int) -> None:
    deadline = time.monotonic() + 20
    while httpx.get(f"{url}healthz", timeout=30).json()["queue"]["running"] < n:
        assert time.monotonic() < deadline, "the work never started"
        time.sleep(0.05)


def wait_until_all_arrived(url: str, futures: list) -> None:
    """Until the server holds every question (answered, being read or waiting in its queue): one that
    reaches it after the signal is refused by design, and a slow client can still be connecting."""
    deadline = time.monotonic() + 30
    while True:
        queue = httpx.get(f"{url}healthz", timeout=30).json()["queue"]
        if sum(f.done() for f in futures) + queue["running"] + queue["waiting"] >= len(futures):
            return
        assert time.monotonic() < deadline, f"the questions never all arrived: {queue}"
        time.sleep(0.05)


def test_answers_in_flight_finish_and_new_questions_are_refused(tmp_path):
    proc, url = start(tmp_path)
    try:
        api = client(url)
        questions = ["Where will the UN talks resume?", "Who did Putin meet in Sochi?"] * 6
        with ThreadPoolExecutor(len(questions)) as pool:
            futures = [pool.submit(api.predict, q, api_name="/ask") for q in questions]
            wait_until_running(url, 2)
            wait_until_all_arrived(url, futures)
            elapsed, output = stop(proc)
            answers = [f.result(timeout=30)["answer"] for f in futures]
    finally:
        proc.kill()
    assert answers == ["Geneva", "Bashar al-Assad"] * 6  # every question in flight or waiting got its answer
    assert proc.returncode == 0 and "Stopping" in output and "Stopped." in output, output
    assert elapsed < 15, output


def test_a_write_in_progress_finishes_whole_and_survives_a_restart(tmp_path):
    upload = tmp_path / "many.jsonl"
    upload.write_text("".join(json.dumps({"title": f"Record {i}", "text": f"Record number {i} says hello {i}."}) + "\n"
                              for i in range(RECORDS)))
    proc, url = start(tmp_path)
    try:
        api = client(url)
        with ThreadPoolExecutor(1) as pool:
            write = pool.submit(api.predict, [handle_file(str(upload))], api_name="/add_files")
            wait_until_running(url, 1)
            time.sleep(1.0)  # the first of its batches is being embedded or committed
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            # once stopping, new work is refused at once
            refused = httpx.post(f"{url}gradio_api/call/ask", json={"data": ["Who did Putin meet in Sochi?"]})
            assert refused.status_code == 503 and "restarting" in refused.json()["detail"]
            status = write.result(timeout=60)[0]
        output, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert status.count("Added “") == RECORDS, status[:500]
    assert proc.returncode == 0, output
    proc, url = start(tmp_path)  # the restart sees the whole write, never part of it
    try:
        articles = client(url).predict(api_name="/articles")
        health = httpx.get(f"{url}healthz").json()
    finally:
        stop(proc)
    assert len(articles) == RECORDS + 1 and health["index"]["articles"] == RECORDS + 1
    from qa.audit import read_log

    assert sum(e["action"] == "add" for e in read_log(tmp_path / "index")) == RECORDS + 1


class _StubQueue:
    """The parts of Gradio's queue that `drain` reads: no work running, answers not yet sent."""

    def __init__(self, unsent: dict[str, set[str]]):
        self.pending_event_ids_session = unsent

    def get_active_worker_count(self) -> int:
        return 0

    def __len__(self) -> int:
        return 0


class _IdleJobs:
    def busy(self) -> bool:
        return False

    def wait_idle(self, timeout_s=None) -> bool:
        return True


def _stub_app(queue: _StubQueue):
    import threading
    from types import SimpleNamespace

    return SimpleNamespace(guard=SimpleNamespace(draining=False), _queue=queue, jobs=_IdleJobs(),
                           write_gate=threading.Lock())


def test_stopping_waits_until_finished_answers_are_sent(monkeypatch):
    import threading

    from ui import app as app_module

    unsent = {"session-a": {"event-1"}, "session-b": set()}
    app = _stub_app(_StubQueue(unsent))
    threading.Timer(1.0, lambda: unsent["session-a"].clear()).start()  # the stream sends it after 1 s
    started = time.monotonic()
    report = app_module.drain(app)
    # closing before the answer was sent would have turned it into "Server stopped unexpectedly"
    assert app.guard.draining and 1.0 <= time.monotonic() - started < 3.0, report
    # a caller that never takes its answer holds the stop only for DELIVER_S
    monkeypatch.setattr(app_module, "DELIVER_S", 0.5)
    started = time.monotonic()
    app_module.drain(_stub_app(_StubQueue({"gone": {"event-2"}})))
    assert 0.5 <= time.monotonic() - started < 2.0
