"""A news site on 127.0.0.1 for the tests of links, feeds and sitemaps: nothing leaves the machine.

`NewsSite` serves, from a thread: articles (a scraped-style page, one with JSON-LD NewsArticle,
one with only og:/meta tags), a redirect chain and a redirect loop, a 404, a slow response, a
50 MB response streamed in chunks (it counts what it managed to send), a binary body sent as
text/html, a page with no article, an RSS feed, an Atom feed, a news sitemap and a PDF.
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PARAGRAPHS = {
    "talks": [
        "United Nations-sponsored negotiations on the future of Syria resumed in Geneva on Tuesday, with the "
        "envoy saying the talks would focus on a new constitution and elections.",
        "The government delegation arrived a day late, after officials in Damascus objected to a statement by "
        "the opposition that called for the president to step down at the start of any transition.",
        "The opposition, for the first time, sent a single unified delegation of 36 members, a move that "
        "diplomats said could make the negotiations more productive than the previous seven rounds.",
        "The envoy said he hoped the round would last until December 15, and that he would shuttle between the "
        "two sides rather than hold face-to-face meetings at first.",
    ],
    "harbour": [
        "The city council approved a plan on Monday to rebuild the old harbour wall, which was damaged by a "
        "winter storm that flooded the fish market and closed the ferry terminal for a week.",
        "Engineers estimate the work will cost 42 million euros and take three years, with the first stage "
        "beginning in the spring once the contracts have been signed.",
        "Fishermen welcomed the decision but asked that the market stay open during construction, saying a "
        "temporary closure would cost them most of the summer season.",
    ],
    "vaccine": [
        "Health officials announced on Thursday that a new vaccination campaign against measles would reach "
        "every primary school in the province before the end of the term.",
        "The campaign follows an outbreak of 120 cases in two districts, most of them among children who had "
        "not received the second dose of the vaccine.",
        "Nurses will visit schools in pairs, and parents who object will be asked to sign a form explaining "
        "their reasons, the officials said at a press conference.",
    ],
}

CHROME = ("<header><nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav>"
          "<div class='cookie-banner'>We use cookies. <button>Accept</button></div></header>")
FOOTER = "<footer><p>© 2017 Example News. All rights reserved.</p><a href='/privacy'>Privacy</a></footer>"


def body_html(key: str) -> str:
    return "".join(f"<p>{p}</p>" for p in PARAGRAPHS[key])


def scraped_page(title: str, key: str, canonical: str, date: str) -> str:
    """Like a page saved from a browser: title, canonical link and a `date` meta tag, and chrome."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title} | Example News</title>"
            f"<meta name='date' content='{date}'><link rel='canonical' href='{canonical}'></head><body>{CHROME}"
            f"<main><article><h1>{title}</h1>{body_html(key)}</article></main>{FOOTER}</body></html>")


def jsonld_page(title: str, key: str, canonical: str, date: str, author: str, outlet: str) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": date,
            "author": {"@type": "Person", "name": author}, "publisher": {"@type": "Organization", "name": outlet},
            "mainEntityOfPage": canonical}
    return (f"<!DOCTYPE html><html lang='de-CH'><head><meta charset='utf-8'><title>{title}</title>"
            f"<link rel='canonical' href='{canonical}'>"
            f"<script type='application/ld+json'>{json.dumps(data)}</script></head><body>{CHROME}"
            f"<article><h1>{title}</h1>{body_html(key)}</article>{FOOTER}</body></html>")


def og_page(title: str, key: str, canonical: str, date: str, outlet: str, author: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='og:title' content='{title}'><meta property='og:url' content='{canonical}'>"
            f"<meta property='og:site_name' content='{outlet}'><meta property='og:locale' content='fr_FR'>"
            f"<meta property='article:published_time' content='{date}'><meta name='author' content='{author}'>"
            f"</head><body>{CHROME}<div class='content'><h1>{title}</h1>{body_html(key)}</div>{FOOTER}</body></html>")


def undated_page(title: str, key: str) -> str:
    return (f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{CHROME}<article><h1>{title}</h1>"
            f"{body_html(key)}</article>{FOOTER}</body></html>")


