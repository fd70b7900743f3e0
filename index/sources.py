"""One loader for every source: files and folders, web addresses, feeds, sitemaps, WARC, PDF.

`load_sources(sources)` is the one function that turns what a user names into `Article`s: the
single-process build and add (`qa.collection`) and the Ray build (`index.distributed`, one
`load_source_into` per source on the workers) both call it, so they read every source alike.

- a path: a file by its type (`index.load`: text, Markdown, HTML, JSON, SQuAD; `index.archives`:
  WARC/ARC, PDF; `index.feeds`: a feed or sitemap saved as .xml/.rss/.atom), a folder file by file;
- a web address (http/https): fetched with limits (`index.fetch`), then read by what came back:
  an HTML page is one article (`index.html`), a feed gives its entries, a sitemap its pages
  (each fetched in turn), a PDF its text.

A source that gives no article is one line in `LoadReport.skipped`, "source: reason"; the others
still load. `skip_url(url)` (optional) tells which listed addresses are already indexed: a
feed or sitemap then neither fetches nor loads them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from index.errors import BadArticleError
from index.fetch import DEFAULT_LIMITS, FEED_TYPES, PDF_TYPES, XML_TYPES, FetchLimits, fetch
from index.load import LoadReport, article_files, load_file_into
from index.metadata import clean_published, is_url, source_of_path
from index.types import Article

log = logging.getLogger(__name__)

FEED_SUFFIXES = (".xml", ".rss", ".atom")


def load_sources(sources: Iterable[str | Path], limits: FetchLimits = DEFAULT_LIMITS,
                 skip_url: Callable[[str], bool] | None = None) -> LoadReport:
    """Articles from every path and web address given; what failed is in `skipped`, never fatal."""
    report = LoadReport()
    for source in sources:
        load_source_into(report, source, limits, skip_url)
    for where, reason in report.skipped:
        log.warning("skipped %s: %s", where, reason)
    return report


def load_source_into(report: LoadReport, source: str | Path, limits: FetchLimits = DEFAULT_LIMITS,
                     skip_url: Callable[[str], bool] | None = None) -> None:
    """One source's articles into `report` (a folder: each of its files)."""
    if isinstance(source, str) and is_url(source):
        try:
            _load_url(report, source.strip(), limits, skip_url, depth=0)
        except BadArticleError as e:
            report.skipped.append(_split(str(e), source.strip()))
        return
    path = Path(source)
    if not path.exists():
        report.skipped.append((source_of_path(path), "no such file or folder"))
        return
    for file in article_files(path):
        load_file_into(report, file, limits, skip_url)


def _load_url(report: LoadReport, url: str, limits: FetchLimits, skip_url, depth: int) -> None:
    fetched = fetch(url, limits)
    media, body = fetched.content_type, fetched.body
    if media in PDF_TYPES or body[:5] == b"%PDF-":
        from index.archives import pdf_article

        report.articles.append(pdf_article(body, url, source=fetched.final_url))
        return
    if media in FEED_TYPES or media in XML_TYPES or body.lstrip()[:5] == b"<?xml":
        from index.feeds import kind_of

        kind = kind_of(body)
        if kind is not None:
            load_listing(report, body, url, kind, limits, skip_url, depth)
            return
        if media not in ("application/xhtml+xml",) and body.lstrip()[:5] == b"<?xml" and b"<html" not in body[:4096]:
            raise BadArticleError(f"{url}: not an article (XML that is neither a feed nor a sitemap)")
    from index.html import article_from_html

    report.articles.append(article_from_html(fetched.text(), url, url=fetched.final_url))


def load_listing(report: LoadReport, body: bytes, where: str, kind: str, limits: FetchLimits = DEFAULT_LIMITS,
                 skip_url=None, depth: int = 0) -> None:
    """The articles a feed or sitemap lists (`kind`: "feed", "sitemap" or "sitemapindex")."""
    from index.feeds import MAX_SITEMAP_URLS, feed_items, sitemap_items

    if kind == "feed":
        items = feed_items(body, where)
    else:
        items, nested = sitemap_items(body, where)
        for child in nested:
            if depth >= 1:
                report.skipped.append((child, "a sitemap index nested in a sitemap index (not followed)"))
                continue
            try:
                child_body = fetch(child, limits).body
                from index.feeds import kind_of

                load_listing(report, child_body, child, kind_of(child_body) or "sitemap", limits, skip_url, depth + 1)
            except BadArticleError as e:
                report.skipped.append(_split(str(e), child))
    if kind != "feed" and len(items) > MAX_SITEMAP_URLS:
        report.skipped.append((where, f"lists {len(items):,} pages; only the first {MAX_SITEMAP_URLS:,} were read"))
        items = items[:MAX_SITEMAP_URLS]
    for n, item in enumerate(items, 1):
        label = item.url or f"{where}#{n}"
        if item.url and skip_url is not None and skip_url(item.url):
            continue
        try:
            report.articles.append(_listed_article(item, label, limits))
        except BadArticleError as e:
            report.skipped.append(_split(str(e), label))


def _listed_article(item, label: str, limits: FetchLimits) -> Article:
    from index.html import article_from_html

    published = clean_published(item.published, label) if item.published else None
    if item.content_html:
        html = f"<html><head><title>{_escape(item.title or '')}</title></head><body><article>" \
               f"{item.content_html}</article></body></html>"
        article = article_from_html(html, label, url=item.url, fallback_published=published)
    elif item.url:
        fetched = fetch(item.url, limits)
        if fetched.content_type in PDF_TYPES:
            from index.archives import pdf_article

            article = pdf_article(fetched.body, item.url, source=fetched.final_url)
        else:
            article = article_from_html(fetched.text(), item.url, url=fetched.final_url,
                                        fallback_published=published)
    else:
        raise BadArticleError(f"{label}: the entry has neither content nor a link")
    # what the page states wins; the listing fills what it leaves out
    return replace(article, author=article.author or item.author, language=article.language or item.language,
                   site_name=article.site_name or item.site_name)


def _escape(text: str) -> str:
    from html import escape

    return escape(text)


def _split(message: str, where: str) -> tuple[str, str]:
    """A "source: reason" message as (source, reason)."""
    return where, message.removeprefix(f"{where}: ")
