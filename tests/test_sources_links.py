"""Links: fetched from a real HTTP server on 127.0.0.1 with the limits, read by trafilatura, and
each failure one line naming the address and the reason, while the other links still load."""

from __future__ import annotations

import time

import pytest

from index.fetch import FetchError, FetchLimits, fetch
from index.sources import load_sources

from web_support import HUGE_BYTES, NewsSite

FAST = FetchLimits(timeout_s=1.0)


@pytest.fixture(scope="module")
def site():
    with NewsSite() as s:
        yield s


def test_a_link_becomes_an_article_with_what_the_page_states(site):
    report = load_sources([site.url("/local/harbour")])
    assert report.skipped == []
    [article] = report.articles
    assert article.title == "Council Approves Harbour Rebuild"
    assert article.source == site.url("/local/harbour-wall")  # the canonical URL, not the address asked
    assert article.published.startswith("2018-03-05")
    assert article.author == "Anna Keller"
    assert article.site_name == "Seeblick Zeitung"
    assert article.language == "de-CH"
    assert "42 million euros" in article.text and "cookies" not in article.text
    assert any(ua.startswith("newsqa/") for path, ua in site.requests if path == "/local/harbour")


def test_every_failure_is_one_line_naming_the_address_and_the_reason(site):
    good = site.url("/world/geneva-talks")
    bad = {
        "/missing": "HTTP 404",
        "/loop/a": "redirect loop",
        "/redirect/9": "too many redirects",
        "/binary": "not an article (binary content sent as text/html)",
        "/no-article": "not an article (no article text found",
        "/image.png": "not an article (content type image/png",
        "/huge-declared": "too large",
    }
    report = load_sources([site.url(p) for p in bad] + ["http://no-such-host.invalid/story", good], limits=FAST)
    assert [a.source for a in report.articles] == [good]
    reasons = dict(report.skipped)
    assert len(report.skipped) == len(bad) + 1
    for path, reason in bad.items():
        assert reasons[site.url(path)].startswith(reason), (path, reasons[site.url(path)])
        assert "\n" not in reasons[site.url(path)]
    assert reasons["http://no-such-host.invalid/story"].startswith("DNS: cannot resolve the host")


def test_a_redirect_chain_within_the_limit_is_followed(site):
    fetched = fetch(site.url("/redirect/4"))  # five redirects
    assert fetched.final_url == site.url("/world/geneva-talks")
    with pytest.raises(FetchError, match="too many redirects"):
        fetch(site.url("/redirect/5"))  # six


def test_a_slow_response_times_out_at_the_limit(site):
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 1 s"):
        fetch(site.url("/slow"), FAST)
    assert time.monotonic() - started < site.slow_s


def test_a_50_mb_body_is_never_read_whole(site):
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"too large \(more than 10 MB; stopped reading\)"):
        fetch(site.url("/huge"))
    assert time.monotonic() - started < 10
    time.sleep(0.2)
    # the client hung up after the limit: the server could not send the rest (socket buffers aside)
    assert site.sent_huge < HUGE_BYTES / 2


def test_a_declared_oversize_body_is_refused_before_reading(site):
    with pytest.raises(FetchError, match=r"too large \(50.0 MB; the limit is 10 MB\)"):
        fetch(site.url("/huge-declared"))


def test_a_page_that_states_no_date_gets_none(site):
    [article] = load_sources([site.url("/undated")]).articles
    assert article.published is None
    assert article.source == site.url("/undated")  # no canonical link: the address fetched


def test_a_page_without_a_declared_charset_is_read_as_it_declares_itself(site):
    page = ("<html><head><meta charset='windows-1252'><title>Caf\xe9 Owners Protest</title></head><body><article>"
            "<h1>Caf\xe9 Owners Protest</h1>" + "".join(f"<p>Caf\xe9 owners in the old town protested on Monday "
                                                      f"against the new terrace fees, point {n}.</p>" for n in range(6))
            + "</article></body></html>")
    url = site.add("/cp1252", page.encode("cp1252"), "text/html")
    [article] = load_sources([url]).articles
    assert "Café owners" in article.text and "\ufffd" not in article.text
