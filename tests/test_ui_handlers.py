"""The chat's event handlers over a real Assistant with deterministic models (no server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import BadArticleError
from qa.types import Turn
from ui import handlers as h
from ui.uploads import MAX_FILE_BYTES, MAX_FILES_PER_UPLOAD
from ui_support import (BUNDLED_TITLE, HOSTILE_QUESTION, HOSTILE_TEXT, HOSTILE_TITLE, NEW_ARTICLE_QUESTION,
                        NEW_ARTICLE_TEXT, NEW_ARTICLE_TITLE, fast_assistant)


@pytest.fixture
def handlers(tmp_path):
    return h.Handlers(fast_assistant(tmp_path))


def last_text(messages) -> str:
    return messages[-1]["content"]["text"]


def ask_in_page(handlers, question, conversation=None, **scope):
    """The final (messages, conversation, box, note) of asking in the page."""
    *_, final = handlers.respond(question, conversation or [], scope.get("articles"), scope.get("outlets"),
                                 scope.get("since"), scope.get("until"))
    return final


def test_respond_shows_the_question_then_the_answer_and_keeps_the_exchange(handlers):
    steps = list(handlers.respond("Where will the UN talks resume?", []))
    (pending, kept0, box0, _), (final, kept1, box1, note) = steps
    assert last_text(pending) == h.PENDING_HTML and kept0 == [] and box0 == ""
    assert [m["role"] for m in final] == ["user", "assistant"]
    assert '<mark class="nqa-span">Geneva</mark>' in last_text(final)
    assert box1 == "" and "Up to 1,000 characters" in note
    [exchange] = kept1
    assert exchange["question"] == "Where will the UN talks resume?" and exchange["answer"] == "Geneva"
    assert exchange["html"] == last_text(final) and "**A:** Geneva" in exchange["markdown"]


def test_respond_passes_the_conversation_for_follow_ups(handlers):
    messages, kept, _, _ = ask_in_page(handlers, "Where will the UN talks resume?")
    messages, kept, _, _ = ask_in_page(handlers, "When?", kept)
    assert len(messages) == 4 and len(kept) == 2
    assert "November 28</mark>" in last_text(messages)
    assert "Understood as: “When will the UN talks resume?”" in last_text(messages)
    assert h.turns_for(kept)[-1] == Turn("When?", "November 28")


def test_a_reload_restores_the_kept_conversation(handlers):
    messages, kept, _, _ = ask_in_page(handlers, "Where will the UN talks resume?")
    assert handlers.restore(kept) == messages
    # What the browser sends back is checked: anything malformed is dropped, not shown.
    assert handlers.restore([{"question": 1}, "x", None] + kept) == messages
    assert handlers.restore("garbage") == [] and handlers.restore(None) == []


def test_respond_records_not_found_as_a_turn_without_answer(handlers):
    messages, kept, _, _ = ask_in_page(handlers, "What is the population of Mars?")
    assert "couldn&#x27;t find that" in last_text(messages)
    assert h.turns_for(kept) == [Turn("What is the population of Mars?", None)]


def test_an_empty_question_is_answered_beside_the_box(handlers):
    assert list(handlers.respond("   ", [])) == [([], [], "", handlers.question_note(h.EMPTY_QUESTION))]
    assert "Type a question" in handlers.question_note(h.EMPTY_QUESTION)


def test_a_rejected_question_stays_in_the_box_with_the_reason(handlers):
    kept = [{"question": "a", "answer": "b", "html": "<p>b</p>", "markdown": "b", "counts": True}]
    too_long = "x" * 5000
    [(messages, kept_after, box, note)] = list(handlers.respond(too_long, kept))
    assert box == too_long and "limit is 1,000" in note and "nqa-question-problem" in note
    assert kept_after == kept and len(messages) == 2  # nothing asked, nothing added


def test_qa_errors_while_answering_become_a_chat_message_and_no_turn(handlers, monkeypatch):
    from qa.errors import IndexNotFoundError

    def broken(*args, **kwargs):
        raise IndexNotFoundError("the index folder is gone")

    monkeypatch.setattr(handlers.assistant, "ask", broken)
    messages, kept, _, _ = ask_in_page(handlers, "Who did Putin meet in Sochi?")
    assert "nqa-error" in last_text(messages) and "index folder is gone" in last_text(messages)
    assert h.turns_for(kept) == [] and "⚠" in kept[0]["markdown"]


def test_respond_reports_unexpected_failures_without_a_traceback(handlers, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(handlers.assistant, "ask", broken)
    messages, _, _, _ = ask_in_page(handlers, "Who did Putin meet in Sochi?")
    assert h.UNEXPECTED_ERROR in last_text(messages)
    assert "secret" not in last_text(messages) and "secret internal detail" in caplog.text


def test_history_is_capped(handlers):
    kept = [{"question": f"q{i}", "answer": "a", "html": "a", "markdown": "a"} for i in range(h.MAX_KEPT_EXCHANGES + 5)]
    _, new_kept, _, _ = ask_in_page(handlers, "Where will the UN talks resume?", kept)
    assert len(new_kept) == h.MAX_KEPT_EXCHANGES and new_kept[-1]["answer"] == "Geneva"
    assert len(h.turns_for(new_kept)) == h.MAX_HISTORY_TURNS


def test_clear_forgets_the_conversation(handlers):
    messages, kept, box, note = handlers.clear()
    assert messages == [] and kept == [] and box == "" and "characters" in note


def test_chat_api_reads_history_json(handlers):
    history = [{"question": "Where will the UN talks resume?", "answer": "Geneva"}]
    result = handlers.chat("When?", history)
    assert result["answer"] == "November 28" and result["resolved_question"] == "When will the UN talks resume?"
    assert handlers.ask("Where will the UN talks resume?")["citation"]["title"] == BUNDLED_TITLE


@pytest.mark.parametrize("history", ["text", [1], [{"answer": "x"}], [{"question": "q", "answer": 3}]])
def test_malformed_history_is_a_clear_error(history):
    with pytest.raises(h.UserInputError, match="history"):
        h.history_from_json(history)


def test_history_accepts_null_answers_and_none():
    assert h.history_from_json(None) == []
    assert h.history_from_json([{"question": "q", "answer": None}]) == [Turn("q", None)]


def test_add_files_adds_good_files_and_explains_bad_ones(handlers, tmp_path):
    good = tmp_path / "bridge.txt"
    good.write_text(NEW_ARTICLE_TEXT, encoding="utf-8")
    wrong_type = tmp_path / "slides.pdf"
    wrong_type.write_bytes(b"%PDF-1.4")
    too_big = tmp_path / "huge.txt"
    too_big.write_bytes(b"a" * (MAX_FILE_BYTES + 1))
    empty = tmp_path / "empty.md"
    empty.write_text("")
    status, articles, cleared = handlers.add_files([str(p) for p in (good, wrong_type, too_big, empty)])
    assert f"Added “{NEW_ARTICLE_TITLE}”" in status
    assert "slides.pdf: only .txt" in status
    assert "huge.txt: 5.0 MB is over the 5 MB limit per file." in status
    assert "empty.md: the file is empty." in status
    assert "2 articles indexed" in articles and cleared is None
    assert handlers.ask(NEW_ARTICLE_QUESTION)["answer"] == "March 3"
    status, _, _ = handlers.add_files([str(good)])
    assert "bridge.txt: already indexed." in status


def test_add_files_reports_unreadable_articles(handlers, tmp_path):
    binary = tmp_path / "noise.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    status, _, _ = handlers.add_files([str(binary)])
    assert "nqa-status-error" in status and "noise.txt" in status


def test_add_files_limits_batch_size(handlers):
    status, _, _ = handlers.add_files([f"f{i}.txt" for i in range(MAX_FILES_PER_UPLOAD + 1)])
    assert "none were added" in status
    status, _, _ = handlers.add_files([])
    assert "Choose one or more files" in status


def test_add_text_adds_and_clears_the_boxes(handlers):
    status, articles, *boxes = handlers.add_text(HOSTILE_TITLE, HOSTILE_TEXT, "https://example.org/t")
    assert "Added" in status and boxes == ["", "", "", "", ""]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in articles and "<script" not in articles
    assert handlers.ask(HOSTILE_QUESTION)["answer"] == "Jane Roe"
    status, *_ = handlers.add_text(HOSTILE_TITLE, HOSTILE_TEXT, "")
    assert "already indexed" in status


@pytest.mark.parametrize("title, text, source, message", [
    ("", "Some text.", "", "Give the article a title."),
    ("T", "   ", "", "Paste the article"),
    ("T", "x" * (MAX_FILE_BYTES + 1), "", "over the 5 MB limit"),
    ("T", "Some text.", "javascript:alert(1)", "must be a web address"),
])
def test_add_text_rejects_bad_input_and_keeps_what_was_typed(handlers, title, text, source, message):
    status, _, *boxes = handlers.add_text(title, text, source)
    assert message in status and boxes == [title, text, source, "", ""]


def test_add_text_shows_assistant_errors(handlers, monkeypatch):
    def refuse(*args, **kwargs):
        raise BadArticleError("the pasted article is empty after cleaning")

    monkeypatch.setattr(handlers.assistant.collection, "add_text", refuse)
    status, *_ = handlers.add_text("T", "Menu", "")
    assert "empty after cleaning" in status and "nqa-status-error" in status


# --- nothing about the server's files leaks ------------------------------------------------

@pytest.fixture
def uploads(tmp_path):
    """A stand-in for Gradio's upload folder: each upload in a folder of its own."""
    folder = tmp_path / "gradio-uploads"
    folder.mkdir()

    def upload(name: str, content: str | bytes) -> Path:
        target = folder / f"{abs(hash((name, content))):x}" / name
        target.parent.mkdir()
        (target.write_bytes if isinstance(content, bytes) else target.write_text)(content)
        return target

    upload.folder = folder
    return upload


