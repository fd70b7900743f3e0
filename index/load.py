"""Load articles from files: plain text, Markdown, saved HTML pages, JSON / JSON lines, SQuAD JSON, folders.

Each loader returns `Article`s whose `text` is the cleaned body; offsets elsewhere point into
it. A file that cannot be an article (binary, not UTF-8, empty) is skipped with a reason, so a
folder with one bad file still loads the rest. PDFs and WARC/ARC archives (`index.archives`) and
saved feeds and sitemaps (`index.feeds`, `index.sources`) are dispatched from here by file type;
web addresses, and the one entry point for every kind of source, are `index.sources`.
What this leaves out: splitting into passages.
"""

from __future__ import annotations

import json
import logging
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from index.clean import clean_article_text, normalize_text
from index.ids import article_id
from index.metadata import clean_published, clean_title, clean_url, collect_warnings, displayable, source_of_path
from index.types import Article
from index.errors import BadArticleError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text", ""}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
PDF_SUFFIXES = {".pdf"}
LISTING_SUFFIXES = {".xml", ".rss", ".atom"}  # a feed or a sitemap saved as a file
ARCHIVE_SUFFIXES = {".warc", ".arc"}  # also gzipped: .warc.gz, .arc.gz
SUPPORTED_SUFFIXES = (TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES
                      | PDF_SUFFIXES | LISTING_SUFFIXES | ARCHIVE_SUFFIXES)
MAX_FILE_BYTES = 50 * 1024 * 1024
# One article's cleaned text: a longer "article" is a dump to split, and would take one commit
# of thousands of passages (the index commits whole articles).
MAX_ARTICLE_CHARS = 1_000_000


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
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (where, what was dropped): loaded all the same


def _check_regular(path: Path) -> int:
    """The size of a regular file, or BadArticleError (a FIFO, a device, a missing file)."""
    try:
        info = path.stat()
    except OSError as e:
        raise BadArticleError(f"{path}: cannot read ({e.strerror or e})") from e
    if not stat.S_ISREG(info.st_mode):
        raise BadArticleError(f"{path}: not a regular file ({_file_kind(info.st_mode)}); nothing read")
    return info.st_size


def read_bytes(path: Path) -> bytes:
    """A regular file's bytes, within `MAX_FILE_BYTES`, or BadArticleError saying why not."""
    size = _check_regular(path)
    if size > MAX_FILE_BYTES:
        raise BadArticleError(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES // 2**20} MiB limit")
    try:
        return path.read_bytes()
    except OSError as e:
        raise BadArticleError(f"{path}: cannot read ({e.strerror or e})") from e


def read_text_file(path: Path) -> str:
    """The file's text, or BadArticleError saying why it is not a text article."""
    data = read_bytes(path)
    if b"\x00" in data[:8192]:
        raise BadArticleError(f"{path}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadArticleError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8 and try again") from e


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a plain file"


def make_article(raw_text: str, source: str, title: str | None = None, published: str | None = None) -> Article:
    source = displayable(source)
    title, body = clean_article_text(displayable(raw_text), title)
    if not body.strip():
        raise BadArticleError(f"{source or 'pasted text'}: the article is empty after cleaning")
    if len(body) > MAX_ARTICLE_CHARS:
        raise BadArticleError(f"{source or 'pasted text'}: {len(body):,} characters is more than one article "
                              f"(the limit is {MAX_ARTICLE_CHARS:,}); split it into articles")
    return Article(article_id(title, body), title, source, published, body)


def load_text(path: Path) -> list[Article]:
    text = read_text_file(path)
    return [with_stated_facts(make_article(text, source_of_path(path)), text)]


def with_stated_facts(article: Article, text: str, front_matter: dict | None = None) -> Article:
    """The article with the date and outlet its opening lines state (`index.datelines`), where it
    has none yet; a text that states none keeps none."""
    from dataclasses import replace

    from index.datelines import stated_date_and_outlet

    published, outlet = stated_date_and_outlet(text, front_matter)
    return replace(article, published=article.published or published,
                   site_name=article.site_name or (displayable(outlet) if outlet else None))


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict, str]:
    """A Markdown file's YAML front matter (`---` lines around `date: ...`) and the rest; a block
    that is not a YAML mapping stays in the text."""
    import yaml

    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(data, dict):
        return {}, text
    return data, text[match.end():]


