"""Load articles from files: plain text, Markdown, saved HTML pages, JSON / JSON lines, SQuAD JSON, folders.

Each loader returns `Article`s whose `text` is the cleaned body; offsets elsewhere point into
it. A file that cannot be an article (binary, not UTF-8, empty) is skipped with a reason, so a
folder with one bad file still loads the rest. What this leaves out: splitting into passages.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from index.clean import clean_article_text, normalize_text
from index.ids import article_id
from index.types import Article
from index.errors import BadArticleError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text", ""}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: list[str]
    is_impossible: bool
    article_id: str
    context_start: int  # the question's paragraph: article.text[context_start:context_end]
    context_end: int


@dataclass
class LoadReport:
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def read_text_file(path: Path) -> str:
    """The file's text, or BadArticleError saying why it is not a text article."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BadArticleError(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES // 2**20} MiB limit")
        data = path.read_bytes()
    except OSError as e:
        raise BadArticleError(f"{path}: cannot read ({e.strerror or e})") from e
    if b"\x00" in data[:8192]:
        raise BadArticleError(f"{path}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadArticleError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8 and try again") from e


def make_article(raw_text: str, source: str, title: str | None = None, published: str | None = None) -> Article:
    title, body = clean_article_text(raw_text, title)
    if not body.strip():
        raise BadArticleError(f"{source or 'pasted text'}: the article is empty after cleaning")
    return Article(article_id(title, body), title, source, published, body)


def load_text(path: Path) -> list[Article]:
    return [make_article(read_text_file(path), str(path))]


def load_markdown(path: Path) -> list[Article]:
    """Markdown to plain text with markdown-it's parser: headings and paragraphs keep their words."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(read_text_file(path))
    title, blocks, in_heading = None, [], False
    for token in tokens:
        if token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "inline":
            text = "".join(" " if child.type in ("softbreak", "hardbreak") else child.content
                           for child in token.children or [] if child.type in ("text", "code_inline", "softbreak", "hardbreak"))
            text = text or token.content
            if in_heading and title is None:
                title = text
            else:
                blocks.append(text)
    return [make_article("\n".join(blocks), str(path), title)]


def load_html(path: Path) -> list[Article]:
    """Main text of a saved web page, by trafilatura (boilerplate, menus and comments removed)."""
    import trafilatura

    html = read_text_file(path)
    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True)
    if not text:
        raise BadArticleError(f"{path}: no article text found in this HTML page")
    meta = trafilatura.extract_metadata(html)
    title = meta.title if meta and meta.title else None
    published = meta.date if meta and meta.date else None
    source = meta.url if meta and meta.url else str(path)
    return [make_article(text, source, title, published)]


def _record_to_article(record: dict, path: Path, n: int) -> Article:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise BadArticleError(f"{path}: record {n} needs a 'text' string (and a 'title')")
    title = record.get("title")
    return make_article(record["text"], record.get("url") or str(path),
                        str(title) if title else None, record.get("published"))


def is_squad(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("data"), list) and all(
        isinstance(a, dict) and "paragraphs" in a for a in data["data"][:3])


def load_json(path: Path, report: LoadReport) -> None:
    try:
        data = json.loads(read_text_file(path))
    except json.JSONDecodeError as e:
        raise BadArticleError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from e
    if is_squad(data):
        report.articles.extend(squad_articles(data)[0])
        return
    records = data if isinstance(data, list) else [data]
    _add_records(records, path, report)


def load_jsonl(path: Path, report: LoadReport) -> None:
    records = []
    for n, line in enumerate(read_text_file(path).splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                report.skipped.append((f"{path}:{n}", f"not valid JSON ({e.msg})"))
    _add_records(records, path, report)


def _add_records(records: list, path: Path, report: LoadReport) -> None:
    for n, record in enumerate(records, 1):
        try:
            report.articles.append(_record_to_article(record, path, n))
        except BadArticleError as e:
            report.skipped.append((f"{path}#{n}", str(e)))


def squad_articles(data: dict) -> tuple[list[Article], list[SquadQuestion]]:
    """One article per SQuAD title, its contexts as paragraphs, kept verbatim (no cleaning)."""
    articles, questions = [], []
    for entry in data["data"]:
        contexts = [p["context"] for p in entry["paragraphs"]]
        text = "\n\n".join(contexts)
        title = entry.get("title", "").replace("_", " ")
        aid = article_id(title, text)
        articles.append(Article(aid, title, "", None, text))
        offset = 0
        for paragraph, context in zip(entry["paragraphs"], contexts):
            for qa in paragraph["qas"]:
                answers = [a["text"] for a in qa.get("answers", [])]
                questions.append(SquadQuestion(qa["id"], qa["question"], answers, bool(qa.get("is_impossible")),
                                               aid, offset, offset + len(context)))
            offset += len(context) + 2
    return articles, questions


def load_squad(path: str | Path) -> tuple[list[Article], list[SquadQuestion]]:
    data = json.loads(read_text_file(Path(path)))
    if not is_squad(data):
        raise BadArticleError(f"{path}: not a SQuAD file (no 'data' list of articles with 'paragraphs')")
    return squad_articles(data)


def load_paths(paths: list[str | Path]) -> LoadReport:
    """Load every file and folder given; bad files are listed in `skipped`, never fatal."""
    report = LoadReport()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            report.skipped.append((str(path), "no such file or folder"))
            continue
        for file in article_files(path):
            load_file_into(report, file)
    for source, reason in report.skipped:
        log.warning("skipped %s: %s", source, reason)
    return report


def article_files(path: Path) -> list[Path]:
    """The files `load_paths` reads for one existing path: the file itself, or a folder's
    non-hidden files of a supported type, sorted."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*")
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_SUFFIXES)


def load_file_into(report: LoadReport, file: Path) -> None:
    """Load one file's articles into `report`; a bad file goes to `report.skipped` with its reason."""
    try:
        _load_file(file, report)
    except BadArticleError as e:
        report.skipped.append((str(file), str(e).removeprefix(f"{file}: ")))


def _load_file(path: Path, report: LoadReport) -> None:
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        report.articles.extend(load_markdown(path))
    elif suffix in HTML_SUFFIXES:
        report.articles.extend(load_html(path))
    elif suffix in JSON_SUFFIXES:
        load_json(path, report)
    elif suffix in JSONL_SUFFIXES:
        load_jsonl(path, report)
    elif suffix in TEXT_SUFFIXES:
        report.articles.extend(load_text(path))
    else:
        raise BadArticleError(f"{path}: unsupported file type {suffix!r} "
                              f"(use .txt, .md, .html, .json or .jsonl)")


def article_from_text(title: str, text: str, source: str = "") -> Article:
    """An article pasted as text (the UI's paste box)."""
    if not normalize_text(text).strip():
        raise BadArticleError("the pasted article is empty")
    return make_article(text, source, title.strip() or None)
