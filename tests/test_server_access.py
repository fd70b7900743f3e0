"""A shared server's accounts and roles, checked against the real Gradio server.

Every write endpoint is called as anonymous, as a reader and as an editor, through
`gradio_client` and through raw HTTP to Gradio's own routes (`/gradio_api/call/...` and the
page's private events by number through `/gradio_api/queue/join`); each refusal is checked, and
that the articles did not change. Also: a read-only server has no write endpoints, the question
limit, the audit trail of the server's writes, and the refusal to open writes on a network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError, AuthenticationError

from ui_support import BUNDLED_TITLE, ROOT, client, fast_assistant, running_app

EDITOR, EDITOR_PW = "edna", "editor-password-1"
READER, READER_PW = "reggie", "reader-password-1"
# a link the server would fetch if it let the caller write (nothing listens there)
LINK = "http://127.0.0.1:9/story"
WRITE_EVENTS = ("add_files", "add_text", "add_links", "delete_from_page")  # the page's write events, by function name


def login(url: str, name: str, password: str) -> Client:
    return Client(url, auth=(name, password), verbose=False, analytics_enabled=False, download_files=False)


def cookies_of(url: str, name: str, password: str) -> httpx.Cookies:
    response = httpx.post(f"{url}login", data={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return response.cookies


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    from qa.users import UsersFile

    path = tmp_path_factory.mktemp("users") / "users.toml"
    UsersFile(path).add(EDITOR, "editor", EDITOR_PW)
    UsersFile(path).add(READER, "reader", READER_PW)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, users_file):
    from qa.users import ServerAccess
    from ui.auth import Access

    folder = tmp_path_factory.mktemp("access")
    assistant = fast_assistant(folder)
    with running_app(assistant, access=Access(ServerAccess(users_file=users_file, questions_per_minute=1000))) as url:
        yield url, assistant, folder / "index"


def article_ids(assistant) -> list[str]:
    return sorted(info["id"] for info in assistant.collection.article_infos())


def sse_events(response_text: str) -> list[tuple[str, str]]:
    events, name = [], None
    for line in response_text.splitlines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and name:
            events.append((name, line.split(":", 1)[1].strip()))
    return events


def call_raw(url: str, api_name: str, data: list, cookies=None) -> tuple[int, list[tuple[str, str]]]:
    """POST /gradio_api/call/NAME then read its result stream, as a raw HTTP caller would."""
    started = httpx.post(f"{url}gradio_api/call/{api_name}", json={"data": data}, cookies=cookies)
    if started.status_code != 200:
        return started.status_code, []
    event_id = started.json()["event_id"]
    result = httpx.get(f"{url}gradio_api/call/{api_name}/{event_id}", cookies=cookies, timeout=60)
    return result.status_code, sse_events(result.text)


def join_raw(url: str, fn_index: int, data: list, cookies=None, event_data=None) -> tuple[int, list[dict]]:
    """Run one of the page's events by number through the queue, as the page itself does."""
    session = uuid.uuid4().hex[:10]
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": event_data}
    joined = httpx.post(f"{url}gradio_api/queue/join", json=body, cookies=cookies)
    if joined.status_code != 200:
        return joined.status_code, []
    messages = []
    with httpx.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session},
                      cookies=cookies, timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                messages.append(message)
                if message.get("msg") in ("process_completed", "close_stream"):
                    break
    return 200, messages


def page_events(url: str, cookies) -> dict[str, int]:
    config = httpx.get(f"{url}config", cookies=cookies).json()
    return {e["api_name"]: e["id"] for e in config["dependencies"] if e.get("backend_fn")}


def test_users_file_keeps_only_argon2_hashes_and_the_cli_manages_it(tmp_path):
    from typer.testing import CliRunner

    from qa.cli import app

    path = tmp_path / "users.toml"
    runner = CliRunner()
    added = runner.invoke(app, ["users", "add", "ann", "--role", "editor", "--users", str(path)],
                          input="correct-horse-1\ncorrect-horse-1\n")
    assert added.exit_code == 0, added.output
    assert "correct-horse-1" not in added.output and "added ann (editor)" in added.output
    mismatch = runner.invoke(app, ["users", "add", "bob", "--users", str(path)],
                             input="first-password\nsecond-password\n\n\n")
    assert "bob" not in path.read_text() and "first-password" not in mismatch.output
    piped = runner.invoke(app, ["users", "add", "bob", "--role", "reader", "--users", str(path), "--password-stdin"],
                          input="bobs-password-1\n")
    assert piped.exit_code == 0, piped.output
    text = path.read_text()
    assert "correct-horse-1" not in text and "bobs-password-1" not in text and text.count("$argon2id$") == 2
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    listed = runner.invoke(app, ["users", "list", "--users", str(path)])
    assert listed.output.split() == ["ann", "editor", "bob", "reader"]
    assert "$argon2" not in listed.output
    bad_role = runner.invoke(app, ["users", "add", "cy", "--role", "boss", "--users", str(path), "--password-stdin"],
                             input="cys-password-1\n")
    assert bad_role.exit_code == 1 and "not a role" in bad_role.output
    assert runner.invoke(app, ["users", "remove", "bob", "--users", str(path)]).exit_code == 0
    assert runner.invoke(app, ["users", "list", "--users", str(path)]).output.split() == ["ann", "editor"]
    gone = runner.invoke(app, ["users", "remove", "bob", "--users", str(path)])
    assert gone.exit_code == 1 and "no user named 'bob'" in gone.output
    from qa.users import UsersFile

    assert UsersFile(path).verify("ann", "correct-horse-1").role == "editor"
    assert UsersFile(path).verify("ann", "wrong") is None and UsersFile(path).verify("nobody", "x") is None


