"""The server's limits per client and its health check, against the real Gradio server: request
bodies capped before they are read, uploads paced per client and always deleted when refused,
and `GET /healthz` without login."""

from __future__ import annotations

import re
import socket
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from ui_support import client, fast_assistant, running_app


def upload_folder() -> Path:
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def kept_uploads(marker: str) -> list[Path]:
    return [p for p in upload_folder().rglob(f"*{marker}*")]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from qa.users import ServerAccess, UsersFile
    from ui.app import build_app, launch_app
    from ui_support import free_port

    folder = tmp_path_factory.mktemp("limits")
    users = folder / "users.toml"
    UsersFile(users).add("edna", "editor", "editor-password-1")
    UsersFile(users).add("reggie", "reader", "reader-password-1")
    from ui.auth import Access

    assistant = fast_assistant(folder)
    app = build_app(assistant, access=Access(ServerAccess(users_file=users)))
    url = launch_app(app, "127.0.0.1", free_port(), block=False)
    try:
        yield url, app, assistant
    finally:
        app.close()


def login(url, name, password) -> Client:
    return Client(url, auth=(name, password), verbose=False, analytics_enabled=False, download_files=False)


def test_too_many_files_are_refused_and_every_one_is_deleted(tmp_path):
    from ui.handlers import Handlers
    from ui.uploads import MAX_FILES_PER_UPLOAD

    uploads = tmp_path / "uploads"
    paths = []
    for i in range(1000):  # as Gradio stores them: a folder per upload
        folder = uploads / f"{i:04d}"
        folder.mkdir(parents=True)
        path = folder / f"article-{i}.txt"
        path.write_text(f"Article {i}\n\nSome text of article {i}.\n")
        paths.append(str(path))
    handlers = Handlers(fast_assistant(tmp_path / "a"), uploads_dir=uploads)
    status, _, cleared = handlers.add_files(paths)
    assert f"Up to {MAX_FILES_PER_UPLOAD} files at a time" in status and cleared is None
    assert not any(uploads.rglob("*")), "refused uploads must not stay on disk"
    assert len(handlers.assistant.collection.article_infos()) == 1


def test_refused_uploads_through_the_server_are_deleted(served, tmp_path):
    from ui.auth import Limiter

    url, app, assistant = served
    app.guard.uploads = Limiter(1000)  # this test is about the handler, not the pace
    marker = uuid.uuid4().hex[:8]
    files = []
    for i in range(25):
        path = tmp_path / f"{marker}-{i}.txt"
        path.write_text(f"Article {i}\n\nSome text of article {i}.\n")
        files.append(handle_file(str(path)))
    editor = login(url, "edna", "editor-password-1")
    status = editor.predict(files, api_name="/add_files")[0]
    assert "files at a time" in status
    assert kept_uploads(marker) == []
    reader = login(url, "reggie", "reader-password-1")
    with pytest.raises(AppError, match="Only editors"):
        reader.predict(files[:2], api_name="/add_files")
    assert kept_uploads(marker) == []
    assert len(assistant.collection.article_infos()) == 1
    # an editor's accepted upload is indexed, and deleted from the upload folder too, leaving
    # no empty temporary file beside it (Gradio's file box made one per file)
    temporary = set(upload_folder().glob("tmp*"))
    assert "Added “" in editor.predict(files[3:4], api_name="/add_files")[0]
    assert kept_uploads(marker) == []
    assert set(upload_folder().glob("tmp*")) <= temporary


def test_uploads_are_paced_per_client(served):
    from ui.auth import Limiter

    url, app, _ = served
    app.guard.uploads = Limiter(3)
    cookies = httpx.post(f"{url}login", data={"username": "edna", "password": "editor-password-1"}).cookies
    marker = uuid.uuid4().hex[:8]
    statuses = [httpx.post(f"{url}gradio_api/upload", cookies=cookies,
                           files={"files": (f"{marker}-{i}.txt", b"Title\n\nText.\n")}).status_code for i in range(3)]
    assert statuses == [200, 200, 200]
    refused = httpx.post(f"{url}gradio_api/upload", cookies=cookies, files={"files": (f"{marker}-x.txt", b"Text.\n")})
    assert refused.status_code == 429 and "slow down, try again in" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) >= 1
    assert not [p for p in kept_uploads(marker) if p.name.endswith("-x.txt")]
    app.guard.uploads = Limiter(1000)


