"""A web page's HTML into an `Article`: its main text and what the page states about itself.

trafilatura extracts the text (menus, comments and boilerplate removed) and the metadata: title,
published date, author, site name, canonical URL (`<link rel=canonical>`, `og:url`, JSON-LD; for
a fetched page only one on the same site, so a copy naming its original keeps its own URL), and
the page's declared language (`<html lang>`, `og:locale`, `content-language`). The same code reads
a saved page, a fetched link, a feed entry's content and a WARC record, so all of them agree.

A date is stored only when the page states one (meta tags, JSON-LD, a date in the URL or the
page header): never the fetch time or a guess from a nearby number. A caller may give a
fallback it trusts (a WARC record's capture date). What this leaves out: fetching (`index.fetch`).
"""

from __future__ import annotations

import logging
import re

from index.errors import BadArticleError
from index.load import make_article
from index.metadata import clean_published, clean_title, clean_url, displayable, drop_code, is_url, outlet_of

log = logging.getLogger(__name__)

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def article_from_html(html: str, where: str, url: str | None = None, fallback_published: str | None = None):
    """The article in a page's HTML. `where` names it in messages (a path or the address fetched);
    `url` is where it was fetched from, the identity when the page names no canonical URL."""
    import trafilatura
    from trafilatura.utils import load_html

    # trafilatura logs its internals ("discarding data: None") at warning level; our own message
    # says what matters (the page skipped, and why)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    tree = load_html(html)
    if tree is None:
        raise BadArticleError(f"{where}: not an article (the page cannot be parsed as HTML)")
    text = trafilatura.extract(tree, include_comments=False, include_tables=False, favor_precision=True)
    if not text:
        raise BadArticleError(f"{where}: not an article (no article text found in the page)")
    drop_code(tree)  # a script inside a heading would otherwise be read into the title
    meta = trafilatura.extract_metadata(tree, default_url=url, extensive=False,
                                        date_config={"extensive_search": False, "original_date": True})
    title = clean_title(meta.title, where) if meta else None
    published = clean_published(meta.date, where) if meta and meta.date else None
    canonical = clean_url(meta.url, where) if meta and meta.url else None
    if canonical and url and is_url(url) and outlet_of(canonical) != outlet_of(url):
        # another site's address (a syndicated copy naming its original, or a page claiming to be
        # someone else's): taken as its identity, it would replace that site's article
        canonical = None
    source = canonical or url or where
    try:
        article = make_article(text, source, title, published or fallback_published)
    except BadArticleError as e:  # named by the source it would have had: name it as the caller does
        reason = str(e).split(": ", 1)[-1]
        if "empty" in reason:
            reason = "not an article (no article text left after cleaning)"
        raise BadArticleError(f"{where}: {reason}") from e
    return _with_details(article, meta, tree, source)


def _with_details(article, meta, tree, source: str):
    from dataclasses import replace

    author = displayable(meta.author.strip()) if meta and isinstance(meta.author, str) and meta.author.strip() else None
    site = meta.sitename.strip() if meta and isinstance(meta.sitename, str) and meta.sitename.strip() else None
    if site and is_url(source) and _is_host_of(site, source):
        site = None  # trafilatura's fallback to the address: not a name the page states
    return replace(article, author=author, language=page_language(tree),
                   site_name=displayable(site) if site else None)


def _is_host_of(name: str, url: str) -> bool:
    from urllib.parse import urlsplit

    from index.metadata import outlet_of

    host, name = outlet_of(url), name.lower().removeprefix("www.")
    return name in (host, urlsplit(url).netloc.lower().removeprefix("www.")) or host.startswith(name + ".")


def page_language(tree) -> str | None:
    """The language the page declares, normalised to a BCP 47-like tag ("en", "pt-BR"), or None."""
    candidates = tree.xpath("/html/@lang | /html/@xml:lang",
                            namespaces={"xml": "http://www.w3.org/XML/1998/namespace"})
    candidates += tree.xpath('//meta[@property="og:locale"]/@content')
    candidates += tree.xpath('//meta[translate(@http-equiv, "CONTENT-LANGUAGE", "content-language")'
                             '="content-language"]/@content')
    for value in candidates:
        value = str(value).strip().split(",")[0].strip()
        if _LANGUAGE.match(value):
            parts = value.replace("_", "-").split("-")
            return "-".join([parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]])
    return None