def test_articles_and_answers_show_file_names_not_server_paths(handlers, tmp_path):
    listed = handlers.article_list()
    assert [a["source"] for a in listed] == ["putin-hosts-assad-in-sochi.txt"]
    result = handlers.ask("Where will the UN talks resume?")
    assert result["citation"]["source"] == "putin-hosts-assad-in-sochi.txt"
    assert {p["source"] for p in result["passages"]} == {"putin-hosts-assad-in-sochi.txt"}
    assert str(tmp_path) not in json.dumps([listed, result, handlers.chat("When?", [])])


def test_web_addresses_are_shown_as_they_are(handlers):
    handlers.add_text(HOSTILE_TITLE, HOSTILE_TEXT, "https://example.org/testville")
    assert "https://example.org/testville" in [a["source"] for a in handlers.article_list()]
    assert handlers.ask(HOSTILE_QUESTION)["citation"]["source"] == "https://example.org/testville"
    assert h.public_source("") == "" and h.public_source("/srv/news/a.jsonl#3") == "a.jsonl#3"


def test_uploads_are_indexed_under_their_name_and_deleted(tmp_path, uploads):
    handlers = h.Handlers(fast_assistant(tmp_path), uploads_dir=uploads.folder)
    path = uploads("harbor-bridge.txt", NEW_ARTICLE_TEXT)
    status, articles, _ = handlers.add_files([str(path)])
    assert f"Added “{NEW_ARTICLE_TITLE}”" in status and NEW_ARTICLE_TITLE in articles
    assert not path.exists() and not path.parent.exists() and uploads.folder.exists()
    assert "harbor-bridge.txt" in [a["source"] for a in handlers.article_list()]
    result = handlers.ask(NEW_ARTICLE_QUESTION)
    assert result["answer"] == "March 3" and result["citation"]["source"] == "harbor-bridge.txt"


