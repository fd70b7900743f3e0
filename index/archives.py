"""Web archives (WARC/ARC, by warcio) and PDF documents into `Article`s.

WARC/ARC: every HTML `response` record (status below 400) is one article, read as a fetched page
(`index.html`): its target URI is the identity when the page names no canonical URL, and its
capture date (`WARC-Date`) is the published date when the page states none. Other records
(requests, metadata, images, redirects) are left out; a record that is not an article is listed
as skipped with its reason, and the rest of the archive still loads.

PDF: the text layer, by pypdf (chosen over pdfplumber by measurement, see the README's "Inputs"),
page by page; lines are joined into paragraphs (a blank line or a short last line ends one, a
hyphen at a line end joins the word), so offsets point into that extracted text, as for every
source. The title is the document's /Title, else its first line; the date is its /CreationDate.
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
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise BadArticleError(f"{where}: not a readable PDF ({e})") from e
    text = "\n\n".join(p for p in (pdf_paragraphs(page) for page in pages) if p)
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


def pdf_paragraphs(page_text: str) -> str:
    """A page's lines as paragraphs: PDF text comes as visual lines, a paragraph wrapped over many.

    A line ends its paragraph when the next is blank, or when it is clearly shorter than the
    page's typical full line and ends a sentence; a hyphen at a line's end joins the word."""
    lines = [line.rstrip() for line in displayable(page_text).splitlines()]
    lengths = sorted(len(line) for line in lines if line.strip())
    if not lengths:
        return ""
    full = lengths[int(len(lengths) * 0.8)] if len(lengths) > 2 else max(lengths)
    paragraphs, current = [], ""
    for line in lines:
        stripped = line.strip()
        if not stripped:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if current.endswith("-") and stripped[:1].islower():
            current = current[:-1] + stripped
        else:
            current = f"{current} {stripped}" if current else stripped
        if len(stripped) < 0.75 * full and stripped[-1:] in '.!?:"\u201d':
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)
