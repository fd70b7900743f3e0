"""Adding articles from the browser: uploaded files and pasted text, checked before indexing.

An upload is indexed under its file name, never its path on the server, and deleted from
Gradio's upload folder once read. Status lines name files, never server paths.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from qa import is_url
from qa.collection import Collection
from qa.errors import QAError
from ui import panels, render

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILE_MB = MAX_FILE_BYTES // (1024 * 1024)
MAX_FILES_PER_UPLOAD = 20
UNEXPECTED_ERROR = "Something went wrong on the server; its log has the details."


def _without_path(text: str, path: Path) -> str:
    """A message about an upload with its server path replaced by the file's name."""
    for form in sorted({str(path), str(path.resolve())}, key=len, reverse=True):
        text = text.replace(form, path.name)
    return text


class UploadHandlers:
    """The add-articles handlers of `ui.handlers.Handlers` (which supplies `assistant`,
    `uploads_dir`, `parser` and `articles_html`)."""

    def add_files(self, paths: Sequence[str] | None, outlet: str = "", published: str = "") -> tuple[str, str, None]:
        """Add uploaded files one by one, so one bad file does not block the others. `outlet` and
        `published` (YYYY-MM-DD), both optional, are given to every article that states none.

        Returns (status HTML, articles HTML, None to clear the upload box).
        """
        paths = list(paths or [])
        lines: list[tuple[str, str]] = []
        given = _given(outlet, published)
        if isinstance(given, str):  # refused whole, as a batch too large is: the date applies to every file
            self.discard_uploads(paths)
            return panels.status_html([("error", given + " No files were added.")]), self.articles_html(), None
        if not paths:
            lines.append(("error", "Choose one or more files to add."))
        elif len(paths) > MAX_FILES_PER_UPLOAD:
            # refused whole, and every file of it deleted: none is read, none stays behind
            self.discard_uploads(paths)
            lines.append(("error", f"Up to {MAX_FILES_PER_UPLOAD} files at a time, please; none were added."))
            return panels.status_html(lines), self.articles_html(), None
        for raw in paths:
            path = Path(raw)
            try:
                problem = check_upload(path)
                if problem:
                    lines.append(("error", f"{path.name}: {problem}"))
                    continue
                lines.extend(self._add_one(path, given))
            finally:
                self._discard_upload(path)
        return panels.status_html(lines), self.articles_html(), None

    def _add_one(self, path: Path, given: tuple = (None, None)) -> list[tuple[str, str]]:
        """Index one uploaded file under its name, never its server path; status lines say how it went."""
        name = path.name
        try:
            articles, lines = self._read_one(path, given)
            if not articles:
                return lines
            # An upload never replaces an indexed article that happens to share its file name:
            # two users' "article.txt" are two articles.
            added = self.assistant.collection.add(articles, replace=False)
        except QAError as e:
            return [("error", f"{name}: {_without_path(str(e), path)}")]
        except Exception:
            log.exception("adding %s failed", path)
            return [("error", f"{name}: {UNEXPECTED_ERROR}")]
        if not added:
            return lines + [("ok", f"{name}: already indexed.")]
        return lines + [("ok", f"Added “{article.title}”.") for article in added]

    def _read_one(self, path: Path, given: tuple = (None, None)) -> tuple[list, list[tuple[str, str]]]:
        """The articles of one uploaded file (sources named after the file, the `given` (outlet,
        published) where they state none) and status lines about it."""
        name = path.name
        report = self.parser.load(path)  # in a worker, with a CPU-time limit
        lines = [("error", f"{_upload_source(where, path)}: "
                           f"{_without_path(reason, path).removeprefix(f'{name}: ')}")
                 for where, reason in report.skipped]
        # what was dropped from an article that was still added (a javascript: link, a date
        # that is not one): the uploader is told, not only the server's log
        lines += [("warning", f"{_upload_source(where, path)}: {_without_path(what, path)}")
                  for where, what in report.warnings]
        articles = [dataclasses.replace(a, source=_upload_source(a.source, path)) for a in report.articles]
        if any(given):
            articles = Collection.with_given_facts(articles, given[1], given[0])
        if not articles:
            return [], lines or [("error", f"{name}: no article found in this file.")]
        return articles, lines

    @staticmethod
    def is_large(paths: Sequence[str] | None, min_bytes: int) -> bool:
        """Whether an upload is large enough to run as a job (all its files together)."""
        total = 0
        for raw in paths or []:
            try:
                total += Path(raw).stat().st_size
            except (OSError, TypeError, ValueError):
                continue
        return total >= min_bytes and len(paths or []) <= MAX_FILES_PER_UPLOAD

    def run_upload_job(self, paths: Sequence[str], job, writing, chunk_articles: int, outlet: str = "",
                       published: str = "") -> None:
        """Read the files, then add their articles `chunk_articles` at a time, each chunk inside
        `writing()` (who is writing, and the server's write gate); `job` shows how far it got."""
        job.state = "reading"
        articles = []
        given = _given(outlet, published)
        if isinstance(given, str):
            job.lines.append(("error", given + " No files were added."))
            self.discard_uploads(paths)
            paths = []
        for raw in paths:
            path = Path(raw)
            try:
                problem = check_upload(path)
                if problem:
                    job.lines.append(("error", f"{path.name}: {problem}"))
                    continue
                found, lines = self._read_one(path, given)
                job.lines.extend(lines)
                articles.extend(found)
            except QAError as e:
                job.lines.append(("error", f"{path.name}: {_without_path(str(e), path)}"))
            finally:
                self._discard_upload(path)
            job.articles_read = len(articles)
        job.state = "adding"
        for start in range(0, len(articles), chunk_articles):
            chunk = articles[start:start + chunk_articles]
            with writing():
                added = self.assistant.collection.add(chunk, replace=False)
            job.articles_done += len(chunk)
            job.articles_added += len(added)
        known = job.articles_done - job.articles_added
        job.lines.append(("ok", f"Added {job.articles_added:,} article(s)"
                                + (f"; {known:,} were indexed already" if known else "") + "."))

    def discard_uploads(self, paths: Sequence[str] | None) -> None:
        """Delete uploaded files that will not be read (a refused upload)."""
        for raw in paths or []:
            if isinstance(raw, str) and raw:
                self._discard_upload(Path(raw))

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

    # Links that name this machine or its private network are not fetched from the server (a
    # user of a shared server could otherwise read its internal services); a test's local site
    # switches this on.
    fetch_private_links = False

    def add_links(self, text: str) -> tuple[str, str, str]:
        """Add the articles at the links typed (one per line or separated by spaces): pages, feeds,
        sitemaps, PDFs. Returns (status, articles, the box's value: cleared once all were added)."""
        links = (text or "").split()
        if not links:
            return panels.status_html([("error", "Paste one or more links starting with http:// or https://.")]), \
                self.articles_html(), text or ""
        if len(links) > MAX_FILES_PER_UPLOAD:
            return panels.status_html([("error", f"Up to {MAX_FILES_PER_UPLOAD} links at a time, please; "
                                                 "none were added.")]), self.articles_html(), text
        lines = []
        good = []
        for link in links:
            problem = check_link(link)
            if problem:
                lines.append(("error", f"{link}: {problem}"))
            else:
                good.append(link)
        if good:
            collection = self.assistant.collection
            try:
                added = collection.add(good, public_links_only=not self.fetch_private_links)
            except QAError as e:
                added = []
                if not collection.last_load_report or not collection.last_load_report.skipped:
                    lines.append(("error", str(e)))
            except Exception:
                log.exception("adding links %s failed", good)
                return panels.status_html(lines + [("error", UNEXPECTED_ERROR)]), self.articles_html(), text
            report = collection.last_load_report
            lines += [("error", f"{where}: {reason}") for where, reason in (report.skipped if report else [])]
            result = collection.last_add_result
            copies = result.copies if result else {}
            lines += [("ok", f"Added “{a.title}”" + (" (a copy of a story already indexed)." if a.id in copies else "."))
                      for a in added]
            if not added and not lines:
                lines.append(("ok", "Already indexed."))
        failed = any(kind == "error" for kind, _ in lines)
        return panels.status_html(lines), self.articles_html(), text if failed else ""

    def add_text(self, title: str, text: str, source: str, outlet: str = "",
                 published: str = "") -> tuple[str, ...]:
        """Add a pasted article. Returns (status, articles, title, text, source, outlet, published
        box values).

        The boxes are cleared after a success and kept after a failure, so nothing typed is lost.
        """
        title, text, source = (title or "").strip(), text or "", (source or "").strip()
        outlet, published = (outlet or "").strip(), (published or "").strip()
        keep = (title, text, source, outlet, published)
        problem = check_pasted(title, text, source) or check_outlet_and_date(outlet, published)
        if problem:
            return panels.status_html([("error", problem)]), self.articles_html(), *keep
        try:
            article = self.assistant.collection.add_text(title, text, source, published or None, outlet or None)
        except QAError as e:
            return panels.status_html([("error", str(e))]), self.articles_html(), *keep
        except Exception:
            log.exception("adding pasted article %r failed", title)
            return panels.status_html([("error", UNEXPECTED_ERROR)]), self.articles_html(), *keep
        if article is None:
            status = [("ok", f"“{title}” is already indexed.")]
        else:
            status = [("ok", f"Added “{article.title}”{_dated(article)}.")]
        return panels.status_html(status), self.articles_html(), "", "", "", "", ""