def test_refused_and_unreadable_uploads_are_deleted_and_named_without_their_path(tmp_path, uploads):
    handlers = h.Handlers(fast_assistant(tmp_path), uploads_dir=uploads.folder)
    refused = uploads("slides.pdf", b"%PDF-1.4")
    page = uploads("menu.html", "<html><body><nav>Home</nav></body></html>")
    records = uploads("records.json", json.dumps([{"title": "No text"}, {"title": "T", "text": NEW_ARTICLE_TEXT}]))
    status, _, _ = handlers.add_files([str(refused), str(page), str(records)])
    assert "slides.pdf: only .txt" in status and "menu.html: " in status
    assert "records.json#1: record 1 needs a &#x27;text&#x27; string" in status and "Added “T”" in status
    assert str(uploads.folder) not in status and not list(uploads.folder.iterdir())
    assert "records.json" in [a["source"] for a in handlers.article_list()]


def test_files_outside_the_upload_folder_are_never_deleted(tmp_path, uploads):
    handlers = h.Handlers(fast_assistant(tmp_path), uploads_dir=uploads.folder)
    mine = tmp_path / "mine.txt"
    mine.write_text(NEW_ARTICLE_TEXT, encoding="utf-8")
    handlers.add_files([str(mine)])
    assert mine.exists()


def test_two_uploads_with_the_same_name_are_two_articles(tmp_path, uploads):
    handlers = h.Handlers(fast_assistant(tmp_path), uploads_dir=uploads.folder)
    handlers.add_files([str(uploads("article.txt", NEW_ARTICLE_TEXT))])
    handlers.add_files([str(uploads("article.txt", f"Testville news\n\n{HOSTILE_TEXT}"))])
    titles = [a["title"] for a in handlers.article_list() if a["source"] == "article.txt"]
    assert len(titles) == 2 and NEW_ARTICLE_TITLE in titles


def test_as_of_limits_the_api_and_the_page_to_articles_published_by_then(handlers):
    assert handlers.ask("Where will the UN talks resume?")["found"]
    # the bundled article states no date: as of any day, it is not yet in the collection
    early = handlers.ask("Where will the UN talks resume?", as_of="2030-01-01")
    assert early["found"] is False and early["passages"] == []
    assert handlers.chat("Where will the UN talks resume?", [], as_of="2030-01-01")["passages"] == []
    label, _ = handlers.scope_summary(None, None, None, None, "2030-01-01")
    assert label == "Search in: until 2030-01-01"
    label, note = handlers.scope_summary(None, None, None, "2017-11-01", "2030-01-01")
    assert label == "Search in: until 2017-11-01"
    *_, (messages, kept, box, note) = handlers.respond("Where will the UN talks resume?", [], None, None, None,
                                                      None, "2030-01-01")
    assert "until 2030-01-01" in last_text(messages) and kept[-1]["answer"] is None
    with pytest.raises(Exception, match="as_of must be a date"):
        handlers.ask("Where will the UN talks resume?", as_of="next week")
