"""What the chat's events and API endpoints do: ask (with history and a scope), open, list and
delete articles; adding articles is `ui.uploads`'.

Each handler turns user input into one call on `qa.Assistant` and the result into HTML or
JSON. Per-user state (the conversation) arrives as an argument and leaves as a new value, so
concurrent users never share it. The browser keeps the conversation as a list of exchanges,
{"question", "answer" (str or None), "html", "markdown", "counts"}: the reply as shown, as
exported, and whether it is a turn a follow-up is read against (an error is not). Retrieval,
reading and follow-up rewriting stay in `qa`; this module only validates input and formats output.
"""

# No `from __future__ import annotations` here: gr.api reads the endpoint methods' return
# annotations as they are, and needs types, not strings.
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePath
from typing import Any

from qa import is_url, outlet_of, paragraph_numbers, paragraph_spans
from qa.bounded_load import DEFAULT_PARSE_CPU_S, FileParser
from qa.errors import QAError
from qa.formats import result_to_json
from qa.types import Article, AskResult, Turn
from ui import export, panels, render
from ui.assistant_like import AssistantLike
from ui.scope import UserInputError, scope_from_inputs, scope_note, with_undated
from ui.uploads import UNEXPECTED_ERROR, UploadHandlers

log = logging.getLogger(__name__)

# Older turns rarely matter to a follow-up, and an unbounded history would grow each session forever.
MAX_HISTORY_TURNS = 20
# Exchanges kept in the browser: enough to scroll back through. Each is 5-10 KB of HTML and the
# whole conversation travels with every question, so it stays at a few hundred KB.
MAX_KEPT_EXCHANGES = 30
PENDING_HTML = '<div class="nqa-pending">Searching the articles…</div>'
EMPTY_QUESTION = "Type a question about the articles first."
# The article list and the scope picker send a page of articles, never the whole collection
# (100,000 articles would be megabytes on every page load).
ARTICLES_PER_PAGE = 20
CHOICES_SHOWN = 20
GONE_ARTICLE = "This article is no longer in the collection; someone using this server deleted it."


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


def public_source(source: str) -> str:
    """An article's source as users see it: a web address as it is, a file by its name alone.

    Where an article lies on the server (the checkout, a temporary upload folder) is nobody's business.
    """
    if not source or is_url(source):
        return source
    return PurePath(source).name


def public_result(result: AskResult) -> dict:
    """The `qa ask --json` object with each source shown as `public_source` shows it."""
    data = result_to_json(result)
    if data.get("citation"):
        data["citation"]["source"] = public_source(data["citation"]["source"])
    if data.get("candidate") and data["candidate"].get("citation"):
        data["candidate"]["citation"]["source"] = public_source(data["candidate"]["citation"]["source"])
    for passage in data.get("passages") or []:
        passage["source"] = public_source(passage["source"])
    return data


def _clean_conversation(value: Any) -> list[dict]:
    """The conversation the browser kept, without anything malformed (it arrives from the client)."""
    if not isinstance(value, list):
        return []
    kept = []
    for item in value[-MAX_KEPT_EXCHANGES:]:
        if (isinstance(item, dict) and isinstance(item.get("question"), str) and isinstance(item.get("html"), str)
                and isinstance(item.get("markdown"), str) and isinstance(item.get("answer"), (str, type(None)))):
            kept.append({key: item[key] for key in ("question", "answer", "html", "markdown")}
                        | {"counts": item.get("counts") is not False})
    return kept


def messages_for(conversation: list[dict]) -> list[dict]:
    """The chat's messages for a kept conversation."""
    messages = []
    for exchange in conversation:
        messages.append(_message("user", render.question_html(exchange["question"])))
        messages.append(_message("assistant", exchange["html"]))
    return messages


def turns_for(conversation: list[dict]) -> list[Turn]:
    """The history a follow-up is read against: exchanges that failed with an error do not count."""
    return [Turn(e["question"], e["answer"]) for e in conversation if e.get("counts", True)][-MAX_HISTORY_TURNS:]


