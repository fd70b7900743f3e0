"""The real Gradio server driven through gradio_client: answers, follow-ups, uploads, many users.

Each test runs twice: over the real Assistant with deterministic models ("fast": checks the
wiring), and with the packaged embedder and the shipped reader ("real": checks the product).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from ui_support import (BRIDGE_OUTLET, BUNDLED_TITLE, NEW_ARTICLE_QUESTION, NEW_ARTICLE_TEXT, NEW_ARTICLE_TITLE, ROOT,
                        client, fast_assistant, free_port, real_assistant, running_app, scripted_assistant)

pytestmark = pytest.mark.slow

SINGLE_QUESTIONS = {
    "How many people have been killed in the Syrian war?": "330,000",
    "Where will the UN talks resume?": "Geneva",
    "Who did Putin meet in Sochi?": "Assad",
}
DOCUMENTED_ENDPOINTS = {"/ask", "/chat", "/articles", "/article", "/add_files", "/add_text", "/add_links",
                        "/delete_article", "/job"}
SCOPE_PARAMETERS = ["articles", "outlets", "since", "until", "as_of"]
FERRY_TEXT = ("Lakeside Ferry To Run Every Hour\n\n"
              "The Lakeside ferry will run every hour from May 1, the harbour office said on Friday.\n")
CONVERSATIONS = [
    [("Who commands foreign operations for Iran's Revolutionary Guards?", "Soleimani"),
     ("Where was his message published?", "Sepah news site")],
    [("Where will the UN talks resume?", "Geneva"), ("When?", "November 28")],
]


@pytest.fixture(scope="module", params=["fast", "real"])
def server_url(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"ui-{request.param}")
    if request.param == "fast":
        assistant = fast_assistant(folder)
    else:
        assistant = real_assistant(folder, request.getfixturevalue("real_embedder"),
                                   request.getfixturevalue("shipped_reader"))
    assistant.warm_up()
    with running_app(assistant) as url:
        yield url


@pytest.fixture(scope="module")
def api(server_url):
    return client(server_url)


def assert_cited_answer(result: dict, expected: str) -> None:
    assert result["found"], result
    assert expected in result["answer"]
    start, end = result["context_start"], result["context_end"]
    assert result["context"][start:end] == result["answer"]
    citation = result["citation"]
    assert citation["end"] - citation["start"] == len(result["answer"])
    assert isinstance(citation["passage"], int) and citation["paragraph"] == citation["passage"] and citation["title"]


def converse(api, turns: list[tuple[str, str]]) -> list[dict]:
    history, results = [], []
    for question, _ in turns:
        result = api.predict(question, history, api_name="/chat")
        history.append({"question": question, "answer": result["answer"]})
        results.append(result)
    return results


def test_api_lists_the_stable_endpoints(api):
    endpoints = api.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert DOCUMENTED_ENDPOINTS <= set(endpoints)
    assert [p["parameter_name"] for p in endpoints["/ask"]["parameters"]] == ["question", *SCOPE_PARAMETERS]
    assert [p["parameter_name"] for p in endpoints["/chat"]["parameters"]] == ["question", "history", *SCOPE_PARAMETERS]
    # The scope is optional: old clients' calls still work.
    assert all(p["parameter_has_default"] for p in endpoints["/ask"]["parameters"][1:])
    assert [p["parameter_name"] for p in endpoints["/article"]["parameters"]] == ["article_id"]
    assert [p["parameter_name"] for p in endpoints["/delete_article"]["parameters"]] == ["article_id"]


def test_ask_returns_the_cli_json_with_answer_and_citation(api):
    result = api.predict("Where will the UN talks resume?", api_name="/ask")
    assert_cited_answer(result, "Geneva")
    assert result["citation"]["title"] == BUNDLED_TITLE
    assert set(result) >= {"question", "found", "answer", "score", "citation", "context", "passages",
                           "resolved_question", "context_start", "context_end"}


@pytest.mark.parametrize("turns", CONVERSATIONS, ids=["his-message", "when"])
def test_follow_up_conversations(api, turns):
    for result, (_, expected) in zip(converse(api, turns), turns):
        assert_cited_answer(result, expected)


def test_unanswerable_question_is_not_found(api):
    result = api.predict("What is the capital of Australia?", api_name="/ask")
    assert result["found"] is False and result["answer"] is None and result["citation"] is None


def test_bad_input_becomes_an_error_message(api):
    with pytest.raises(AppError, match="question is empty"):
        api.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="history"):
        api.predict("When?", [{"answer": "no question"}], api_name="/chat")


def test_upload_makes_a_new_article_answerable(api, tmp_path):
    before = api.predict(NEW_ARTICLE_QUESTION, api_name="/ask")
    assert not (before["found"] and "March 3" in before["answer"])
    path = tmp_path / "harbor-bridge.txt"
    path.write_text(NEW_ARTICLE_TEXT, encoding="utf-8")
    status, articles_html, _ = api.predict([handle_file(str(path))], api_name="/add_files")
    assert f"Added “{NEW_ARTICLE_TITLE}”" in status and NEW_ARTICLE_TITLE in articles_html
    assert NEW_ARTICLE_TITLE in [a["title"] for a in api.predict(api_name="/articles")]
    after = api.predict(NEW_ARTICLE_QUESTION, api_name="/ask")
    assert_cited_answer(after, "March 3")
    assert after["citation"]["title"] == NEW_ARTICLE_TITLE


def test_upload_of_a_wrong_file_type_says_why(api, tmp_path):
    path = tmp_path / "slides.pdf"
    path.write_bytes(b"%PDF-1.4 not an article")
    status, _, _ = api.predict([handle_file(str(path))], api_name="/add_files")
    assert "slides.pdf: only .txt" in status


def test_articles_and_answers_name_files_not_server_paths(api):
    articles = api.predict(api_name="/articles")
    assert "putin-hosts-assad-in-sochi.txt" in [a["source"] for a in articles]
    assert not [a for a in articles if "/" in a["source"] and not a["source"].startswith("http")]
    result = api.predict("Where will the UN talks resume?", api_name="/ask")
    assert result["citation"]["source"] == "putin-hosts-assad-in-sochi.txt"
    assert {p["source"] for p in result["passages"]} == {"putin-hosts-assad-in-sochi.txt"}


def test_article_endpoint_gives_the_cited_paragraph_with_offsets(api):
    result = api.predict("Where will the UN talks resume?", api_name="/ask")
    article = api.predict(result["citation"]["article_id"], api_name="/article")
    assert article["title"] == BUNDLED_TITLE and article["source"] == "putin-hosts-assad-in-sochi.txt"
    start, end = result["citation"]["start"], result["citation"]["end"]
    [paragraph] = [p for p in article["paragraphs"] if p["start"] <= start and end <= p["end"]]
    assert paragraph["text"][start - paragraph["start"]:end - paragraph["start"]] == result["answer"]
    with pytest.raises(AppError, match="no article has the id"):
        api.predict("0" * 16, api_name="/article")


def test_delete_article_removes_it_for_everyone(api, server_url):
    title = "Lakeside Ferry Timetable Changes"
    api.predict(title, FERRY_TEXT.replace("Lakeside Ferry To Run Every Hour", title), "", api_name="/add_text")
    [article_id] = [a["id"] for a in api.predict(api_name="/articles") if a["title"] == title]
    assert api.predict(article_id, api_name="/delete_article") == {"deleted": [{"id": article_id, "title": title}]}
    assert title not in [a["title"] for a in client(server_url).predict(api_name="/articles")]
    with pytest.raises(AppError, match="no article has the id"):
        api.predict(article_id, api_name="/delete_article")


def test_uploads_are_deleted_once_indexed_and_cannot_be_fetched(api, server_url, tmp_path):
    path = tmp_path / "ferry.txt"
    path.write_text(FERRY_TEXT, encoding="utf-8")
    # Upload the file the way every client does; the server answers with where it keeps it.
    with path.open("rb") as f:
        [kept] = httpx.post(f"{server_url}gradio_api/upload", files={"files": (path.name, f)}).json()

    def fetch() -> int:
        return httpx.get(f"{server_url}gradio_api/file={kept}").status_code

    assert fetch() == 200  # until the upload is indexed, Gradio serves it to whoever knows that path
    # The client uploads the same bytes under the same name, which Gradio keeps at the same path.
    status, articles_html, _ = api.predict([handle_file(str(path))], api_name="/add_files")
    assert "Added “Lakeside Ferry To Run Every Hour”" in status
    assert not Path(kept).exists() and not Path(kept).parent.exists() and fetch() == 403
    assert str(Path(kept).parent) not in status + articles_html
    assert "ferry.txt" in [a["source"] for a in api.predict(api_name="/articles")]


def test_only_the_documented_endpoints_can_be_called(api, server_url):
    info = httpx.get(f"{server_url}gradio_api/info").json()
    assert set(info["named_endpoints"]) == DOCUMENTED_ENDPOINTS and not info["unnamed_endpoints"]
    # The direct REST routes would answer outside the queue (past its size limit) and run the
    # page's own events by number; every queued event is refused there.
    response = httpx.post(f"{server_url}gradio_api/run/ask", json={"data": ["Where will the UN talks resume?"]})
    assert response.status_code == 404
    config = httpx.get(f"{server_url}config").json()
    # Events that run only in the browser (copying, scrolling, export) have no server side.
    server_events = [e for e in config["dependencies"] if e["backend_fn"]]
    for event in server_events:
        response = httpx.post(f"{server_url}gradio_api/run/predict", json={"data": [], "fn_index": event["id"]})
        if event["queue"] is not False:
            assert response.status_code == 404, event
    # Page events that skip the queue to stay instant: clearing the chat, filling in an example,
    # describing the chosen scope and closing the article panel; none reads or writes the index.
    assert sorted(e["api_name"] for e in server_events if e["queue"] is False) == \
        ["clear", "clear_1", "lambda", "load_example", "scope_summary"]
    with pytest.raises(ValueError):
        api.predict("Where will the UN talks resume?", api_name="/respond")


@pytest.fixture(scope="module")
def scripted_url(tmp_path_factory):
    with running_app(scripted_assistant(tmp_path_factory.mktemp("ui-scripted"))) as url:
        yield url


def test_ask_and_chat_search_only_the_given_scope(scripted_url):
    api = client(scripted_url)
    ids = {a["title"]: a["id"] for a in api.predict(api_name="/articles")}
    assert {a["outlet"] for a in api.predict(api_name="/articles")} == {"", BRIDGE_OUTLET}
    question = "Where will the UN talks resume?"
    assert api.predict(question, [ids[BUNDLED_TITLE]], api_name="/ask")["answer"] == "Geneva"
    assert api.predict(question, [ids[NEW_ARTICLE_TITLE]], api_name="/ask")["found"] is False
    assert api.predict(question, outlets=[BRIDGE_OUTLET], api_name="/ask")["found"] is False
    assert api.predict(NEW_ARTICLE_QUESTION, since="2026-01-01", until="2026-12-31", api_name="/ask")["answer"] == "March 3"
    # as of a day before the dated article was published it is not yet there; as of a later day it is
    assert api.predict(NEW_ARTICLE_QUESTION, as_of="2025-12-31", api_name="/ask")["found"] is False
    dated = api.predict(NEW_ARTICLE_QUESTION, as_of="2026-12-31", api_name="/ask")
    assert dated["answer"] == "March 3" and dated["citation"]["published"] is not None
    assert api.predict(question, as_of="2026-12-31", api_name="/chat")["found"] is False  # undated: left out
    history = [{"question": question, "answer": "Geneva"}]
    assert api.predict("When?", history, since="2026-01-01", api_name="/chat")["found"] is False
    assert api.predict("When?", history, api_name="/chat")["answer"] == "November 28"
    with pytest.raises(AppError, match="YYYY-MM-DD"):
        api.predict(question, since="last week", api_name="/ask")


def test_twenty_concurrent_users_get_their_own_answers(server_url):
    def one_user(i: int) -> None:
        user = client(server_url)
        if i % 2:
            turns = CONVERSATIONS[(i // 2) % len(CONVERSATIONS)]
            for result, (_, expected) in zip(converse(user, turns), turns):
                assert_cited_answer(result, expected)
        else:
            question, expected = list(SINGLE_QUESTIONS.items())[(i // 2) % len(SINGLE_QUESTIONS)]
            result = user.predict(question, api_name="/ask")
            assert result["question"] == question
            assert_cited_answer(result, expected)

    with ThreadPoolExecutor(max_workers=20) as pool:
        for future in [pool.submit(one_user, i) for i in range(20)]:
            future.result(timeout=300)


class GatedAssistant:
    """The fast assistant, but every question waits at a gate: the server fills up on demand."""

    def __init__(self, inner):
        self.inner = inner
        self.settings = inner.settings
        self.collection = inner.collection
        self.gate = threading.Event()
        self.arrived = 0
        self._lock = threading.Lock()

    def check_question(self, question):
        with self._lock:
            self.arrived += 1
        return self.inner.check_question(question)

    def ask_many(self, questions, top_k=None, scope=None):
        assert self.gate.wait(120)
        return self.inner.ask_many(questions, top_k=top_k, scope=scope)

    def ask(self, question, history=None, top_k=None, scope=None):
        assert self.gate.wait(120)
        return self.inner.ask(question, history, top_k=top_k, scope=scope)


def wait_until(condition, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_full_server_says_busy_try_again_instead_of_keeping_callers_waiting(tmp_path):
    from gradio_client.utils import QueueError, Status

    from ui.app import ANSWER_CONCURRENCY

    gated = GatedAssistant(fast_assistant(tmp_path))
    with running_app(gated, queue_size=2) as url:
        user = client(url)
        ask = ("Where will the UN talks resume?",)
        running = []
        for _ in range(ANSWER_CONCURRENCY):  # one at a time, so each is surely running before the next
            running.append(user.submit(*ask, api_name="/ask"))
            wait_until(lambda: gated.arrived == len(running))
        waiting = [user.submit(*ask, api_name="/ask") for _ in range(2)]
        wait_until(lambda: all(job.status().code == Status.IN_QUEUE for job in waiting))
        started = time.monotonic()
        with pytest.raises(QueueError, match="try again"):
            user.predict(*ask, api_name="/ask")
        response = httpx.post(f"{url}gradio_api/call/ask", json={"data": list(ask)})
        assert response.status_code == 503 and "Queue is full" in response.json()["detail"]
        assert time.monotonic() - started < 10  # told at once, not after a timeout
        gated.gate.set()
        assert [job.result(timeout=120)["answer"] for job in running + waiting] == ["Geneva"] * (len(running) + 2)
        assert user.predict(*ask, api_name="/ask")["answer"] == "Geneva"  # room again once they are answered


def test_qa_serve_warms_up_and_answers(request, tmp_path):
    """The real entry point: `qa serve` over the bundled article, models loaded before it listens."""
    request.getfixturevalue("shipped_reader")  # fails clearly if the weights are missing
    port = free_port()
    env = dict(os.environ, NEWSQA_CACHE=str(tmp_path / "cache"))
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        for line in server.stdout:
            output.append(line)
            if "Running on local URL" in line:
                break
        assert server.poll() is None, "".join(output)
        listening_s = time.monotonic() - started
        result = client(f"http://127.0.0.1:{port}/").predict("Where will the UN talks resume?", api_name="/ask")
        print(f"qa serve: listening after {listening_s:.1f}s, first answer after "
              f"{time.monotonic() - started:.1f}s")
        assert result["question"] == "Where will the UN talks resume?" and result["passages"]
        if result["found"]:
            assert result["context"][result["context_start"]:result["context_end"]] == result["answer"]
    finally:
        server.terminate()
        server.wait(timeout=30)
