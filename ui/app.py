"""The Gradio chat over `qa.Assistant`: layout, event wiring, API endpoints and `serve`.

Endpoints for `gradio_client`: `/ask` (question, optional scope -> the `qa ask --json` object),
`/chat` (question + history, optional scope -> the same object), `/articles` (the indexed
articles), `/article` (one article's paragraphs with their offsets), `/add_files`, `/add_text`, `/add_links`
and `/delete_article`; no others, and none of them outside the queue. The browser keeps each
user's conversation in its own local storage (`gr.BrowserState`). Questions arriving together
are read in one batch (`ui.batcher`); beyond `QUEUE_SIZE` waiting events a caller is told the
server is busy instead of waiting without end. What the events do lives in `ui.handlers`, the
HTML in `ui.render` and `ui.panels`, the page's JavaScript in `ui.scripts`; answering is
entirely `qa`'s.
"""

from __future__ import annotations

import contextlib
import functools
import html
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from qa.audit import acting_as
from qa.errors import QAError
from qa.users import ServerAccess
from ui import panels, scripts, style
from ui.auth import READ_ONLY_NOTE, Access, slow_down
from ui.http_guard import GuardState, HttpGuard
from ui.jobs import CHUNK_ARTICLES, JOB_MIN_BYTES, JobBoard
from ui.upload_box import UploadBox
from ui.batcher import MAX_BATCH, BatchingAssistant
from ui.assistant_like import AssistantLike
from ui.handlers import Handlers, UserInputError
from ui.uploads import ALLOWED_SUFFIXES, MAX_FILE_BYTES, MAX_FILE_MB, MAX_FILES_PER_UPLOAD

if TYPE_CHECKING:
    from qa.settings import Settings


TITLE = "News QA"
EXAMPLE_QUESTIONS = [
    "When will the presidents of Russia, Turkey, and Iran meet?",
    "Who did Putin meet in Sochi?",
    "Where will the UN talks resume?",
]
# Questions in flight at once: as many as one batch reads together (ui.batcher), so a batch
# can fill up; more would only wait in threads instead of in the queue.
ANSWER_CONCURRENCY = MAX_BATCH
# Events that may wait beyond those in flight before callers are told "busy, try again"
# (gradio_client raises QueueError, the browser shows Gradio's "currently busy" notice).
# At the ~1 answer/s of a shared 2-core CPU under load (benchmarks/server_load.py), the
# last of 8 + 24 questions is answered within about 30 s.
QUEUE_SIZE = 24
# The browser's local storage key for the conversation; what is stored there is readable only
# by this server's pages while it runs (Gradio encrypts it with a key made at start).
CONVERSATION_KEY = "newsqa-conversation"
INTRO = (
    f"# {TITLE}\n"
    "Every answer is quoted word for word from an article, with the paragraph it comes from "
    "(click the citation to read it in place). When the articles don't say, you are told so."
)
CONVERSATION_NOTE = (
    "Your conversation is kept in this browser (its local storage), not on the server, so it "
    "survives reloading the page; “Clear chat” deletes it."
)
SHARED_NOTE = (
    "**Shared collection:** everyone using this server asks about the same articles, and sees "
    "the articles anyone adds or deletes."
)
ALL_ARTICLES = "Search in: all articles"


def _api_errors(fn):
    """Turn user-caused failures into `gr.Error`, which API clients receive as a message."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (QAError, UserInputError) as e:
            # gr.Error messages are shown as HTML in the browser; the message may quote user input.
            raise gr.Error(html.escape(str(e), quote=False), print_exception=False) from e

    return wrapper


def _event_data(evt: gr.EventData):
    """What a bridge's click sent (see `ui.scripts`)."""
    return getattr(evt, "_data", None)