def test_anonymous_callers_are_refused_everything_and_change_nothing(server):
    url, assistant, _ = server
    before = article_ids(assistant)
    with pytest.raises(AuthenticationError):
        client(url)
    for api_name, data in (("add_text", ["T", "Some text about bridges.", ""]), ("add_links", [LINK]),
                           ("delete_article", [before[0]]), ("ask", ["Who did Putin meet in Sochi?"])):
        status, _ = call_raw(url, api_name, data)
        assert status == 401, api_name
    assert httpx.get(f"{url}config").status_code == 401
    for fn_index in range(40):  # every event of the page, by number
        status, _ = join_raw(url, fn_index, [], event_data={"article": before[0]})
        assert status == 401
    assert httpx.post(f"{url}gradio_api/upload", files={"files": ("a.txt", b"text")}).status_code == 401
    assert httpx.post(f"{url}login", data={"username": EDITOR, "password": "not-it"}).status_code == 400
    assert article_ids(assistant) == before


def test_a_reader_asks_but_every_write_is_refused(server, tmp_path):
    url, assistant, _ = server
    before = article_ids(assistant)
    reader = login(url, READER, READER_PW)
    assert "Assad" in reader.predict("Who did Putin meet in Sochi?", api_name="/ask")["answer"]
    upload = tmp_path / "bridge.txt"
    upload.write_text("Bridge reopens\n\nThe bridge reopens on March 3, the council said.\n")
    for args, api_name in (((before[0],), "/delete_article"), (("T", "Some text about bridges.", ""), "/add_text"),
                           (([handle_file(str(upload))],), "/add_files"), ((LINK,), "/add_links")):
        with pytest.raises(AppError, match="Only editors can"):
            reader.predict(*args, api_name=api_name)
    cookies = cookies_of(url, READER, READER_PW)
    for api_name, data in (("add_text", ["T", "Some text about bridges.", "", "", ""]), ("add_links", [LINK]),
                           ("delete_article", [before[0]])):
        status, events = call_raw(url, api_name, data, cookies)
        assert status == 200 and events[-1][0] == "error" and "Only editors" in events[-1][1], events
    events = page_events(url, cookies)
    assert set(WRITE_EVENTS) <= set(events)
    for name in WRITE_EVENTS:
        data = {"add_files": [[], "", ""], "add_text": ["T", "Some text about bridges.", "", "", ""], "add_links": [LINK],
                "delete_from_page": []}[name]
        status, messages = join_raw(url, events[name], data, cookies, event_data={"article": before[0]})
        completed = messages[-1]
        assert completed["msg"] == "process_completed" and not completed["success"], (name, messages)
        assert "Only editors" in completed["output"]["error"]
    assert article_ids(assistant) == before


def test_an_editor_writes_and_the_audit_trail_names_them(server):
    from qa.audit import read_log

    url, assistant, index_dir = server
    editor = login(url, EDITOR, EDITOR_PW)
    status = editor.predict("Harbour ferry", "The harbour ferry runs every hour from May 1.", "https://x.example/ferry",
                            api_name="/add_text")[0]
    assert "Added “Harbour ferry”" in status
    added = next(a for a in editor.predict(api_name="/articles") if a["title"] == "Harbour ferry")
    cookies = cookies_of(url, EDITOR, EDITOR_PW)
    status_code, events = call_raw(url, "delete_article", [added["id"]], cookies)
    assert events[-1][0] == "complete" and added["id"] in events[-1][1]
    assert added["id"] not in article_ids(assistant)
    log = [e for e in read_log(index_dir) if e["article_id"] == added["id"]]
    assert [(e["actor"], e["action"], e["result"], e["source"]) for e in log] == [
        (EDITOR, "add", "added", "https://x.example/ferry"), (EDITOR, "delete", "deleted", "https://x.example/ferry")]
    assert log[1]["restorable"] and log[0]["at"] <= log[1]["at"]


