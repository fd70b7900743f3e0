"""The Gradio chat over `qa.Assistant`: layout, event wiring, API endpoints and `serve`.

Endpoints for `gradio_client`: `/ask` (question -> the `qa ask --json` object), `/chat`
(question + history -> the same object), `/articles` (the indexed articles), `/add_files` and
`/add_text`; no others, and none of them outside the queue. The browser chat keeps each user's
conversation in `gr.State`. Questions arriving together are read in one batch (`ui.batcher`);
beyond `QUEUE_SIZE` waiting events a caller is told the server is busy instead of waiting
without end. What the events do lives in `ui.handlers`, the message HTML in `ui.render`;
answering is entirely `qa`'s.
"""

from __future__ import annotations

import functools
import html
import sys
from typing import TYPE_CHECKING

import gradio as gr
from gradio.utils import get_upload_folder

from qa.errors import QAError
from ui import style
from ui.batcher import MAX_BATCH, BatchingAssistant
from ui.handlers import (
    ALLOWED_SUFFIXES,
    MAX_FILE_BYTES,
    MAX_FILE_MB,
    AssistantLike,
    Handlers,
    UserInputError,
)

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
INTRO = (
    f"# {TITLE}\n"
    "Ask a question about the articles. Every answer is quoted word for word from an article, "
    "with the paragraph it comes from; when the articles don't say, you are told so."
)


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


def build_app(assistant: AssistantLike, *, queue_size: int = QUEUE_SIZE, max_batch: int = MAX_BATCH) -> gr.Blocks:
    """The chat app over one shared, thread-safe assistant; launch it with `launch_app`.

    `max_batch` questions at most are read together (1: one at a time, for comparison).
    """
    # Uploads are deleted from Gradio's upload folder once indexed.
    handlers = Handlers(BatchingAssistant(assistant, max_batch=max_batch), uploads_dir=get_upload_folder())
    answer = {"concurrency_limit": ANSWER_CONCURRENCY, "concurrency_id": "answer"}
    # Index writes go one at a time so two uploads never race to save the index folder.
    write = {"concurrency_limit": 1, "concurrency_id": "index-write"}

    # Uploads are deleted once indexed; the hourly sweep removes any that never reached a handler.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        turns = gr.State([])  # this user's conversation: list[qa.types.Turn]
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,  # its floating badge would cover scrolled messages
                    elem_id="nqa-chat",
                    height=560,
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
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask a question…",
                        elem_id="nqa-question",
                        scale=5,
                        autofocus=True,
                        submit_btn=False,
                    )
                    ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="nqa-ask")
                examples = gr.Examples(
                    EXAMPLE_QUESTIONS, inputs=[question], label="Try asking", api_visibility="private"
                )
                clear_button = gr.Button("Clear chat", variant="secondary", size="sm", elem_id="nqa-clear")

            with gr.Column(scale=2, min_width=320):
                with gr.Accordion("Articles", open=True):
                    articles = gr.HTML(elem_id="nqa-articles")
                    refresh_button = gr.Button("Refresh list", size="sm")
                with gr.Accordion("Add articles", open=False, elem_id="nqa-add"):
                    files = gr.File(
                        label=f"Upload {', '.join(ALLOWED_SUFFIXES)} (up to {MAX_FILE_MB} MB each)",
                        file_count="multiple",
                        type="filepath",
                        height=140,
                        elem_id="nqa-upload",
                    )
                    gr.Markdown("or paste an article:")
                    paste_title = gr.Textbox(label="Title", max_lines=1, elem_id="nqa-paste-title")
                    paste_text = gr.Textbox(label="Text", lines=6, elem_id="nqa-paste-text")
                    paste_source = gr.Textbox(
                        label="Source link (optional)", max_lines=1, placeholder="https://…"
                    )
                    paste_button = gr.Button("Add article", elem_id="nqa-paste-add")
                    add_status = gr.HTML(elem_id="nqa-add-status")

        chat_io = {"inputs": [question, turns, chatbot], "outputs": [chatbot, turns, question]}
        for trigger in (question.submit, ask_button.click):
            trigger(handlers.respond, **chat_io, api_visibility="private", **answer)
        # Clicking an example asks it straight away instead of only filling the box.
        examples.load_input_event.then(handlers.respond, **chat_io, api_visibility="private", **answer)
        # The chatbot's own trash icon must forget the conversation too, not only hide it.
        for trigger in (clear_button.click, chatbot.clear):
            trigger(handlers.clear, outputs=[chatbot, turns, question], api_visibility="private", queue=False)

        app.load(handlers.articles_html, outputs=articles, api_visibility="private")
        refresh_button.click(handlers.articles_html, outputs=articles, api_visibility="private")
        files.upload(
            handlers.add_files, inputs=files, outputs=[add_status, articles, files], api_name="add_files", **write
        )
        paste_button.click(
            handlers.add_text,
            inputs=[paste_title, paste_text, paste_source],
            outputs=[add_status, articles, paste_title, paste_text, paste_source],
            api_name="add_text",
            **write,
        )

        gr.api(_api_errors(handlers.ask), api_name="ask", **answer)
        gr.api(_api_errors(handlers.chat), api_name="chat", **answer)
        gr.api(_api_errors(handlers.article_list), api_name="articles")

    # api_open=False: the REST routes (/gradio_api/run/...) would otherwise answer outside the
    # queue, past its size limit and concurrency, and run the page's private events by number.
    app.queue(default_concurrency_limit=ANSWER_CONCURRENCY, max_size=queue_size, api_open=False)
    return app


def launch_app(
    app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True
) -> str:
    """Start the server with the app's look and upload limit; returns its local URL."""
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        css=style.CSS,
        theme=style.THEME,
        # The handler checks sizes too; this stops oversized uploads before they reach the disk.
        max_file_size=MAX_FILE_BYTES,
        show_error=False,
        quiet=not block,
        ssr_mode=False,
        footer_links=["api"],
        run_history=False,  # questions stay out of the browser's storage
    )
    return app.local_url


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the index (the bundled article's by default), warm the models up, serve until stopped."""
    from qa import Assistant  # the models' import cost is paid here, not by `import ui.app`

    print("Loading the index and the models…", file=sys.stderr, flush=True)
    assistant = Assistant.load(settings.index_dir, settings)
    assistant.warm_up()
    launch_app(build_app(assistant), host, port, block=True)