def whole_reply(s: socket.socket) -> str:
    """The response's head and body: they may come in separate packets."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode()


def _length(data: bytes) -> int:
    head = data.split(b"\r\n\r\n", 1)[0].decode().lower()
    found = re.search(r"content-length: *(\d+)", head)
    return int(found.group(1)) if found else 0


def test_a_large_body_is_refused_before_it_is_read(served):
    url, app, assistant = served
    before = len(assistant.collection.article_infos())
    host, port = urlparse(url).hostname, urlparse(url).port
    for path in ("/gradio_api/call/add_text", "/gradio_api/queue/join", "/gradio_api/upload"):
        with socket.create_connection((host, port), timeout=10) as s:
            # 150 MB announced, none of it sent: the answer comes at once, so nothing waited for the bytes
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {150 * 2**20}\r\n\r\n".encode())
            started = time.monotonic()
            reply = whole_reply(s)
            assert time.monotonic() - started < 5
        assert reply.startswith("HTTP/1.1 413"), reply
        assert "the limit is" in reply
    # a chunked body, whose length nobody knows beforehand, is refused too
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(f"POST /gradio_api/call/add_text HTTP/1.1\r\nHost: {host}\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n".encode())
        assert s.recv(4096).decode().startswith("HTTP/1.1 411")
    # within the cap, the server reads the request and answers it as usual (here: login needed)
    assert httpx.post(f"{url}gradio_api/call/add_text", json={"data": ["T", "x" * 1000, ""]}).status_code == 401
    assert len(assistant.collection.article_infos()) == before


def test_health_needs_no_login(served):
    url, app, _ = served
    assert httpx.get(f"{url}config").status_code == 401
    response = httpx.get(f"{url}healthz")
    assert response.status_code == 200
    report = response.json()
    assert report["ready"] and not report["stopping"] and report["login"] and not report["read_only"]
    assert report["index"]["articles"] >= 1 and report["index"]["passages"] > report["index"]["articles"]
    assert report["queue"] == {"waiting": 0, "running": 0}
    assert set(report) >= {"embedder_ready", "reader_ready"}


@pytest.mark.slow
def test_health_reports_the_real_models_once_loaded(tmp_path, real_embedder, shipped_reader):
    from ui_support import real_assistant

    with running_app(real_assistant(tmp_path, real_embedder, shipped_reader)) as url:
        client(url).predict("Who did Putin meet in Sochi?", api_name="/ask")
        report = httpx.get(f"{url}healthz").json()
        assert report["embedder_ready"] is True and report["reader_ready"] is True and report["ready"]


def test_a_file_too_costly_to_read_is_skipped_with_a_reason_and_the_next_one_is_read(tmp_path):
    from ui.handlers import Handlers

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    costly = uploads / "tiny-paragraphs.html"
    costly.write_text("<html><head><title>Tiny</title></head><body>"
                      + "".join(f"<p>word {i}</p>" for i in range(60_000)) + "</body></html>")
    fine = uploads / "ferry.txt"
    fine.write_text("Lakeside Ferry To Run Every Hour\n\nThe Lakeside ferry will run every hour from May 1.\n")
    handlers = Handlers(fast_assistant(tmp_path / "a"), uploads_dir=uploads, parse_cpu_s=1)
    try:
        started = time.monotonic()
        status, _, _ = handlers.add_files([str(costly), str(fine)])
    finally:
        handlers.parser.close()
    assert "tiny-paragraphs.html: reading it took over 1 s of CPU; it was skipped" in status, status
    assert "Added “Lakeside Ferry To Run Every Hour”" in status
    assert str(uploads) not in status and not any(uploads.iterdir())
    assert time.monotonic() - started < 60


def test_one_client_cannot_fill_the_queue_for_everyone(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from qa.users import ServerAccess, UsersFile
    from slow_server import SlowReader
    from ui.app import build_app, launch_app
    from ui.auth import Access
    from ui_support import free_port

    users = tmp_path / "users.toml"
    UsersFile(users).add("greedy", "reader", "greedy-password-1")
    UsersFile(users).add("patient", "reader", "patient-password-1")
    assistant = fast_assistant(tmp_path)
    assistant.reader = SlowReader(assistant.reader)  # 1.5 s per batch: questions pile up in the queue
    assistant.policy.reader = assistant.reader
    app = build_app(assistant, max_batch=1, access=Access(ServerAccess(users_file=users, questions_per_minute=None,
                                                                       waiting_per_client=3)))
    url = launch_app(app, "127.0.0.1", free_port(), block=False)
    try:
        greedy = httpx.post(f"{url}login", data={"username": "greedy", "password": "greedy-password-1"}).cookies
        patient = login(url, "patient", "patient-password-1")

        def post(_):
            return httpx.post(f"{url}gradio_api/call/ask", json={"data": ["Where will the UN talks resume?", None, None, None, None]},
                              cookies=greedy)

        with ThreadPoolExecutor(20) as pool:
            replies = list(pool.map(post, range(20)))
        refused = [r for r in replies if r.status_code == 429]
        assert len(refused) >= 10 and "greedy has 3 requests waiting" in refused[0].json()["detail"]
        assert all(r.status_code in (200, 429) for r in replies)
        # another user is not held back by the first one's burst
        assert patient.predict("Who did Putin meet in Sochi?", api_name="/ask")["answer"] == "Bashar al-Assad"
    finally:
        app.close()


def test_a_large_upload_runs_as_a_job_whose_result_outlives_the_caller(served, tmp_path):
    import json
    import re

    url, app, assistant = served
    app.parts.job_min_bytes = 50_000
    before = len(assistant.collection.article_infos())
    upload = tmp_path / "many.jsonl"
    upload.write_text("".join(json.dumps({"title": f"Harbour notice {i}", "text": f"Notice {i}: berth {i} is "
                                          f"closed on day {i % 28 + 1} for repairs, the harbour office said."}) + "\n"
                              for i in range(3000)))
    editor = login(url, "edna", "editor-password-1")
    started = time.monotonic()
    status = editor.predict([handle_file(str(upload))], api_name="/add_files")[0]
    answered_s = time.monotonic() - started
    job_id = re.search(r'data-job="([0-9a-f]+)"', status).group(1)
    assert f"Upload job {job_id}" in status and "goes on if you leave the page" in status
    editor.close()  # the caller goes away; the job does not
    later = login(url, "edna", "editor-password-1")
    states = []
    while True:
        job = later.predict(job_id, api_name="/job")
        states.append((job["state"], job["articles_done"]))
        if job["state"] in ("done", "failed"):
            break
        assert time.monotonic() - started < 120
        time.sleep(0.2)
    assert job["state"] == "done" and job["articles_added"] == 3000 and job["articles_read"] == 3000
    assert job["messages"][-1] == {"kind": "ok", "text": "Added 3,000 article(s)."}
    assert answered_s < job["finished_at"] - job["created_at"] + 1
    assert len(assistant.collection.article_infos()) == before + 3000
    assert job_id in [j["id"] for j in later.predict(api_name="/job")["jobs"]]
    assert kept_uploads("many") == []
    with pytest.raises(AppError, match="Only editors"):
        login(url, "reggie", "reader-password-1").predict(job_id, api_name="/job")
    from qa.audit import read_log

    added = [e for e in read_log(app.assistant.collection.folder) if e["title"].startswith("Harbour notice")]
    assert len(added) == 3000 and {e["actor"] for e in added} == {"edna"}