def build_app(assistant: AssistantLike, *, queue_size: int = QUEUE_SIZE, max_batch: int = MAX_BATCH,
              access: Access | None = None) -> gr.Blocks:
    """The chat app over one shared, thread-safe assistant; launch it with `launch_app`.

    `max_batch` questions at most are read together (1: one at a time, for comparison). `access`
    says who may do what (default: no login, everyone may write, no limits per client; `qa serve`
    sets 30 questions a minute and 8 waiting); a read-only server has no write endpoints at all.
    """
    access = access if access is not None else Access(ServerAccess(questions_per_minute=None, waiting_per_client=None))
    # Uploads are deleted from Gradio's upload folder once indexed.
    handlers = Handlers(BatchingAssistant(assistant, max_batch=max_batch), uploads_dir=get_upload_folder(),
                        deletable=not access.read_only)
    page = SimpleNamespace(access=access, write_gate=threading.Lock(), jobs=JobBoard(), job_min_bytes=JOB_MIN_BYTES)  # the page's components, filled in by the layout steps, read by the wiring
    # Uploads are deleted once indexed; the hourly sweep removes any that never reached a handler.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        page.conversation = gr.BrowserState([], storage_key=CONVERSATION_KEY)  # list of exchanges, see ui.handlers
        gr.Markdown(INTRO, elem_id="nqa-intro")
        # what is loaded, first: a new user sees what they can ask about before anything else
        page.loaded = gr.HTML(elem_id="nqa-loaded")
        page.access_note = gr.Markdown(READ_ONLY_NOTE if access.read_only else "", elem_id="nqa-access-note")
        with gr.Row(equal_height=False, elem_id="nqa-main"):
            _chat_column(page, handlers)
            _side_column(page)
        _source_panel(page)
        _wire_chat(app, page, handlers)
        _wire_articles(app, page, handlers)
        _api_endpoints(handlers, access, page.write_gate, page.jobs)
        app.access = access  # for launch_app: the login it asks for
        app.assistant = assistant  # for /healthz
        app.write_gate = page.write_gate  # held by each write; stopping waits for it
        app.jobs = page.jobs  # large uploads; stopping waits for them too
        app.parts = page  # the page's components and settings (Blocks.page is taken)
    # api_open=False: the REST routes (/gradio_api/run/...) would otherwise answer outside the
    # queue, past its size limit and concurrency, and run the page's private events by number.
    app.queue(default_concurrency_limit=ANSWER_CONCURRENCY, max_size=queue_size, api_open=False)
    return app


# Events that answer questions share the answer pool; index writes go one at a time so two
# uploads (or an upload and a delete) never race to save the index folder.
_ANSWER = {"concurrency_limit": ANSWER_CONCURRENCY, "concurrency_id": "answer"}
_WRITE = {"concurrency_limit": 1, "concurrency_id": "index-write"}
_PRIVATE = {"api_visibility": "private"}


def _chat_column(page: SimpleNamespace, handlers: Handlers) -> None:
    """The chat, the question box, the scope controls, the examples and the chat's actions."""
    with gr.Column(scale=3, min_width=340, elem_id="nqa-chat-column"):
        # Made first and placed below: the examples come before the chat, on the first screen.
        page.question = gr.Textbox(
            label="Your question",
            show_label=False,
            placeholder="Ask a question…",
            elem_id="nqa-question",
            scale=5,
            submit_btn=False,
            max_lines=4,
            render=False,
        )
        page.examples = gr.Examples(
            EXAMPLE_QUESTIONS, inputs=[page.question], label="Try asking", api_visibility="private",
            elem_id="nqa-examples",
        )
        page.chatbot = gr.Chatbot(
            label="Chat",
            show_label=False,  # its floating badge would cover scrolled messages
            elem_id="nqa-chat",
            # The chat fills the window (a phone's too) above the question box,
            # instead of a fixed box inside a scrolling page.
            # What is loaded, the examples and the box stay on the first screen (1366×768) too.
            height="calc(100dvh - 420px)",
            min_height=260,
            # Messages are HTML built by ui.render with every article and user string
            # escaped; Markdown and LaTeX would re-interpret that text, so both are off,
            # and the frontend sanitizer stays on as a second line of defence.
            render_markdown=False,
            sanitize_html=True,
            allow_tags=False,
            latex_delimiters=[],
            buttons=[],  # Gradio's copy buttons would copy the message's HTML source
            feedback_options=None,
            placeholder="Ask about the articles, or pick an example above.",
        )
        # Right above the box, so a long question growing the box never pushes it out of sight.
        page.question_note = gr.HTML(handlers.question_note(), elem_id="nqa-question-note")
        with gr.Row(elem_id="nqa-input-row"):
            page.question.render()
            page.ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="nqa-ask")
        with gr.Accordion(ALL_ARTICLES, open=False, elem_id="nqa-scope") as page.scope_box:
            # The choices are the chosen articles and those matching the words above them (a
            # collection of 100,000 is searched, never sent whole). Typing in the dropdown
            # itself cannot search: updating its choices replaces the box being typed in.
            page.pick_find = gr.Textbox(label="Find articles to choose", placeholder="words of a title or an outlet",
                                        max_lines=1, elem_id="nqa-scope-find")
            page.pick_articles = gr.Dropdown(label="Articles", multiselect=True, choices=[],
                                             elem_id="nqa-scope-articles")
            page.pick_outlets = gr.Dropdown(label="Outlets", multiselect=True, choices=[],
                                            elem_id="nqa-scope-outlets")
            with gr.Row():
                page.since = gr.DateTime(label="From", include_time=False, type="string", elem_id="nqa-since")
                page.until = gr.DateTime(label="To", include_time=False, type="string", elem_id="nqa-until")
                page.as_of = gr.DateTime(label="As of", include_time=False, type="string", elem_id="nqa-as-of",
                                         info="answer as the articles stood that day")
            page.scope_note = gr.HTML(handlers.scope_summary()[1], elem_id="nqa-scope-note")
        with gr.Row(elem_id="nqa-chat-actions"):
            page.clear_button = gr.Button("Clear chat", variant="secondary", size="sm", elem_id="nqa-clear")
            page.export_button = gr.Button("Export as Markdown", variant="secondary", size="sm",
                                           elem_id="nqa-export")
        gr.Markdown(CONVERSATION_NOTE, elem_id="nqa-kept-note", elem_classes="nqa-small")