def test_a_removed_user_is_refused_from_their_next_request(tmp_path):
    from qa.users import ServerAccess, UsersFile
    from ui.auth import Access

    path = tmp_path / "users.toml"
    UsersFile(path).add("temp", "editor", "temp-password-1")
    assistant = fast_assistant(tmp_path)
    with running_app(assistant, access=Access(ServerAccess(users_file=path))) as url:
        temp = login(url, "temp", "temp-password-1")
        assert temp.predict(api_name="/articles")[0]["title"] == BUNDLED_TITLE
        UsersFile(path).add("temp", "reader", "temp-password-2")  # demoted
        with pytest.raises(AppError, match="signed in as reader"):
            temp.predict(article_ids(assistant)[0], api_name="/delete_article")
        UsersFile(path).remove("temp")
        with pytest.raises(AppError, match="no longer on this server"):
            temp.predict("Who did Putin meet in Sochi?", api_name="/ask")
        assert len(article_ids(assistant)) == 1


def test_a_read_only_server_has_no_write_endpoints_and_says_so(tmp_path):
    from qa.users import ServerAccess
    from ui.auth import READ_ONLY_NOTE, Access

    assistant = fast_assistant(tmp_path)
    with running_app(assistant, access=Access(ServerAccess(read_only=True))) as url:
        info = httpx.get(f"{url}gradio_api/info").json()
        assert set(info["named_endpoints"]) == {"/ask", "/chat", "/articles", "/article"}
        config = httpx.get(f"{url}config").json()
        names = {e["api_name"] for e in config["dependencies"]}
        assert not names & {"add_files", "add_text", "add_links", "delete_article", "delete_from_page"}
        assert any(READ_ONLY_NOTE in str(c.get("props", {}).get("value")) for c in config["components"])
        assert not [c for c in config["components"] if c.get("props", {}).get("elem_id") in ("nqa-upload", "nqa-add")]
        assert "Assad" in client(url).predict("Who did Putin meet in Sochi?", api_name="/ask")["answer"]
        status, _ = call_raw(url, "delete_article", [article_ids(assistant)[0]])
        assert status >= 400  # Gradio knows no such endpoint
        assert 'class="nqa-delete"' not in client(url).predict(api_name="/articles").__repr__()
        assert len(article_ids(assistant)) == 1


def test_questions_past_the_limit_are_told_to_slow_down(tmp_path):
    from qa.users import ServerAccess
    from ui.auth import Access

    assistant = fast_assistant(tmp_path)
    with running_app(assistant, access=Access(ServerAccess(questions_per_minute=3))) as url:
        api = client(url)
        for _ in range(3):
            assert api.predict("Where will the UN talks resume?", api_name="/ask")["answer"] == "Geneva"
        with pytest.raises(AppError, match=r"slow down, try again in \d+ s") as refused:
            api.predict("Where will the UN talks resume?", api_name="/chat")
        wait = int(re.search(r"try again in (\d+) s", str(refused.value)).group(1))
        assert 1 <= wait <= 60
        # the page's chat keeps the question in the box and says why beside it
        config = httpx.get(f"{url}config").json()
        respond = next(e["id"] for e in config["dependencies"] if e["api_name"] == "respond")
        _, messages = join_raw(url, respond, ["Where will the UN talks resume?", [], None, None, None, None, None])
        output = messages[-1]["output"]["data"]
        assert output[2] == "Where will the UN talks resume?" and "Slow down, try again in" in output[3]


def test_a_network_host_without_users_or_read_only_refuses_to_start(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "qa", "serve", "--host", "0.0.0.0", "--index", str(tmp_path / "none")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "--users" in proc.stderr and "--read-only" in proc.stderr and "--allow-anonymous-writes" in proc.stderr
    # an empty users file would let nobody in: refused too, before anything loads
    (tmp_path / "users.toml").write_text("")
    proc = subprocess.run([sys.executable, "-m", "qa", "serve", "--host", "0.0.0.0", "--users", str(tmp_path / "users.toml")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and "no users in" in proc.stderr


def test_exposure_rules():
    from qa.errors import QAError
    from qa.users import check_exposure, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("")
    check_exposure("127.0.0.1", None, False, False)
    check_exposure("0.0.0.0", Path("users.toml"), False, False)
    check_exposure("0.0.0.0", None, True, False)
    check_exposure("0.0.0.0", None, False, True)
    with pytest.raises(QAError, match="--users FILE .* --read-only"):
        check_exposure("10.0.0.3", None, False, False)
