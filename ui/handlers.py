"""What the chat's events do: ask with history, add uploaded or pasted articles, list articles.

Each handler turns user input into one call on `qa.Assistant` and the result into chat HTML
or JSON. Per-user state (the conversation) arrives as an argument and leaves as a new value,
so concurrent users never share it. Retrieval, reading and follow-up rewriting stay in `qa`;
this module only validates input (types, sizes, empty fields) and formats output.
"""

# No `from __future__ import annotations` here: gr.api reads the endpoint methods' return
# annotations as they are, and needs types, not strings.
import dataclasses
import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePath
from typing import Any, Protocol

from qa import load_paths
from qa.errors import QAError
from qa.render import result_to_json
from qa.types import Article, AskResult, Turn
from ui import render

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILE_MB = MAX_FILE_BYTES // (1024 * 1024)
MAX_FILES_PER_UPLOAD = 20
# Older turns rarely matter to a follow-up, and an unbounded history would grow each session forever.
MAX_HISTORY_TURNS = 20
PENDING_HTML = '<div class="nqa-pending">Searching the articles…</div>'
UNEXPECTED_ERROR = "Something went wrong on the server; its log has the details."


class AssistantLike(Protocol):
    def ask(self, question: str, history: list[Turn] | None = None, *, top_k: int | None = None) -> AskResult: ...
    def add(self, sources: list[str | Path | Article], *, replace: bool = True) -> list[Article]: ...
    def add_text(self, title: str, text: str, source: str = "") -> Article | None: ...
    def articles(self) -> list[Article]: ...


class UserInputError(ValueError):
    """Input the API rejects before it reaches the assistant (e.g. a malformed history)."""


def _message(role: str, html_text: str) -> dict:
    # A typed text part skips the Chatbot's `inspect.cleandoc`, which would alter the text.
    return {"role": role, "content": {"type": "text", "text": html_text}}


def history_from_json(history: Any) -> list[Turn]:
    """Turns from the API's history: a list of {"question": str, "answer": str | null}."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise UserInputError('history must be a list of {"question": ..., "answer": ...} objects')
    turns = []
    for i, item in enumerate(history):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise UserInputError(f'history[{i}] must be an object with a "question" string')
        answer = item.get("answer")
        if answer is not None and not isinstance(answer, str):
            raise UserInputError(f'history[{i}].answer must be a string or null')
        turns.append(Turn(item["question"], answer))
    return turns[-MAX_HISTORY_TURNS:]


def turn_for(question: str, result: AskResult) -> Turn:
    return Turn(question, result.answer if result.found else None)


def _is_url(source: str) -> bool:
    return bool(re.match(r"https?://", source, re.IGNORECASE))


def public_source(source: str) -> str:
    """An article's source as users see it: a web address as it is, a file by its name alone.

    Where an article lies on the server (the checkout, a temporary upload folder) is nobody's business.
    """
    if not source or _is_url(source):
        return source
    return PurePath(source).name


def public_result(result: AskResult) -> dict:
    """The `qa ask --json` object with each source shown as `public_source` shows it."""
    data = result_to_json(result)
    if data.get("citation"):
        data["citation"]["source"] = public_source(data["citation"]["source"])
    for passage in data.get("passages") or []:
        passage["source"] = public_source(passage["source"])
    return data


def _without_path(text: str, path: Path) -> str:
    """A message about an upload with its server path replaced by the file's name."""
    for form in sorted({str(path), str(path.resolve())}, key=len, reverse=True):
        text = text.replace(form, path.name)
    return text