def _side_column(page: SimpleNamespace) -> None:
    """The shared article list and the ways to add articles."""
    with gr.Column(scale=2, min_width=320, elem_id="nqa-side"):
        with gr.Accordion("Articles", open=True, elem_id="nqa-articles-box"):
            gr.Markdown(SHARED_NOTE, elem_id="nqa-shared-note", elem_classes="nqa-small")
            page.article_status = gr.HTML(elem_id="nqa-article-status")
            page.article_query = gr.Textbox(label="Find articles", placeholder="words of a title or an outlet",
                                            max_lines=1, elem_id="nqa-article-query")
            page.articles = gr.HTML(elem_id="nqa-articles")
            page.article_page = gr.State(1)  # the list shows one page of articles at a time
            with gr.Row(elem_id="nqa-article-pager"):
                page.newer_button = gr.Button("← Newer", size="sm", elem_id="nqa-articles-newer")
                page.older_button = gr.Button("Older →", size="sm", elem_id="nqa-articles-older")
                page.refresh_button = gr.Button("Refresh list", size="sm", elem_id="nqa-articles-refresh")
        if page.access.read_only:
            return  # no way to add articles: not hidden, absent
        with gr.Accordion("Add articles", open=False, elem_id="nqa-add") as page.add_box:
            page.files = UploadBox(
                label=f"Upload {', '.join(ALLOWED_SUFFIXES)} (up to {MAX_FILE_MB} MB each)",
                file_count="multiple",
                type="filepath",
                height=140,
                elem_id="nqa-upload",
            )
            page.upload_status = gr.HTML(elem_id="nqa-upload-status")  # right by the drop zone
            with gr.Row():  # for files that state none; fill them in before dropping the files
                page.upload_outlet = gr.Textbox(label="Outlet of the files (optional)", max_lines=1,
                                                elem_id="nqa-upload-outlet")
                page.upload_published = gr.Textbox(label="Published (optional, YYYY-MM-DD)", max_lines=1,
                                                   placeholder="2017-11-21", elem_id="nqa-upload-published")
            # a large upload's job, kept in the browser so that a reload goes on showing it
            page.job = gr.BrowserState("", storage_key="newsqa-upload-job")
            page.job_timer = gr.Timer(1.0, active=False)
            gr.Markdown("or paste an article:")
            page.paste_title = gr.Textbox(label="Title", max_lines=1, elem_id="nqa-paste-title")
            page.paste_text = gr.Textbox(label="Text", lines=6, elem_id="nqa-paste-text")
            page.paste_source = gr.Textbox(
                label="Source link (optional)", max_lines=1, placeholder="https://…"
            )
            with gr.Row():  # both optional; a text that states them in a dateline needs neither
                page.paste_outlet = gr.Textbox(label="Outlet (optional)", max_lines=1, placeholder="The Guardian",
                                               elem_id="nqa-paste-outlet")
                page.paste_published = gr.Textbox(label="Published (optional, YYYY-MM-DD)", max_lines=1,
                                                  placeholder="2017-11-21", elem_id="nqa-paste-published")
            page.paste_button = gr.Button("Add article", elem_id="nqa-paste-add")
            page.add_status = gr.HTML(elem_id="nqa-add-status")
            page.links = gr.Textbox(label="Add by link", lines=2, placeholder="https://… (a page, feed, sitemap or PDF; "
                                    "one per line)", elem_id="nqa-links")
            page.links_button = gr.Button("Add links", elem_id="nqa-links-add")
            page.links_status = gr.HTML(elem_id="nqa-links-status")


