"""Web archives (WARC/ARC, by warcio) and PDF documents into `Article`s.

WARC/ARC: every HTML `response` record (status below 400) is one article, read as a fetched page
(`index.html`): its target URI is the identity when the page names no canonical URL, and its
capture date (`WARC-Date`) is the published date when the page states none. Other records
(requests, metadata, images, redirects) are left out; a record that is not an article is listed
as skipped with its reason, and the rest of the archive still loads.

PDF: the text layer, by pypdf (chosen over pdfplumber by measurement, see the README's "Inputs"),
page by page; lines are joined into paragraphs (a blank line or a gap wider than the line spacing
ends one, a hyphen at a line end joins the word), running headers and page numbers are dropped,
and offsets point into that extracted text, as for every source. The title is the document's /Title, else its first line; the date is its /CreationDate.
A scanned PDF without a text layer is skipped ("no text layer"). What this leaves out: OCR.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from index.errors import BadArticleError
from index.metadata import clean_title, displayable, source_of_path
from index.types import Article

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
PDF_SUFFIXES = (".pdf",)
MAX_WARC_RECORD_BYTES = 10 * 1000 * 1000  # as for a fetched page: a larger record is not an article


def is_warc(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(WARC_SUFFIXES)


def warc_articles(path: Path, skipped: list[tuple[str, str]]) -> list[Article]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    from index.html import article_from_html

    where = source_of_path(path)
    if not _looks_like_archive(path):
        raise BadArticleError(f"{where}: not a readable WARC/ARC file (it does not start with a WARC or ARC header)")
    articles = []
    try:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, arc2warc=True):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                label = f"{where}#{uri}"
                status = record.http_headers.get_statuscode() or ""
                media = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
                if media not in ("text/html", "application/xhtml+xml") or not status.startswith("2"):
                    continue  # images, scripts, redirects: not articles, and not worth a line each
                body = record.content_stream().read(MAX_WARC_RECORD_BYTES + 1)
                if len(body) > MAX_WARC_RECORD_BYTES:
                    skipped.append((label, f"too large (more than {MAX_WARC_RECORD_BYTES / 1e6:g} MB)"))
                    continue
                if b"\x00" in body[:8192]:
                    skipped.append((label, "not an article (binary content sent as text/html)"))
                    continue
                captured = record.rec_headers.get_header("WARC-Date")
                try:
                    articles.append(article_from_html(_decode(body, record.http_headers), label, url=uri or None,
                                                      fallback_published=_iso(captured)))
                except BadArticleError as e:
                    skipped.append((label, str(e).removeprefix(f"{label}: ")))
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as e:
        raise BadArticleError(f"{where}: not a readable WARC/ARC file ({e})") from e
    if not articles and not skipped:
        raise BadArticleError(f"{where}: the archive holds no HTML response records")
    return articles


def _looks_like_archive(path: Path) -> bool:
    import gzip

    try:
        with open(path, "rb") as raw:
            head = raw.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as stream:
            start = stream.read(16)
    except (OSError, EOFError):
        return False
    return start.startswith((b"WARC/", b"filedesc://"))


def _decode(body: bytes, headers) -> str:
    match = re.search(r"charset=([\w-]+)", headers.get_header("Content-Type") or "")
    try:
        return body.decode(match.group(1) if match else "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _iso(value: str | None) -> str | None:
    from index.metadata import clean_published

    return clean_published(value, "WARC-Date") if value else None


def pdf_article(data: bytes, where: str, source: str | None = None) -> Article:
    """The article in a PDF's text layer; offsets point into the text this returns."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    from index.load import make_article

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page_lines(page) for page in reader.pages]
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, ZeroDivisionError) as e:
        raise BadArticleError(f"{where}: not a readable PDF ({e})") from e
    pages = drop_running_lines(pages)
    text = "\n\n".join(p for p in (pdf_paragraphs(lines) for lines in pages) if p)
    if not text.strip():
        raise BadArticleError(f"{where}: not an article (the PDF has no text layer; scanned pages need OCR)")
    title = clean_title(info.title, where) if info is not None and isinstance(info.title, str) else None
    published = None
    if info is not None:
        try:
            created = info.creation_date
            published = created.date().isoformat() if created else None
        except (ValueError, TypeError):
            published = None
    return make_article(text, source or where, title, published)