class Handlers:
    """The app's event handlers, bound to one shared, thread-safe assistant."""

    def __init__(self, assistant: AssistantLike, uploads_dir: str | Path | None = None):
        self.assistant = assistant
        # Files given to `add_files` from inside this folder (the server's upload folder) are
        # deleted once read: the index holds their text, and a copy left there could be fetched.
        self.uploads_dir = Path(uploads_dir).resolve() if uploads_dir is not None else None

    # --- chat in the browser -------------------------------------------------------------

    def respond(self, question: str, turns: list[Turn], messages: list[dict]) -> Iterator[tuple]:
        """Show the question at once, then replace the placeholder with the answer.

        Yields (chat messages, conversation turns, question box value).
        """
        question = question or ""
        turns = list(turns or [])
        messages = list(messages or [])
        if not question.strip():
            yield messages, turns, ""
            return
        messages.append(_message("user", render.question_html(question)))
        yield messages + [_message("assistant", PENDING_HTML)], turns, ""
        try:
            result = self.assistant.ask(question, history=turns[-MAX_HISTORY_TURNS:])
        except QAError as e:
            reply = render.error_html(str(e))
        except Exception:
            log.exception("answering %r failed", question)
            reply = render.error_html(UNEXPECTED_ERROR)
        else:
            reply = render.answer_html(result)
            turns = (turns + [turn_for(question, result)])[-MAX_HISTORY_TURNS:]
        yield messages + [_message("assistant", reply)], turns, ""

    @staticmethod
    def clear() -> tuple[list, list, str]:
        return [], [], ""

    # --- programmatic endpoints ----------------------------------------------------------

    def ask(self, question: str) -> dict:
        """Answer one question; returns the same JSON object as `qa ask --json`."""
        return public_result(self.assistant.ask(question))

    def chat(self, question: str, history: list[dict] | None = None) -> dict:
        """Answer a question in a conversation.

        `history` lists the earlier turns, oldest first, as {"question": ..., "answer": ...}
        (answer null when nothing was found); append each reply's question and answer to it.
        """
        return public_result(self.assistant.ask(question, history=history_from_json(history)))

    def article_list(self) -> list[dict]:
        """The indexed articles as {"id", "title", "source", "published"} (their text left out);
        a source is a web address or a file's name."""
        return [{"id": a.id, "title": a.title, "source": public_source(a.source), "published": a.published}
                for a in self.assistant.articles()]

    # --- articles ------------------------------------------------------------------------

    def articles_html(self) -> str:
        try:
            return render.articles_html(self.assistant.articles())
        except QAError as e:
            return render.error_html(str(e))

    def add_files(self, paths: Sequence[str] | None) -> tuple[str, str, None]:
        """Add uploaded files one by one, so one bad file does not block the others.

        Returns (status HTML, articles HTML, None to clear the upload box).
        """
        paths = list(paths or [])
        lines: list[tuple[str, str]] = []
        if not paths:
            lines.append(("error", "Choose one or more files to add."))
        elif len(paths) > MAX_FILES_PER_UPLOAD:
            lines.append(("error", f"Up to {MAX_FILES_PER_UPLOAD} files at a time, please; none were added."))
            paths = []
        for raw in paths:
            path = Path(raw)
            try:
                problem = check_upload(path)
                if problem:
                    lines.append(("error", f"{path.name}: {problem}"))
                    continue
                lines.extend(self._add_one(path))
            finally:
                self._discard_upload(path)
        return render.status_html(lines), self.articles_html(), None

    def _add_one(self, path: Path) -> list[tuple[str, str]]:
        """Index one uploaded file under its name, never its server path; status lines say how it went."""
        name = path.name
        try:
            report = load_paths([path])
            lines = [("error", f"{_upload_source(where, path)}: "
                               f"{_without_path(reason, path).removeprefix(f'{name}: ')}")
                     for where, reason in report.skipped]
            articles = [dataclasses.replace(a, source=_upload_source(a.source, path)) for a in report.articles]
            if not articles:
                return lines or [("error", f"{name}: no article found in this file.")]
            # An upload never replaces an indexed article that happens to share its file name:
            # two users' "article.txt" are two articles.
            added = self.assistant.add(articles, replace=False)
        except QAError as e:
            return [("error", f"{name}: {_without_path(str(e), path)}")]
        except Exception:
            log.exception("adding %s failed", path)
            return [("error", f"{name}: {UNEXPECTED_ERROR}")]
        if not added:
            return lines + [("ok", f"{name}: already indexed.")]
        return lines + [("ok", f"Added “{article.title}”.") for article in added]

    def _discard_upload(self, path: Path) -> None:
        """Delete an uploaded file, and its folder once empty, when it lies in the upload folder."""
        if self.uploads_dir is None:
            return
        try:
            resolved = path.resolve()
            if resolved == self.uploads_dir or not resolved.is_relative_to(self.uploads_dir):
                return
            resolved.unlink(missing_ok=True)
            if resolved.parent != self.uploads_dir:
                resolved.parent.rmdir()  # Gradio gives each upload a folder of its own
        except OSError:
            pass  # the folder holds another upload (or is gone); Gradio's hourly sweep is the fallback

    def add_text(self, title: str, text: str, source: str) -> tuple[str, str, str, str, str]:
        """Add a pasted article. Returns (status, articles, title, text, source box values).

        The boxes are cleared after a success and kept after a failure, so nothing typed is lost.
        """
        title, text, source = (title or "").strip(), text or "", (source or "").strip()
        keep = (title, text, source)
        problem = check_pasted(title, text, source)
        if problem:
            return render.status_html([("error", problem)]), self.articles_html(), *keep
        try:
            article = self.assistant.add_text(title, text, source)
        except QAError as e:
            return render.status_html([("error", str(e))]), self.articles_html(), *keep
        except Exception:
            log.exception("adding pasted article %r failed", title)
            return render.status_html([("error", UNEXPECTED_ERROR)]), self.articles_html(), *keep
        if article is None:
            status = [("ok", f"“{title}” is already indexed.")]
        else:
            status = [("ok", f"Added “{article.title}”.")]
        return render.status_html(status), self.articles_html(), "", "", ""


def _upload_source(source: str, path: Path) -> str:
    """An uploaded article's source: the web address the file names, else the file's name
    (with "#n" for the n-th record of a JSON file)."""
    if _is_url(source):
        return source
    for form in sorted({str(path), str(path.resolve())}, key=len, reverse=True):
        if source.startswith(form):
            return path.name + source[len(form):]
    return path.name


def check_upload(path: Path) -> str | None:
    """Why an uploaded file cannot be added, or None if it can."""
    if path.suffix.lower() not in ALLOWED_SUFFIXES:
        return "only " + ", ".join(ALLOWED_SUFFIXES) + " files can be added."
    try:
        size = path.stat().st_size
    except OSError:
        return "the upload did not arrive; try again."
    if size > MAX_FILE_BYTES:
        return f"{size / (1024 * 1024):.1f} MB is over the {MAX_FILE_MB} MB limit per file."
    if size == 0:
        return "the file is empty."
    return None


def check_pasted(title: str, text: str, source: str) -> str | None:
    """Why a pasted article cannot be added, or None if it can."""
    if not title:
        return "Give the article a title."
    if not text.strip():
        return "Paste the article's text."
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        return f"The text is over the {MAX_FILE_MB} MB limit."
    if source and render.safe_link(source) is None:
        return "The source must be a web address starting with http:// or https:// (or left empty)."
    return None