def _source_panel(page: SimpleNamespace) -> None:
    """The article a citation points to, over the page (a side panel; the whole screen on a phone),
    and the hidden bridges through which the page's clicks reach the server."""
    with gr.Column(visible=False, elem_id="nqa-source-panel") as page.source_panel:
        with gr.Row(elem_id="nqa-source-bar"):
            gr.HTML('<div class="nqa-source-label">Source article</div>')
            page.close_button = gr.Button("Close ✕", size="sm", scale=0, min_width=80, elem_id="nqa-source-close")
        page.source = gr.HTML(elem_id="nqa-source")
    page.opener = gr.HTML("", js_on_load=scripts.OPENER_JS + scripts.upload_check_js(MAX_FILE_BYTES),
                          elem_id="nqa-opener", elem_classes="nqa-bridge")
    page.deleter = gr.HTML("", js_on_load=scripts.DELETER_JS, elem_id="nqa-deleter", elem_classes="nqa-bridge")


def _wire_chat(app: gr.Blocks, page: SimpleNamespace, handlers: Handlers) -> None:
    """Asking (the box, the button, the examples), clearing, exporting and the scope's summary."""
    scope_inputs = [page.pick_articles, page.pick_outlets, page.since, page.until, page.as_of]
    chat_io = {"inputs": [page.question, page.conversation, *scope_inputs],
               "outputs": [page.chatbot, page.conversation, page.question, page.question_note]}
    focus = {"fn": None, "js": scripts.FOCUS_QUESTION_JS}
    access = page.access

    def respond(question, conversation, articles, outlets, since, until, as_of, request: gr.Request):
        access.check_reader(request)
        wait = access.question_wait_s(request) if (question or "").strip() else 0
        if wait:
            yield from handlers.refuse(question, conversation, slow_down(wait))
            return
        yield from handlers.respond(question, conversation, articles, outlets, since, until, as_of)

    for trigger in (page.question.submit, page.ask_button.click):
        trigger(respond, **chat_io, **_PRIVATE, **_ANSWER).then(**focus).then(None, js=scripts.SHOW_REPLY_JS)
    # Clicking an example asks it straight away instead of only filling the box.
    page.examples.load_input_event.then(respond, **chat_io, **_PRIVATE, **_ANSWER).then(**focus).then(
        None, js=scripts.SHOW_REPLY_JS)
    # The chatbot's own trash icon must forget the conversation too, not only hide it.
    for trigger in (page.clear_button.click, page.chatbot.clear):
        trigger(handlers.clear, outputs=[page.chatbot, page.conversation, page.question, page.question_note],
                queue=False, **_PRIVATE)
    page.export_button.click(None, inputs=page.conversation, js=scripts.EXPORT_JS)

    def scope_summary(articles, outlets, since, until, as_of):
        label, note = handlers.scope_summary(articles, outlets, since, until, as_of)
        return gr.Accordion(label=label), note

    gr.on([c.change for c in scope_inputs], scope_summary, inputs=scope_inputs,
          outputs=[page.scope_box, page.scope_note], queue=False, **_PRIVATE)
    app.load(handlers.restore, inputs=page.conversation, outputs=page.chatbot, **_PRIVATE)


