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

import functools
import html
import sys
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING

import gradio as gr
from gradio.utils import get_upload_folder

from qa.errors import QAError
from ui import scripts, style
from ui.batcher import MAX_BATCH, BatchingAssistant
from ui.assistant_like import AssistantLike
from ui.handlers import Handlers, UserInputError
from ui.uploads import ALLOWED_SUFFIXES, MAX_FILE_BYTES, MAX_FILE_MB

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
    "Ask about the articles. Every answer is quoted word for word from an article, with the "
    "paragraph it comes from; click the citation to read it in place. When the articles don't "
    "say, you are told so."
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


def build_app(assistant: AssistantLike, *, queue_size: int = QUEUE_SIZE, max_batch: int = MAX_BATCH) -> gr.Blocks:
    """The chat app over one shared, thread-safe assistant; launch it with `launch_app`.

    `max_batch` questions at most are read together (1: one at a time, for comparison).
    """
    # Uploads are deleted from Gradio's upload folder once indexed.
    handlers = Handlers(BatchingAssistant(assistant, max_batch=max_batch), uploads_dir=get_upload_folder())
    page = SimpleNamespace()  # the page's components, filled in by the layout steps, read by the wiring
    # Uploads are deleted once indexed; the hourly sweep removes any that never reached a handler.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        page.conversation = gr.BrowserState([], storage_key=CONVERSATION_KEY)  # list of exchanges, see ui.handlers
        gr.Markdown(INTRO, elem_id="nqa-intro")
        with gr.Row(equal_height=False, elem_id="nqa-main"):
            _chat_column(page, handlers)
            _side_column(page)
        _source_panel(page)
        _wire_chat(app, page, handlers)
        _wire_articles(app, page, handlers)
        _api_endpoints(handlers)
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
        page.chatbot = gr.Chatbot(
            label="Chat",
            show_label=False,  # its floating badge would cover scrolled messages
            elem_id="nqa-chat",
            # The chat fills the window (a phone's too) above the question box,
            # instead of a fixed box inside a scrolling page.
            height="calc(100dvh - 280px)",
            min_height=320,
            # Messages are HTML built by ui.render with every article and user string
            # escaped; Markdown and LaTeX would re-interpret that text, so both are off,
            # and the frontend sanitizer stays on as a second line of defence.
            render_markdown=False,
            sanitize_html=True,
            allow_tags=False,
            latex_delimiters=[],
            buttons=[],  # Gradio's copy buttons would copy the message's HTML source
            feedback_options=None,
            placeholder="Ask about the articles, or pick an example below.",
        )
        # Right above the box, so a long question growing the box never pushes it out of sight.
        page.question_note = gr.HTML(handlers.question_note(), elem_id="nqa-question-note")
        with gr.Row(elem_id="nqa-input-row"):
            page.question = gr.Textbox(
                show_label=False,
                placeholder="Ask a question…",
                elem_id="nqa-question",
                scale=5,
                autofocus=True,
                submit_btn=False,
                max_lines=4,
            )
            page.ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="nqa-ask")
        with gr.Accordion(ALL_ARTICLES, open=False, elem_id="nqa-scope") as page.scope_box:
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
        page.examples = gr.Examples(
            EXAMPLE_QUESTIONS, inputs=[page.question], label="Try asking", api_visibility="private"
        )
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
            page.articles = gr.HTML(elem_id="nqa-articles")
            page.refresh_button = gr.Button("Refresh list", size="sm")
        with gr.Accordion("Add articles", open=False, elem_id="nqa-add"):
            page.files = gr.File(
                label=f"Upload {', '.join(ALLOWED_SUFFIXES)} (up to {MAX_FILE_MB} MB each)",
                file_count="multiple",
                type="filepath",
                height=140,
                elem_id="nqa-upload",
            )
            page.upload_status = gr.HTML(elem_id="nqa-upload-status")  # right by the drop zone
            gr.Markdown("or paste an article:")
            page.paste_title = gr.Textbox(label="Title", max_lines=1, elem_id="nqa-paste-title")
            page.paste_text = gr.Textbox(label="Text", lines=6, elem_id="nqa-paste-text")
            page.paste_source = gr.Textbox(
                label="Source link (optional)", max_lines=1, placeholder="https://…"
            )
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
    for trigger in (page.question.submit, page.ask_button.click):
        trigger(handlers.respond, **chat_io, **_PRIVATE, **_ANSWER).then(**focus)
    # Clicking an example asks it straight away instead of only filling the box.
    page.examples.load_input_event.then(handlers.respond, **chat_io, **_PRIVATE, **_ANSWER).then(**focus)
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

    def scope_choices(chosen_articles=None, chosen_outlets=None):
        # A choice that is gone (a deleted article) leaves the selection too: the dropdown
        # refuses values it does not list.
        articles, outlets = handlers.article_choices()
        ids = {value for _, value in articles}
        return (gr.Dropdown(choices=articles, value=[a for a in chosen_articles or [] if a in ids]),
                gr.Dropdown(choices=outlets, value=[o for o in chosen_outlets or [] if o in outlets]))

    def page_articles(chosen_articles=None, chosen_outlets=None):
        return handlers.articles_html(), *scope_choices(chosen_articles, chosen_outlets)

    def open_source(evt: gr.EventData):
        return handlers.open_source(_event_data(evt)), gr.Column(visible=True)

    def delete_from_page(evt: gr.EventData):
        return handlers.delete_from_page(_event_data(evt))

    picks = [page.pick_articles, page.pick_outlets]
    app.load(page_articles, inputs=picks, outputs=[page.articles, *picks], **_PRIVATE)
    page.refresh_button.click(page_articles, inputs=picks, outputs=[page.articles, *picks], **_PRIVATE)
    page.opener.click(open_source, outputs=[page.source, page.source_panel], concurrency_limit=None,
                      **_PRIVATE).then(None, js=scripts.SCROLL_TO_CITED_JS)
    page.close_button.click(lambda: gr.Column(visible=False), outputs=page.source_panel, queue=False, **_PRIVATE)
    page.deleter.click(delete_from_page, outputs=[page.article_status, page.articles], **_PRIVATE, **_WRITE).then(
        scope_choices, inputs=picks, outputs=picks, **_PRIVATE)
    page.files.upload(
        handlers.add_files, inputs=page.files, outputs=[page.upload_status, page.articles, page.files],
        api_name="add_files", **_WRITE
    ).then(scope_choices, inputs=picks, outputs=picks, **_PRIVATE)
    page.paste_button.click(
        handlers.add_text,
        inputs=[page.paste_title, page.paste_text, page.paste_source],
        outputs=[page.add_status, page.articles, page.paste_title, page.paste_text, page.paste_source],
        api_name="add_text",
        **_WRITE,
    ).then(scope_choices, inputs=picks, outputs=picks, **_PRIVATE)
    page.links_button.click(
        handlers.add_links, inputs=page.links, outputs=[page.links_status, page.articles, page.links],
        api_name="add_links", **_WRITE,
    ).then(scope_choices, inputs=picks, outputs=picks, **_PRIVATE)