def load_markdown(path: Path) -> list[Article]:
    """Markdown to plain text with markdown-it's parser: headings and paragraphs keep their words."""
    from markdown_it import MarkdownIt

    front_matter, source_text = split_front_matter(read_text_file(path))
    tokens = MarkdownIt("commonmark").parse(source_text)
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
    if title is None and isinstance(front_matter.get("title"), str):
        title = clean_title(front_matter["title"], source_of_path(path))
    body = "\n".join(blocks)
    return [with_stated_facts(make_article(body, source_of_path(path), title), body, front_matter)]


def load_html(path: Path) -> list[Article]:
    """Main text and metadata of a saved web page (`index.html`: trafilatura, boilerplate removed)."""
    from index.html import article_from_html

    return [article_from_html(read_text_file(path), source_of_path(path))]


def _record_to_article(record: dict, path: Path, n: int) -> Article:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise BadArticleError(f"{path}: record {n} needs a 'text' string (and a 'title')")
    where = f"{source_of_path(path)}#{n}"
    url = clean_url(record.get("url"), where)
    return make_article(record["text"], url or source_of_path(path), clean_title(record.get("title"), where),
                        clean_published(record.get("published"), where))


def is_squad(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("data"), list) and all(
        isinstance(a, dict) and "paragraphs" in a for a in data["data"][:3])


def load_json(path: Path, report: LoadReport) -> None:
    try:
        data = json.loads(read_text_file(path))
    except json.JSONDecodeError as e:
        raise BadArticleError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from e
    if is_squad(data):
        report.articles.extend(squad_articles(data, report.skipped, source_of_path(path))[0])
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


def squad_articles(data: dict, skipped: list[tuple[str, str]] | None = None,
                   where: str = "") -> tuple[list[Article], list[SquadQuestion]]:
    """One article per SQuAD title, its contexts as paragraphs, kept verbatim (no cleaning).

    An entry without paragraphs, or a paragraph without a text `context`, is left out and listed
    in `skipped` with its reason; a paragraph without `qas` is indexed with no questions."""
    articles, questions = [], []
    for n, entry in enumerate(data["data"], 1):
        paragraphs = entry.get("paragraphs") if isinstance(entry, dict) else None
        if not isinstance(paragraphs, list):
            _skip(skipped, f"{where}#{n}", "a SQuAD entry needs a 'paragraphs' list")
            continue
        good = []
        for m, paragraph in enumerate(paragraphs, 1):
            if isinstance(paragraph, dict) and isinstance(paragraph.get("context"), str) and paragraph["context"].strip():
                good.append(paragraph)
            else:
                _skip(skipped, f"{where}#{n}.{m}", "a SQuAD paragraph needs a non-empty 'context' string")
        if not good:
            continue
        contexts = [p["context"] for p in good]
        text = "\n\n".join(contexts)
        title = entry.get("title") if isinstance(entry.get("title"), str) else ""
        title = title.replace("_", " ")
        aid = article_id(title, text)
        articles.append(Article(aid, title, "", None, text))
        offset = 0
        for paragraph, context in zip(good, contexts):
            qas = paragraph.get("qas") if isinstance(paragraph.get("qas"), list) else []
            for qa in qas:
                if not (isinstance(qa, dict) and isinstance(qa.get("question"), str)):
                    continue
                answers = [a["text"] for a in qa.get("answers") or [] if isinstance(a, dict) and isinstance(a.get("text"), str)]
                questions.append(SquadQuestion(str(qa.get("id", "")), qa["question"], answers,
                                               bool(qa.get("is_impossible")), aid, offset, offset + len(context)))
            offset += len(context) + 2
    return articles, questions


def _skip(skipped: list | None, where: str, reason: str) -> None:
    if skipped is not None:
        skipped.append((where, reason))


def load_squad(path: str | Path) -> tuple[list[Article], list[SquadQuestion]]:
    data = json.loads(read_text_file(Path(path)))
    if not is_squad(data):
        raise BadArticleError(f"{path}: not a SQuAD file (no 'data' list of articles with 'paragraphs')")
    return squad_articles(data)