class Handlers(UploadHandlers):
    """The app's event handlers, bound to one shared, thread-safe assistant."""

    def __init__(self, assistant: AssistantLike, uploads_dir: str | Path | None = None, deletable: bool = True,
                 parse_cpu_s: int = DEFAULT_PARSE_CPU_S):
        self.assistant = assistant
        self.parser = FileParser(parse_cpu_s)  # uploads are read in a worker, each file with a CPU-time limit
        self.deletable = deletable  # False: the article list offers no delete buttons (a read-only server)
        # Files given to `add_files` from inside this folder (the server's upload folder) are
        # deleted once read: the index holds their text, and a copy left there could be fetched.
        self.uploads_dir = Path(uploads_dir).resolve() if uploads_dir is not None else None

    @property
    def max_question_chars(self) -> int | None:
        return self.assistant.settings.max_question_chars

    def question_note(self, problem: str | None = None) -> str:
        return panels.question_note_html(self.max_question_chars, problem)

    # --- chat in the browser -------------------------------------------------------------

    def respond(self, question: str, conversation: list[dict], articles: Any = None, outlets: Any = None,
                since: Any = None, until: Any = None, as_of: Any = None) -> Iterator[tuple]:
        """Show the question at once, then replace the placeholder with the reply.

        Yields (chat messages, kept conversation, question box value, note beside the box). A
        question that cannot be asked stays in the box with the reason beside it.
        """
        question = question or ""
        conversation = _clean_conversation(conversation)
        messages = messages_for(conversation)
        if not question.strip():
            yield messages, conversation, "", self.question_note(EMPTY_QUESTION)
            return
        try:
            scope = scope_from_inputs(articles, outlets, since, until, as_of)
            self.assistant.check_question(question)
        except (QAError, UserInputError) as e:
            yield messages, conversation, question, self.question_note(_sentence(str(e)))
            return
        messages.append(_message("user", render.question_html(question)))
        yield messages + [_message("assistant", PENDING_HTML)], conversation, "", self.question_note()
        note = scope_note(scope)
        try:
            result = self.assistant.ask(question, history=turns_for(conversation), scope=scope)
        except QAError as e:
            exchange = _error_exchange(question, str(e))
        except Exception:
            log.exception("answering %r failed", question)
            exchange = _error_exchange(question, UNEXPECTED_ERROR)
        else:
            note = with_undated(note, result.undated_left_out)
            exchange = {"question": question, "answer": turn_for(question, result).answer,
                        "html": render.answer_html(result, note, self.passage_paragraphs(result)),
                        "markdown": export.exchange_markdown(question, result, scope_note=note), "counts": True}
        conversation = (conversation + [exchange])[-MAX_KEPT_EXCHANGES:]
        yield messages_for(conversation), conversation, "", self.question_note()

    def refuse(self, question: str, conversation: list[dict], problem: str) -> Iterator[tuple]:
        """`respond`'s output for a question not asked now (too many too fast): it stays in the box."""
        conversation = _clean_conversation(conversation)
        yield messages_for(conversation), conversation, question or "", self.question_note(_sentence(problem))

    def restore(self, conversation: list[dict]) -> list[dict]:
        """The chat's messages for the conversation the browser kept across a reload."""
        return messages_for(_clean_conversation(conversation))

    def clear(self) -> tuple[list, list, str, str]:
        return [], [], "", self.question_note()

    # --- the article panel -----------------------------------------------------------------

    def open_source(self, target: Any) -> str:
        """The side panel's HTML for a click on a citation, passage or listed article.

        `target` is {"article": id, "start"?: int, "end"?: int, "quote"?: bool}, offsets into
        the article's text.
        """
        if not isinstance(target, dict) or not isinstance(target.get("article"), str):
            return render.error_html("That link names no article.")
        start, end = target.get("start"), target.get("end")
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
            start = end = None
        try:
            article = self.assistant.collection.article(target["article"])
            if article is None:
                return render.error_html(GONE_ARTICLE)
            info = self._info(article.id)
        except QAError as e:
            return render.error_html(str(e))
        return panels.source_html(article, outlet=info["outlet"] if info else outlet_of(article.source),
                                  source=public_source(article.source), start=start, end=end,
                                  quote=bool(target.get("quote")))

    def _info(self, article_id: str) -> dict | None:
        return next((info for info in self.assistant.collection.article_infos() if info["id"] == article_id), None)

    def delete_from_page(self, target: Any) -> tuple[str, str]:
        """Delete an article the user confirmed deleting in the list. Returns (status, articles HTML)."""
        article_id = target.get("article") if isinstance(target, dict) else None
        try:
            deleted = self.delete_article(article_id)["deleted"]
        except (QAError, UserInputError) as e:
            lines = [("error", _sentence(str(e)))]
        except Exception:
            log.exception("deleting %r failed", article_id)
            lines = [("error", UNEXPECTED_ERROR)]
        else:
            lines = [("ok", f"Deleted “{d['title']}” for everyone using this server.") for d in deleted]
        return panels.status_html(lines), self.articles_html()

    def scope_summary(self, articles: Any = None, outlets: Any = None, since: Any = None,
                      until: Any = None, as_of: Any = None) -> tuple[str, str]:
        """(label of the scope controls, note under them): what the next question will search."""
        try:
            note = scope_note(scope_from_inputs(articles, outlets, since, until, as_of))
        except QAError as e:
            return "Search in: ⚠ check the dates", panels.question_note_html(None, _sentence(str(e)))
        if not note:
            return "Search in: all articles", panels.scope_note_html("Every article is searched. "
                                                                     "Choose articles, outlets or dates to narrow it.")
        return "Search in: " + note.removeprefix("Searched only: "), panels.scope_note_html(
            note.replace("Searched only", "Questions search only") + ". Empty a field to search everything again.")

    def article_choices(self, query: str = "", chosen: Any = None, limit: int = CHOICES_SHOWN,
                        infos: list[dict] | None = None) -> tuple[list[tuple[str, str]], list[str]]:
        """Choices for the scope controls: (label, id) of the chosen articles still indexed and
        of up to `limit` articles matching `query` (newest first), and the outlets. A picker
        of a large collection searches it; it never lists all of it. `infos`: `article_rows()`,
        when the caller has read it already."""
        chosen_ids = [c for c in (chosen or []) if isinstance(c, str)]
        infos = self.article_rows() if infos is None else infos
        by_id = {info["id"]: info for info in infos}
        picked = [by_id[c] for c in dict.fromkeys(chosen_ids) if c in by_id]
        taken = {info["id"] for info in picked}
        shown = picked + [i for i in self._matching(query, infos)[:limit + len(picked)] if i["id"] not in taken]
        articles = [(_choice_label(info), info["id"]) for info in shown[:len(picked) + limit]]
        outlets = sorted({info["outlet"] for info in infos} - {""})
        return articles, outlets

    # --- programmatic endpoints ----------------------------------------------------------

    def ask(self, question: str, articles: list[str] | None = None, outlets: list[str] | None = None,
            since: str | None = None, until: str | None = None, as_of: str | None = None) -> dict:
        """Answer one question; returns the same JSON object as `qa ask --json`.

        Optional: search only these article ids, these outlets, or articles dated from `since`
        to `until` (YYYY-MM-DD, inclusive); `as_of` answers as the collection stood that day.
        """
        scope = scope_from_inputs(articles, outlets, since, until, as_of)
        return public_result(self.assistant.ask(question, scope=scope))

    def chat(self, question: str, history: list[dict] | None = None, articles: list[str] | None = None,
             outlets: list[str] | None = None, since: str | None = None, until: str | None = None,
             as_of: str | None = None) -> dict:
        """Answer a question in a conversation.

        `history` lists the earlier turns, oldest first, as {"question": ..., "answer": ...}
        (answer null when nothing was found); append each reply's question and answer to it.
        The scope parameters (and `as_of`) are those of /ask.
        """
        scope = scope_from_inputs(articles, outlets, since, until, as_of)
        return public_result(self.assistant.ask(question, history=history_from_json(history), scope=scope))

    def article_list(self) -> list[dict]:
        """The indexed articles as {"id", "title", "source", "published", "outlet"} (their text
        left out); a source is a web address or a file's name."""
        return [_public(info) for info in self.article_rows()]

    def article_rows(self) -> list[dict]:
        """Every indexed article's row as the index keeps it (its source not yet made public):
        what one page load reads once for the list, the first screen's line and the pickers,
        which make public only the few rows they show."""
        return self.assistant.collection.article_infos()

    def article_json(self, article_id: str) -> dict:
        """One article: {"id", "title", "outlet", "published", "source", "paragraphs"}.

        Each paragraph is {"number", "start", "end", "text"}: numbered from 1 as citations'
        `paragraphs` count them, with offsets into the article's text, the same offsets as a
        citation's `start` and `end`.
        """
        if not isinstance(article_id, str) or not article_id.strip():
            raise UserInputError("give the id of an article (the /articles endpoint lists them)")
        article = self.assistant.collection.article(article_id.strip())
        if article is None:
            raise UserInputError(f"no article has the id “{article_id.strip()}”")
        info = self._info(article.id)
        return {"id": article.id, "title": article.title, "outlet": info["outlet"] if info else outlet_of(article.source),
                "published": article.published,
                "source": public_source(article.source),
                "paragraphs": [{"number": n, "start": s, "end": e, "text": article.text[s:e]}
                               for n, (s, e) in enumerate(panels.paragraph_spans(article.text), 1)]}

    def delete_article(self, article_id: str) -> dict:
        """Delete one article, by id, for everyone using this server: {"deleted": [{"id", "title"}]}."""
        if not isinstance(article_id, str) or not article_id.strip():
            raise UserInputError("give the id of an article (the /articles endpoint lists them)")
        # Ids only: `remove` also takes paths and addresses, which are not the API's to name.
        info = self._info(article_id.strip())
        if info is None:
            raise UserInputError(f"no article has the id “{article_id.strip()}”")
        removed = self.assistant.collection.remove([info["id"]])
        return {"deleted": [{"id": a.id, "title": a.title} for a in removed]}

    # --- articles ------------------------------------------------------------------------

    def _matching(self, query: str, infos: list[dict] | None = None) -> list[dict]:
        """The articles whose title or outlet holds every word of `query`, newest added first."""
        infos = list(reversed(self.article_rows() if infos is None else infos))
        words = (query or "").casefold().split()
        if not words:
            return infos
        return [info for info in infos
                if all(w in f"{info['title']} {info['outlet']}".casefold() for w in words)]

    def articles_html(self, query: str = "", page: Any = 1) -> str:
        """One page (`ARTICLES_PER_PAGE`) of the article list, newest first, of those matching `query`."""
        try:
            return self.articles_page(query, page)[0]
        except QAError as e:
            return render.error_html(str(e))

    def articles_page(self, query: str = "", page: Any = 1, infos: list[dict] | None = None) -> tuple[str, int]:
        """(the list's HTML, the page shown): a page past the last shows the last. `infos`:
        `article_rows()`, when the caller has read it already."""
        return self.articles_listing(query, page, infos)[:2]

    def articles_listing(self, query: str = "", page: Any = 1,
                         infos: list[dict] | None = None) -> tuple[str, int, int]:
        """`articles_page`, with the number of pages the search fills."""
        query = (query or "").strip()[:200]
        infos = self.article_rows() if infos is None else infos
        total = len(infos)
        found = self._matching(query, infos)
        pages = max(1, -(-len(found) // ARTICLES_PER_PAGE))
        page = min(max(1, int(page) if isinstance(page, (int, float)) and not isinstance(page, bool) else 1), pages)
        first = (page - 1) * ARTICLES_PER_PAGE
        shown = [_public(info) for info in found[first:first + ARTICLES_PER_PAGE]]
        return panels.articles_html(shown, deletable=self.deletable,
                                    total=total, first=first + 1,
                                    matching=len(found), query=query), page, pages

    def collection_summary(self, infos: list[dict] | None = None) -> str:
        """The first screen's line: how many articles are loaded and which is the newest.
        `infos`: `article_rows()`, when the caller has read it already."""
        try:
            infos = self.article_rows() if infos is None else infos
        except QAError as e:
            return render.error_html(str(e))
        # newest by its stated date; among undated ones (or equal dates), the last added
        newest = max(reversed(infos), key=lambda i: (i.get("published") or "")[:10], default=None)
        return panels.collection_html(len(infos), newest)

    def passage_paragraphs(self, result: AskResult) -> dict[tuple[str, int, int], tuple[int, ...]]:
        """The article paragraphs each passage read lies in, as citations number them, so that
        "Other passages read" counts as the citation's "¶" does."""
        numbers: dict[tuple[str, int, int], tuple[int, ...]] = {}
        spans: dict[str, list[tuple[int, int]]] = {}
        for p in result.passages:
            if p.article_id not in spans:
                article = self.assistant.collection.article(p.article_id)
                spans[p.article_id] = paragraph_spans(article.text) if article is not None else []
            numbers[(p.article_id, p.start, p.end)] = paragraph_numbers(spans[p.article_id], p.start, p.end)
        return numbers

def _sentence(message: str) -> str:
    """An error message as a sentence beside the question box."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


def _error_exchange(question: str, message: str) -> dict:
    # A failed question leaves the history as it was: it is shown, but not read as a turn.
    return {"question": question, "answer": None, "html": render.error_html(message),
            "markdown": export.exchange_markdown(question, error=message), "counts": False}


def _public(info: dict) -> dict:
    """An article's row as users see it: {"id", "title", "source", "published", "outlet"}, its
    source a web address or a file's name."""
    return {"id": info["id"], "title": info["title"], "source": public_source(info.get("source") or ""),
            "published": info.get("published"), "outlet": info["outlet"]}


def _choice_label(info: dict) -> str:
    """An article in the scope picker: its title, and its outlet and date to tell same-titled ones apart."""
    extra = [part for part in (info["outlet"], info.get("published")) if part]
    return info["title"] + (f" ({', '.join(extra)})" if extra else "")