def _wire_articles(app: gr.Blocks, page: SimpleNamespace, handlers: Handlers) -> None:
    """The article list, the scope pickers' choices, opening and deleting articles, adding them."""

    def scope_choices(chosen_articles=None, chosen_outlets=None, infos=None):
        # A choice that is gone (a deleted article) leaves the selection too: the dropdown
        # refuses values it does not list. The others stay chosen.
        articles, outlets = handlers.article_choices(chosen=chosen_articles, infos=infos)
        ids = {value for _, value in articles}
        return (gr.Dropdown(choices=articles, value=[a for a in chosen_articles or [] if a in ids]),
                gr.Dropdown(choices=outlets, value=[o for o in chosen_outlets or [] if o in outlets]))

    def find_choices(query, chosen_articles):
        articles, _ = handlers.article_choices(query or "", chosen=chosen_articles)
        return gr.Dropdown(choices=articles)

    def list_page(query, number, step=0, infos=None):
        html, shown_page, pages = handlers.articles_listing(query, (number if isinstance(number, int) else 1) + step,
                                                            infos)
        # "Newer" and "Older" only where there is a page to go to
        return html, shown_page, gr.Button(visible=shown_page > 1), gr.Button(visible=shown_page < pages)

    def page_articles(query, number, chosen_articles=None, chosen_outlets=None):
        # one read of every article's row serves the list, the first screen's line and the pickers
        infos = handlers.article_rows()
        return (*list_page(query, number, infos=infos), handlers.collection_summary(infos),
                *scope_choices(chosen_articles, chosen_outlets, infos))

    def open_source(evt: gr.EventData):
        return handlers.open_source(_event_data(evt)), gr.Column(visible=True)

    access = page.access
    picks = [page.pick_articles, page.pick_outlets]
    listing = [page.article_query, page.article_page]
    shown = [page.articles, page.article_page, page.newer_button, page.older_button]
    app.load(page_articles, inputs=listing + picks, outputs=shown + [page.loaded, *picks], **_PRIVATE)
    page.refresh_button.click(page_articles, inputs=listing + picks, outputs=shown + [page.loaded, *picks],
                              **_PRIVATE)
    def first_page(query):
        return list_page(query, 1)

    def newer_page(query, number):
        return list_page(query, number, -1)

    def older_page(query, number):
        return list_page(query, number, 1)

    gr.on([page.article_query.submit, page.article_query.input], first_page,
          inputs=page.article_query, outputs=shown, trigger_mode="always_last", **_PRIVATE)
    page.newer_button.click(newer_page, inputs=listing, outputs=shown, **_PRIVATE)
    page.older_button.click(older_page, inputs=listing, outputs=shown, **_PRIVATE)
    gr.on([page.pick_find.input, page.pick_find.submit], find_choices, inputs=[page.pick_find, page.pick_articles],
          outputs=page.pick_articles, trigger_mode="always_last", **_PRIVATE)

    def refreshed(query, number):
        # a write answers with the list's first page; the user's search and page come back here
        return handlers.collection_summary(), *list_page(query, number)

    after_write = {"fn": refreshed, "inputs": listing, "outputs": [page.loaded, *shown], **_PRIVATE}
    page.opener.click(open_source, outputs=[page.source, page.source_panel], concurrency_limit=None,
                      **_PRIVATE).then(None, js=scripts.SCROLL_TO_CITED_JS)
    page.close_button.click(lambda: gr.Column(visible=False), outputs=page.source_panel, queue=False, **_PRIVATE
                            ).then(None, js=scripts.FOCUS_OPENER_JS)
    if access.read_only:
        return  # no write endpoints at all, not even private ones

    def delete_from_page(evt: gr.EventData, request: gr.Request):
        with acting_as(access.check_write(request, "delete articles")), page.write_gate:
            return handlers.delete_from_page(_event_data(evt))

    @contextlib.contextmanager
    def writing(who: str):
        with acting_as(who), page.write_gate:
            yield

    started_jobs: dict[str, str] = {}  # session -> the job its last upload started

    def add_files(paths, outlet=None, published=None, request: gr.Request = None):  # None: optional in the API
        try:
            who = access.check_write(request, "add articles")
        except gr.Error:
            handlers.discard_uploads(paths)  # refused files are not kept either
            raise
        if handlers.is_large(paths, page.job_min_bytes):
            job = page.jobs.start(who, len(paths), functools.partial(
                handlers.run_upload_job, list(paths), writing=functools.partial(writing, who),
                chunk_articles=CHUNK_ARTICLES, outlet=outlet, published=published))
            started_jobs[request.session_hash or ""] = job.id
            return job_html(job), handlers.articles_html(), None
        with writing(who):
            return handlers.add_files(paths, outlet, published)

    def job_started(request: gr.Request):
        job_id = started_jobs.pop(request.session_hash or "", None)
        return (job_id, gr.Timer(active=True)) if job_id else (gr.skip(), gr.skip())

    def job_tick(job_id, request: gr.Request):
        job = own_job(job_id, request)
        if job is None:
            return gr.skip(), gr.skip(), gr.Timer(active=False)
        if not job.finished:
            return job_html(job), gr.skip(), gr.skip()
        return job_html(job), handlers.articles_html(), gr.Timer(active=False)

    def own_job(job_id, request):
        job = page.jobs.get(job_id) if isinstance(job_id, str) and job_id else None
        if job is None or (job.owner != access.who(request) and not may_edit(request)):
            return None
        return job

    def may_edit(request) -> bool:
        try:
            access.check_write(request, "see others' uploads")
        except gr.Error:
            return False
        return True

    def resume_job(job_id, request: gr.Request):
        job = own_job(job_id, request)
        return (job_html(job), gr.Timer(active=not job.finished)) if job else (gr.skip(), gr.skip())

    app.load(resume_job, inputs=page.job, outputs=[page.upload_status, page.job_timer], **_PRIVATE)
    page.job_timer.tick(job_tick, inputs=page.job, outputs=[page.upload_status, page.articles, page.job_timer],
                        **_PRIVATE)

    def add_text(title, text, source, outlet=None, published=None, request: gr.Request = None):
        with acting_as(access.check_write(request, "add articles")), page.write_gate:
            return handlers.add_text(title, text, source, outlet, published)

    def add_links(links, request: gr.Request):
        with acting_as(access.check_write(request, "add articles")), page.write_gate:
            return handlers.add_links(links)

    def what_visitor_may(request: gr.Request):
        note = access.page_note(request)
        return note, gr.Accordion(visible=not note)

    app.load(what_visitor_may, outputs=[page.access_note, page.add_box], **_PRIVATE)
    app.load(None, js=scripts.FOCUS_QUESTION_ON_LOAD_JS)
    page.deleter.click(delete_from_page, outputs=[page.article_status, page.articles], **_PRIVATE, **_WRITE).then(
        scope_choices, inputs=picks, outputs=picks, **_PRIVATE).then(**after_write)
    page.files.upload(
        add_files, inputs=[page.files, page.upload_outlet, page.upload_published],
        outputs=[page.upload_status, page.articles, page.files],
        api_name="add_files", **_WRITE
    ).then(scope_choices, inputs=picks, outputs=picks, **_PRIVATE
           ).then(job_started, outputs=[page.job, page.job_timer], **_PRIVATE).then(**after_write)
    page.paste_button.click(
        add_text,
        inputs=[page.paste_title, page.paste_text, page.paste_source, page.paste_outlet, page.paste_published],
        outputs=[page.add_status, page.articles, page.paste_title, page.paste_text, page.paste_source,
                 page.paste_outlet, page.paste_published],
        api_name="add_text",
        **_WRITE,
    ).then(scope_choices, inputs=picks, outputs=picks, **_PRIVATE).then(**after_write)
    page.links_button.click(
        add_links, inputs=page.links, outputs=[page.links_status, page.articles, page.links],
        api_name="add_links", **_WRITE,
    ).then(scope_choices, inputs=picks, outputs=picks, **_PRIVATE).then(**after_write)


