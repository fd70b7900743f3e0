"""Feeds (RSS, Atom) and news sitemaps, from the local server and from files: full content taken
from the feed when it carries it, links fetched otherwise, entries already indexed skipped."""

from __future__ import annotations

import pytest

from fakes import HashEmbedder
from index.sources import load_sources
from qa.collection import Collection
from qa.settings import Settings

from web_support import PARAGRAPHS, NewsSite, news_sitemap, rss


@pytest.fixture(scope="module")
def site():
    with NewsSite() as s:
        full = "".join(f"<p>{p}</p>" for p in PARAGRAPHS["vaccine"])
        s.add("/feed.xml", rss(s, [
            {"title": "Schools To Get Measles Vaccine", "link": s.url("/health/in-feed"), "content": full,
             "date": "Thu, 13 Jun 2019 08:00:00 GMT"},
            {"title": "Geneva Talks Resume", "link": s.url("/world/geneva-talks")},
            {"title": "Gone", "link": s.url("/missing")},
        ]), "application/rss+xml")
        s.add("/sitemap.xml", news_sitemap([
            (s.url("/local/harbour"), "Council Approves Harbour Rebuild", "2018-03-05"),
            (s.url("/undated"), "Harbour Works Begin", "2018-04-01"),
            (s.url("/no-article"), "Index page", "2018-04-02"),
        ]), "application/xml")
        yield s


def fetched(site, path: str) -> int:
    return sum(1 for p, _ in site.requests if p == path)


def test_a_feed_gives_its_entries_full_content_and_fetches_only_the_others(site):
    before = fetched(site, "/health/in-feed")
    report = load_sources([site.url("/feed.xml")])
    by_source = {a.source: a for a in report.articles}
    carried = by_source[site.url("/health/in-feed")]
    assert carried.title == "Schools To Get Measles Vaccine" and "120 cases" in carried.text
    assert carried.published == "2019-06-13T08:00:00+00:00" and carried.language == "en"
    assert carried.site_name == "Example News"
    assert fetched(site, "/health/in-feed") == before  # the feed carried it: not fetched
    assert by_source[site.url("/world/geneva-talks")].published == "2017-11-28"  # fetched, the page's own date
    assert dict(report.skipped)[site.url("/missing")].startswith("HTTP 404")


def test_an_atom_feed_from_a_file(site, tmp_path):
    atom = tmp_path / "news.atom"
    atom.write_text(
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Wire</title>"
        f"<id>urn:wire</id><updated>2018-03-05T00:00:00Z</updated><entry><title>Harbour</title>"
        f"<link href='{site.url('/local/harbour')}'/><id>urn:1</id><updated>2018-03-05T00:00:00Z</updated></entry>"
        "</feed>", encoding="utf-8")
    [article] = load_sources([str(atom)]).articles
    assert article.source == site.url("/local/harbour-wall") and article.author == "Anna Keller"


def test_a_news_sitemap_fetches_each_page_and_fills_what_pages_leave_out(site, tmp_path):
    report = load_sources([site.url("/sitemap.xml")])
    by_source = {a.source: a for a in report.articles}
    assert by_source[site.url("/local/harbour-wall")].published.startswith("2018-03-05")
    undated = by_source[site.url("/undated")]
    # the page states no date: the one its publisher's sitemap states is stored (never a fetch time)
    assert undated.published == "2018-04-01" and undated.site_name == "Example News"
    assert dict(report.skipped)[site.url("/no-article")].startswith("not an article")
    saved = tmp_path / "sitemap.xml"
    saved.write_bytes(site.pages["/sitemap.xml"][1])
    assert {a.source for a in load_sources([saved]).articles} == set(by_source)


def test_polling_twice_adds_only_new_entries_and_fetches_nothing_again(site, tmp_path):
    collection = Collection(Settings(index_dir=tmp_path / "idx"), embedder=HashEmbedder())
    added = collection.add_new([site.url("/feed.xml")])
    assert len(added) == 2
    talks = fetched(site, "/world/geneva-talks")
    # the same story again under another address, in a second feed: same words, so skipped
    site.add("/feed2.xml", rss(site, [
        {"title": "Schools To Get Measles Vaccine (repost)", "link": site.url("/repost/measles"),
         "content": "".join(f"<p>{p}</p>" for p in PARAGRAPHS["vaccine"])},
        {"title": "Geneva Talks Resume", "link": site.url("/world/geneva-talks")}]), "application/rss+xml")
    assert collection.add_new([site.url("/feed.xml"), site.url("/feed2.xml")]) == []
    assert fetched(site, "/world/geneva-talks") == talks  # indexed under that URL: not fetched again
    assert collection.store.counts()[0] == 2


def test_a_feed_watcher_polls_in_the_background_until_stopped(site, tmp_path):
    import time

    from qa.watch import FeedWatcher, parse_interval

    assert (parse_interval("90"), parse_interval("15m"), parse_interval("2h")) == (90, 900, 7200)
    collection = Collection(Settings(index_dir=tmp_path / "idx"), embedder=HashEmbedder())
    watcher = FeedWatcher(collection, [site.url("/feed.xml")], every_s=0.2)
    thread = watcher.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not collection.last_add_result or collection.store.counts()[0] < 2):
        time.sleep(0.1)
    polls_before = sum(1 for p, _ in site.requests if p == "/feed.xml")
    time.sleep(0.5)
    assert sum(1 for p, _ in site.requests if p == "/feed.xml") > polls_before  # still polling
    watcher.stop()
    thread.join(timeout=10)
    assert not thread.is_alive() and collection.store.counts()[0] == 2  # nothing added twice


def test_a_sitemap_index_is_followed_one_level(site):
    site.add("/sitemap-index.xml",
             "<?xml version='1.0' encoding='UTF-8'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
             f"<sitemap><loc>{site.url('/sitemap.xml')}</loc></sitemap>"
             f"<sitemap><loc>{site.url('/missing-sitemap.xml')}</loc></sitemap></sitemapindex>", "application/xml")
    report = load_sources([site.url("/sitemap-index.xml")])
    assert {a.source for a in report.articles} == {site.url("/local/harbour-wall"), site.url("/undated")}
    reasons = dict(report.skipped)
    assert reasons[site.url("/missing-sitemap.xml")].startswith("HTTP 404")
    assert reasons[site.url("/no-article")].startswith("not an article")