NO_ARTICLE = (f"<!DOCTYPE html><html><head><title>Index</title></head><body>{CHROME}"
              f"<ul><li><a href='/a'>A</a></li><li><a href='/b'>B</a></li></ul>{FOOTER}</body></html>")

HUGE_BYTES = 50 * 1000 * 1000


class NewsSite:
    def __init__(self):
        self.sent_huge = 0  # bytes of the 50 MB response actually sent before the client hung up
        self.requests: list[tuple[str, str]] = []  # (path, user agent)
        self.pages: dict[str, tuple[str, bytes]] = {}  # path -> (content type, body)
        self.slow_s = 3.0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.requests.append((self.path, self.headers.get("User-Agent", "")))
                site.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._add_defaults()

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> str:
        self.pages[path] = (content_type, body.encode("utf-8") if isinstance(body, str) else body)
        return self.url(path)

    def _add_defaults(self) -> None:
        self.add("/world/geneva-talks", scraped_page("Geneva Talks Resume", "talks",
                                                     self.url("/world/geneva-talks"), "2017-11-28"))
        self.add("/local/harbour", jsonld_page("Council Approves Harbour Rebuild", "harbour",
                                               self.url("/local/harbour-wall"), "2018-03-05T09:30:00+01:00",
                                               "Anna Keller", "Seeblick Zeitung"))
        self.add("/health/measles", og_page("Schools To Get Measles Vaccine", "vaccine", self.url("/health/measles"),
                                            "2019-06-13T08:00:00Z", "Le Courrier Santé", "Marie Dubois"))
        self.add("/undated", undated_page("Harbour Works Begin", "harbour"))
        self.add("/no-article", NO_ARTICLE)
        self.add("/binary", os.urandom(2048) + b"\x00" * 64)
        self.add("/image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        if path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            target = "/world/geneva-talks" if n == 0 else f"/redirect/{n - 1}"
            return self._redirect(h, target)
        if path == "/to-ip":  # an absolute redirect to the site's numeric address
            return self._redirect(h, self.url("/world/geneva-talks"))
        if path == "/loop/a":
            return self._redirect(h, "/loop/b")
        if path == "/loop/b":
            return self._redirect(h, "/loop/a")
        if path == "/slow":
            time.sleep(self.slow_s)
            return self._send(h, 200, "text/html", scraped_page("Late", "talks", self.url("/slow"), "2017-01-01"))
        if path in ("/huge", "/huge-declared"):
            return self._huge(h, declared=path == "/huge-declared")
        if path in self.pages:
            content_type, body = self.pages[path]
            return self._send(h, 200, content_type, body)
        return self._send(h, 404, "text/html", "<html><body>Not found</body></html>")

    def _redirect(self, h, target: str) -> None:
        h.send_response(302)
        h.send_header("Location", target)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _send(self, h, status: int, content_type: str, body: str | bytes) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        try:
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _huge(self, h, declared: bool) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        if declared:
            h.send_header("Content-Length", str(HUGE_BYTES))
        h.end_headers()
        chunk = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
        try:
            while self.sent_huge < HUGE_BYTES:
                h.wfile.write(chunk)
                self.sent_huge += len(chunk)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    def __enter__(self) -> "NewsSite":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def rss(site: NewsSite, items: list[dict]) -> str:
    """An RSS 2.0 feed; an item with `content` carries its full text (content:encoded)."""
    out = []
    for item in items:
        content = f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>" if item.get("content") else ""
        out.append(f"<item><title>{item['title']}</title><link>{item['link']}</link>"
                   f"<pubDate>{item.get('date', 'Tue, 28 Nov 2017 10:00:00 GMT')}</pubDate>{content}</item>")
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel><title>Example News</title>"
            f"<link>{site.base}</link><language>en</language><description>news</description>{''.join(out)}"
            "</channel></rss>")


def news_sitemap(urls: list[tuple[str, str, str]]) -> str:
    """A news sitemap of (url, title, publication date)."""
    entries = "".join(
        f"<url><loc>{u}</loc><news:news><news:publication><news:name>Example News</news:name>"
        f"<news:language>en</news:language></news:publication><news:publication_date>{d}</news:publication_date>"
        f"<news:title>{t}</news:title></news:news></url>" for u, t, d in urls)
    return ("<?xml version='1.0' encoding='UTF-8'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
            f"xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>{entries}</urlset>")
