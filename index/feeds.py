"""RSS/Atom feeds and news sitemaps: what they list, read from bytes (a fetched body or a file).

A feed (feedparser: RSS 0.9x/1.0/2.0, Atom) gives entries; an entry that carries its full text
(`content:encoded`, Atom `content`) becomes an article here, otherwise its link is fetched
(`index.sources`). A sitemap (`<urlset>`, with the news extension's title, publication name,
language and date when present) or a sitemap index (`<sitemapindex>`, one level of nested
sitemaps) gives addresses to fetch. Parsing never touches the network: feedparser gets bytes,
and the XML parser resolves no entities and loads no DTD. What this leaves out: fetching.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from index.errors import BadArticleError
from index.metadata import clean_url, displayable

# A sitemap can list 50,000 addresses; one call fetches at most this many (the rest are reported).
MAX_SITEMAP_URLS = 1000
# An entry's content shorter than this is a teaser, not the article: its link is fetched instead.
MIN_CONTENT_CHARS = 400

_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass(frozen=True)
class Listed:
    """One item of a feed or sitemap: where it lives and what the listing says of it."""

    url: str | None
    title: str | None = None
    published: str | None = None
    author: str | None = None
    language: str | None = None
    site_name: str | None = None
    content_html: str | None = None  # the full article, when the feed carries it


def kind_of(body: bytes) -> str | None:
    """"feed", "sitemap", "sitemapindex" or None, from the first element of an XML body."""
    head = body[:4096].lstrip().lower()
    for marker, kind in ((b"<urlset", "sitemap"), (b"<sitemapindex", "sitemapindex"), (b"<rss", "feed"),
                         (b"<feed", "feed"), (b"<rdf:rdf", "feed")):
        if marker in head:
            return kind
    return None


def feed_items(body: bytes, where: str) -> list[Listed]:
    import feedparser

    parsed = feedparser.parse(body)  # bytes: feedparser fetches nothing
    if not parsed.entries and parsed.get("bozo"):
        raise BadArticleError(f"{where}: not a readable RSS or Atom feed ({parsed.get('bozo_exception')})")
    feed = parsed.feed
    language = feed.get("language") or None
    site = feed.get("title") or None
    items = []
    for n, entry in enumerate(parsed.entries, 1):
        content = None
        for part in entry.get("content") or []:
            value = part.get("value") or ""
            if len(value) >= MIN_CONTENT_CHARS:
                content = value
                break
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        items.append(Listed(
            url=clean_url(entry.get("link"), f"{where}#{n}"), title=_text(entry.get("title")),
            published=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", when) if when else None,
            author=_text(entry.get("author")), language=_text(language), site_name=_text(site),
            content_html=content))
    return items


def sitemap_items(body: bytes, where: str) -> tuple[list[Listed], list[str]]:
    """(the pages a sitemap lists, the nested sitemaps a sitemap index lists)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as e:
        raise BadArticleError(f"{where}: not a readable sitemap ({e})") from e
    ns = {"s": _SITEMAP_NS, "n": _NEWS_NS}
    nested = [displayable(t.strip()) for t in root.xpath("/s:sitemapindex/s:sitemap/s:loc/text()", namespaces=ns)]
    pages = []
    for url in root.xpath("/s:urlset/s:url", namespaces=ns):
        loc = url.xpath("string(s:loc)", namespaces=ns).strip()
        news = url.xpath("n:news", namespaces=ns)
        news = news[0] if news else None

        def field(path: str) -> str | None:
            return _text(news.xpath(f"string({path})", namespaces=ns)) if news is not None else None

        pages.append(Listed(url=clean_url(loc, where), title=field("n:title"),
                            published=field("n:publication_date"), language=field("n:publication/n:language"),
                            site_name=field("n:publication/n:name")))
    return pages, nested


def _text(value) -> str | None:
    if isinstance(value, str) and value.strip():
        return displayable(value.strip())
    return None