def load_paths(paths: list[str | Path]) -> LoadReport:
    """Load every file and folder given; bad files are listed in `skipped`, never fatal.

    The same as `index.sources.load_sources`, which also takes web addresses."""
    from index.sources import load_sources

    return load_sources([Path(p) for p in paths])


def article_files(path: Path) -> list[Path]:
    """The files `load_paths` reads for one existing path: the file itself, or a folder's
    non-hidden entries of a supported type, sorted. A FIFO or device among them is listed too, so
    that reading it reports it as skipped rather than leaving it out silently (it is never read)."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*")
                  if not p.is_dir() and not p.name.startswith(".") and _suffix(p) in SUPPORTED_SUFFIXES)


def _suffix(path: Path) -> str:
    """The type a file's name gives: its suffix, or the one before ".gz" for a gzipped archive."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes[-1:] == [".gz"] and len(suffixes) == 2 and suffixes[0] in ARCHIVE_SUFFIXES:
        return suffixes[0]
    return path.suffix.lower()


def load_file_into(report: LoadReport, file: Path, limits=None, skip_url=None) -> None:
    """Load one file's articles into `report`; a bad file goes to `report.skipped` with its reason.

    `limits` and `skip_url` matter for a saved feed or sitemap, whose entries may be fetched
    (`index.sources.load_listing`)."""
    try:
        with collect_warnings() as found:
            try:
                _load_file(file, report, limits, skip_url)
            finally:
                report.warnings.extend(found)
    except BadArticleError as e:
        report.skipped.append((source_of_path(file), displayable(str(e)).removeprefix(f"{source_of_path(file)}: ")))


def _load_file(path: Path, report: LoadReport, limits=None, skip_url=None) -> None:
    suffix = _suffix(path)
    if suffix in ARCHIVE_SUFFIXES:
        from index.archives import warc_articles

        _check_regular(path)
        report.articles.extend(warc_articles(path, report.skipped))
    elif suffix in PDF_SUFFIXES:
        from index.archives import pdf_article

        report.articles.append(pdf_article(read_bytes(path), source_of_path(path)))
    elif suffix in LISTING_SUFFIXES:
        from index.feeds import kind_of
        from index.fetch import DEFAULT_LIMITS
        from index.sources import load_listing

        body = read_bytes(path)
        kind = kind_of(body)
        if kind is None:
            raise BadArticleError(f"{path}: not an RSS/Atom feed or a sitemap")
        load_listing(report, body, source_of_path(path), kind, limits or DEFAULT_LIMITS, skip_url)
    elif suffix in MARKDOWN_SUFFIXES:
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
        raise BadArticleError(f"{path}: unsupported file type {suffix!r} (use .txt, .md, .html, .json, .jsonl, "
                              f".pdf, .warc, .warc.gz, .arc, .xml, .rss or .atom)")


def article_from_text(title: str, text: str, source: str = "", published: str | None = None,
                      outlet: str | None = None) -> Article:
    """An article pasted as text (the UI's paste box). A date or outlet given is checked and
    kept; where none is given, what the text's dateline or byline states (never a guess)."""
    if not normalize_text(text).strip():
        raise BadArticleError("the pasted article is empty")
    published, outlet = check_published(published), check_outlet(outlet)
    article = make_article(text, source, title.strip() or None, published)
    if outlet:
        from dataclasses import replace

        article = replace(article, site_name=displayable(outlet))
    return with_stated_facts(article, text)


def check_outlet(value) -> str | None:
    """An outlet a user typed, its whitespace collapsed; None for none."""
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def check_published(value) -> str | None:
    """A published date a user typed, as YYYY-MM-DD, or BadArticleError saying why it is refused
    (it is never guessed from a form it does not take)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    from index.datelines import day_of

    text = value.strip() if isinstance(value, str) else value
    day = day_of(text) if isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    if day is None:
        raise BadArticleError(f"the published date must be a real day written YYYY-MM-DD, such as 2017-11-21, "
                              f"not in the future; {value!r} is not")
    return day