def job_html(job) -> str:
    """A job's status for the upload box: its progress, then its result."""
    if job.state == "queued":
        lines = [("ok", f"Upload job {job.id}: waiting for the one before it…")]
    elif job.state == "reading":
        lines = [("ok", f"Upload job {job.id}: reading {job.files} file(s)… ({job.articles_read:,} articles so far)")]
    elif job.state == "adding":
        lines = [("ok", f"Upload job {job.id}: {job.articles_done:,} of {job.articles_read:,} articles added so far…")]
    else:
        lines = [("ok" if job.state == "done" else "error", f"Upload job {job.id} finished.")]
    note = [("ok", "It goes on if you leave the page; this box (or /job) shows how far it got.")] \
        if not job.finished else []
    return panels.status_html(lines + job.lines[-20:] + note).replace(
        "<ul ", f'<ul data-job="{html.escape(job.id, quote=True)}" ', 1)


def _api_endpoints(handlers: Handlers, access: Access, write_gate: threading.Lock, jobs: JobBoard) -> None:
    """The endpoints for `gradio_client` that no page control carries (the write endpoints
    check the caller's role; a read-only server has none)."""

    def ask(question: str, articles: list[str] | None = None, outlets: list[str] | None = None,
            since: str | None = None, until: str | None = None, as_of: str | None = None,
            request: gr.Request = None) -> dict:
        access.check_question(request)
        return handlers.ask(question, articles, outlets, since, until, as_of)

    def chat(question: str, history: list[dict] | None = None, articles: list[str] | None = None,
             outlets: list[str] | None = None, since: str | None = None, until: str | None = None,
             as_of: str | None = None, request: gr.Request = None) -> dict:
        access.check_question(request)
        return handlers.chat(question, history, articles, outlets, since, until, as_of)

    def delete_article(article_id: str, request: gr.Request = None) -> dict:
        with acting_as(access.check_write(request, "delete articles")), write_gate:
            return handlers.delete_article(article_id)

    # Their descriptions on the API page are the handlers'; `functools.wraps` would also hide
    # the `request` parameter through which Gradio says who is calling.
    ask.__doc__, chat.__doc__, delete_article.__doc__ = (handlers.ask.__doc__, handlers.chat.__doc__,
                                                         handlers.delete_article.__doc__)
    gr.api(_api_errors(ask), api_name="ask", **_ANSWER)
    gr.api(_api_errors(chat), api_name="chat", **_ANSWER)
    gr.api(_api_errors(handlers.article_list), api_name="articles")
    gr.api(_api_errors(handlers.article_json), api_name="article")
    def job(job_id: str = "", request: gr.Request = None) -> dict:
        """A large upload's job: {"id", "state" (queued, reading, adding, done, failed), "files",
        "articles_read", "articles_done", "articles_added", "messages", "created_at", "finished_at"}.

        /add_files answers an upload of 512 KB or more at once and runs it as a job: its status
        names the job (`data-job`). Without an id: {"jobs": [...]}, the caller's jobs, newest last.
        """
        who = access.check_write(request, "add articles")
        if not job_id:
            return {"jobs": [j.as_json() for j in jobs.of(who)]}
        found = jobs.get(job_id.strip())
        if found is None:
            raise gr.Error(f"No upload job has the id “{html.escape(job_id.strip())}” (jobs are kept until the "
                           "server restarts).", print_exception=False)
        return found.as_json()

    if not access.read_only:
        gr.api(_api_errors(delete_article), api_name="delete_article", **_WRITE)
        gr.api(_api_errors(job), api_name="job")