def _upload_source(source: str, path: Path) -> str:
    """An uploaded article's source: the web address the file names, else the file's name
    (with "#n" for the n-th record of a JSON file)."""
    if is_url(source):
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


def check_link(link: str) -> str | None:
    """Why a typed link cannot be fetched, or None if it can (where it leads is the fetch's to check)."""
    if render.safe_link(link) is None:
        return "not a web address starting with http:// or https://."
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


def check_outlet_and_date(outlet: str, published: str) -> str | None:
    """Why a typed outlet or published date is refused before indexing, or None (whether the
    date is a real day the collection checks, and says why not: a date is never guessed)."""
    if len(outlet) > 100:
        return "The outlet's name is over 100 characters."
    if published and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", published):
        return f"The published date must be written YYYY-MM-DD, such as 2017-11-21; “{published}” is not."
    return None


def _dated(article) -> str:
    """" (The Guardian, 2017-11-21)" for what the article states, "" when it states neither."""
    facts = [f for f in (article.site_name, article.published) if f]
    return f" ({', '.join(facts)})" if facts else ""


def _given(outlet: str | None, published: str | None) -> tuple[str | None, str | None] | str:
    """(outlet, published) typed for an upload, or why they are refused."""
    outlet, published = (outlet or "").strip(), (published or "").strip()
    problem = check_outlet_and_date(outlet, published)
    if problem is None and published:
        try:
            Collection.with_given_facts([], published)
        except QAError as e:
            problem = str(e)[0].upper() + str(e)[1:] + "."
    return problem if problem else (outlet or None, published or None)