def page_lines(page) -> list[tuple[float | None, str]]:
    """A page's text lines as pypdf extracts them, each with its baseline's height on the page
    (None where the text operators do not give one)."""
    parts: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):
        parts.append((tm[5] * cm[3] + cm[5], text))

    text = page.extract_text(visitor_text=visit) or ""
    if "".join(t for _, t in parts) != text:  # the pieces do not add up: the lines without heights
        return [(None, line) for line in text.splitlines()]
    lines, current, y = [], "", None
    for height, piece in parts:
        chunks = piece.split("\n")
        for i, chunk in enumerate(chunks):
            if i:
                lines.append((y, current))
                current, y = "", None
            if chunk.strip() and y is None:
                y = height
            current += chunk
    lines.append((y, current))
    return [(y, line.rstrip()) for y, line in lines]


def drop_running_lines(pages: list[list[tuple[float | None, str]]]) -> list[list[tuple[float | None, str]]]:
    """Running headers and footers (the same line, digits aside, at the same height on most pages,
    like "Page 3") are not the article's text."""
    if len(pages) < 2:
        return [[(y, line) for y, line in lines if not re.fullmatch(r"\s*(page\s*)?\d+(\s*(/|of)\s*\d+)?\s*", line, re.I)]
                for lines in pages]
    seen: dict[tuple, int] = {}
    for lines in pages:
        for key in {(None if y is None else round(y), re.sub(r"\d+", "#", line.strip())) for y, line in lines if line.strip()}:
            seen[key] = seen.get(key, 0) + 1
    running = {key for key, n in seen.items() if n >= max(2, len(pages) // 2 + 1) and key[0] is not None}
    return [[(y, line) for y, line in lines
             if (None if y is None else round(y), re.sub(r"\d+", "#", line.strip())) not in running]
            for lines in pages]


def pdf_paragraphs(lines) -> str:
    """A page's lines as paragraphs: PDF text comes as visual lines, a paragraph wrapped over many.

    `lines` are (height, text) pairs (`page_lines`) or plain text. A paragraph ends at a blank line,
    at a gap above the next line clearly wider than the page's usual line spacing, or (where no
    heights are known) after a line clearly shorter than a full one that ends a sentence; a hyphen at
    a line's end followed by a lower-case letter joins the word."""
    if isinstance(lines, str):
        lines = [(None, line) for line in lines.splitlines()]
    lines = [(y, displayable(line).rstrip()) for y, line in lines]
    lengths = sorted(len(line) for _, line in lines if line.strip())
    if not lengths:
        return ""
    full = lengths[int(len(lengths) * 0.8)] if len(lengths) > 2 else max(lengths)
    heights = [y for y, line in lines if line.strip() and y is not None]
    steps = sorted(a - b for a, b in zip(heights, heights[1:]) if a - b > 0)
    spacing = steps[len(steps) // 2] if steps else None
    paragraphs, current, previous_y = [], "", None
    for y, line in lines:
        stripped = line.strip()
        if not stripped:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if current and spacing is not None and y is not None and previous_y is not None \
                and previous_y - y > 1.35 * spacing:
            paragraphs.append(current)
            current = ""
        if current.endswith("-") and stripped[:1].islower():
            current = current[:-1] + stripped
        else:
            current = f"{current} {stripped}" if current else stripped
        previous_y = y if y is not None else previous_y
        if spacing is None and len(stripped) < 0.75 * full and stripped[-1:] in '.!?:"\u201d':
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)