def launch_app(
    app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True, quiet: bool | None = None
) -> str:
    """Start the server with the app's look, login, upload limit and HTTP guard; returns its local URL."""
    access: Access = getattr(app, "access", None) or Access()
    app.guard = GuardState(upload_body_limit_bytes=MAX_FILES_PER_UPLOAD * MAX_FILE_BYTES + 2**20,
                           health=functools.partial(health, app), waiting_of=functools.partial(waiting_of, app),
                           waiting_per_client=access.options.waiting_per_client)
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        css=style.CSS,
        head=style.HEAD,
        theme=style.THEME,
        auth=access.gradio_auth(),
        auth_message="Sign in with the name and password your editor gave you.",
        # Bodies are capped, and uploads paced per client, before their bytes are read.
        app_kwargs={"middleware": [Middleware(HttpGuard, state=app.guard)]},
        # The handler checks sizes too; this stops oversized uploads before they reach the disk.
        max_file_size=MAX_FILE_BYTES,
        show_error=False,
        quiet=not block if quiet is None else quiet,  # the server's own start says where it listens
        ssr_mode=False,
        footer_links=["api"],
        # Gradio's own run history would keep a second, unannounced copy of every call in the
        # browser; the one conversation kept there is the one the page tells users about.
        run_history=False,
    )
    return app.local_url


def health(app: gr.Blocks) -> dict:
    """What `GET /healthz` reports: index counts, whether the models are loaded, the queue's depth."""
    assistant = app.assistant
    report: dict = {"ready": False}
    try:
        articles, passages = assistant.collection.store.counts()
        report["index"] = {"articles": articles, "passages": passages}
    except Exception as e:  # the health check says what is wrong instead of failing
        report["index"] = {"error": type(e).__name__}
    report["embedder_ready"] = _loaded(getattr(assistant.collection, "embedder", None))
    report["reader_ready"] = _loaded(getattr(assistant, "reader", None))
    queue = getattr(app, "_queue", None)
    report["queue"] = {"waiting": len(queue) if queue is not None else 0,
                       "running": queue.get_active_worker_count() if queue is not None else 0}
    report["upload_jobs_running"] = app.jobs.busy()
    report["read_only"] = app.access.read_only
    report["login"] = app.access.login_required
    report["ready"] = "error" not in report["index"] and report["embedder_ready"] is not False \
        and report["reader_ready"] is not False
    return report