def _api_endpoints(handlers: Handlers) -> None:
    """The endpoints for `gradio_client` that no page control carries."""
    gr.api(_api_errors(handlers.ask), api_name="ask", **_ANSWER)
    gr.api(_api_errors(handlers.chat), api_name="chat", **_ANSWER)
    gr.api(_api_errors(handlers.article_list), api_name="articles")
    gr.api(_api_errors(handlers.article_json), api_name="article")
    gr.api(_api_errors(handlers.delete_article), api_name="delete_article", **_WRITE)


def launch_app(
    app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True
) -> str:
    """Start the server with the app's look and upload limit; returns its local URL."""
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        css=style.CSS,
        head=style.HEAD,
        theme=style.THEME,
        # The handler checks sizes too; this stops oversized uploads before they reach the disk.
        max_file_size=MAX_FILE_BYTES,
        show_error=False,
        quiet=not block,
        ssr_mode=False,
        footer_links=["api"],
        # Gradio's own run history would keep a second, unannounced copy of every call in the
        # browser; the one conversation kept there is the one the page tells users about.
        run_history=False,
    )
    return app.local_url


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, *,
          watch: Sequence[str] = (), every_s: float = 900.0) -> None:
    """Load the index (the bundled article's by default), warm the models up, serve until stopped;
    `watch`: feeds polled every `every_s` seconds into the index, through the collection's write
    lock, the one uploads and deletes take (`qa.watch`)."""
    from qa import Assistant  # the models' import cost is paid here, not by `import ui.app`
    from qa.watch import FeedWatcher

    print("Loading the index and the models…", file=sys.stderr, flush=True)
    assistant = Assistant.load(settings.index_dir, settings)
    assistant.warm_up()
    if watch:
        FeedWatcher(assistant.collection, watch, every_s).start()
    launch_app(build_app(assistant), host, port, block=True)