def waiting_of(app: gr.Blocks, cookies: dict[str, str], address: str) -> tuple[str, int]:
    """(who, how many of their events wait in the queue): a logged-in user by name, else an address."""
    server = app.server_app
    user = None
    if server is not None:
        token = cookies.get(f"access-token-{server.cookie_id}") or cookies.get(f"access-token-unsecure-{server.cookie_id}")
        user = server.tokens.get(token) if token else None
    waiting = 0
    for events in list(app._queue.event_queue_per_concurrency_id.values()):
        for event in list(events.queue):
            if user is not None:
                waiting += event.username == user
            else:
                client = getattr(event.request, "client", None)
                waiting += event.username is None and getattr(client, "host", None) == address
    return (user or f"anonymous@{address}"), waiting


def _loaded(model) -> bool | None:
    """Whether a lazily loaded model is loaded (None when it does not say: a stand-in)."""
    state = vars(model) if model is not None and hasattr(model, "__dict__") else {}
    if "_loaded" in state:  # the reader
        return bool(state["_loaded"])
    if "_model" in state:  # the embedder
        return state["_model"] is not None
    return None


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, access: ServerAccess | None = None, *,
          watch: Sequence[str] = (), every_s: float = 900.0) -> None:
    """Load the index (the bundled article's by default), warm the models up, serve until stopped;
    `watch`: feeds polled every `every_s` seconds into the index, through the collection's write
    lock, the one uploads and deletes take (`qa.watch`).

    SIGTERM (and Ctrl-C) stop it gently: new requests are refused, the answers in flight get up to
    `DRAIN_S` to finish, and a write in progress always finishes, so none is left half done.
    """
    from qa import Assistant  # the models' import cost is paid here, not by `import ui.app`
    from qa.watch import FeedWatcher

    print("Loading the index and the models…", file=sys.stderr, flush=True)
    assistant = Assistant.load(settings.index_dir, settings)
    assistant.warm_up()
    if watch:
        FeedWatcher(assistant.collection, watch, every_s).start()
    serve_app(build_app(assistant, access=Access(access)), host, port)


def serve_app(app: gr.Blocks, host: str, port: int) -> None:
    """Serve a built app until SIGTERM or SIGINT, then stop gently (`drain`)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    url = launch_app(app, host, port, block=False, quiet=False)
    print(f"Serving on {url}" + (" (read-only)" if app.access.read_only else "")
          + (" with login" if app.access.login_required else ""), file=sys.stderr, flush=True)
    while not stop.wait(0.5):  # a timed wait lets the signal handler run promptly
        pass
    drain(app)
    app.close(verbose=False)
    print("Stopped.", file=sys.stderr, flush=True)


DRAIN_S = 10.0
# how long finished answers may take to reach their callers once the work is done (a caller that
# went away never takes its answer, so this is bounded)
DELIVER_S = 5.0


def _wait_until_sent(queue, within_s: float) -> None:
    """Until every finished answer has been streamed to its caller, or `within_s` passed.

    Gradio forgets an event once its result is sent; closing the app while a result still waits
    to be sent makes that caller get "Server stopped unexpectedly" instead of the answer it waited for.
    """
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and any(list(queue.pending_event_ids_session.values())):
        time.sleep(0.05)


def drain(app: gr.Blocks, answers_s: float = DRAIN_S) -> dict:
    """Stop taking work, let the answers in flight finish (up to `answers_s`) and any write finish."""
    started = time.monotonic()
    app.guard.draining = True
    print("Stopping: finishing the answers in flight…", file=sys.stderr, flush=True)
    queue = app._queue
    while time.monotonic() - started < answers_s and (queue.get_active_worker_count() or len(queue)):
        time.sleep(0.05)
    # A write is never cut: wait for it however long it takes (the lock is free once it committed),
    # and for an upload job, which is one write to the person who started it.
    if app.jobs.busy():
        print("Stopping: finishing the upload job in progress…", file=sys.stderr, flush=True)
    app.jobs.wait_idle()
    with app.write_gate:
        pass
    _wait_until_sent(queue, DELIVER_S)
    time.sleep(0.5)  # the last bytes of the last results are still on their way
    report = {"waited_s": round(time.monotonic() - started, 2), "left_running": queue.get_active_worker_count()}
    print(f"Finished the work in flight in {report['waited_s']} s"
          + (f"; {report['left_running']} answer(s) cut off" if report["left_running"] else ""),
          file=sys.stderr, flush=True)
    return report
