"""The chat's "Add by link": pages, feeds and PDFs added from the browser or `gradio_client`,
each failed link one status line, and links to the server's own network refused."""

from __future__ import annotations

import pytest

from ui import handlers as h
from ui.uploads import UploadHandlers, check_link
from ui_support import client, fast_assistant, running_app
from web_support import NewsSite


@pytest.fixture(scope="module")
def site():
    with NewsSite() as s:
        yield s


def test_links_are_added_and_each_failure_is_one_line(site, tmp_path):
    handlers = h.Handlers(fast_assistant(tmp_path))
    handlers.fetch_private_links = True  # the test's site is on 127.0.0.1
    status, articles, box = handlers.add_links(f"{site.url('/world/geneva-talks')}\n{site.url('/missing')}  "
                                               f"{site.url('/binary')} ftp://example.org/x")
    assert "Added “Geneva Talks Resume”." in status and "Geneva Talks Resume" in articles
    assert f"{site.url('/missing')}: HTTP 404" in status
    assert f"{site.url('/binary')}: not an article (binary content sent as text/html)" in status
    assert "ftp://example.org/x: not a web address" in status
    assert box != ""  # something failed: what was typed stays
    status, _, box = handlers.add_links(site.url("/local/harbour"))
    assert "Added “Council Approves Harbour Rebuild”." in status and box == ""


def test_links_to_the_servers_own_network_are_not_fetched(site, tmp_path):
    assert check_link("ftp://example.org/x").startswith("not a web address")
    handlers = h.Handlers(fast_assistant(tmp_path))
    before = len(site.requests)
    status, _, _ = handlers.add_links(f"{site.url('/world/geneva-talks')} http://localhost:9/story")
    assert f"{site.url('/world/geneva-talks')}: refused: 127.0.0.1 is this machine or on a private network" in status
    assert "http://localhost:9/story: refused: localhost is this machine" in status
    assert len(site.requests) == before  # nothing was fetched


def test_a_redirect_into_the_private_network_is_refused_too(site, monkeypatch):
    import index.fetch
    from index.fetch import FetchError, FetchLimits, fetch

    # "localhost" passes for a public host here; the redirect then leads to 127.0.0.1
    real = index.fetch.resolve
    monkeypatch.setattr(index.fetch, "resolve", lambda host: {"93.184.216.34"} if host == "localhost" else real(host))
    start = site.url("/to-ip").replace("127.0.0.1", "localhost")
    with pytest.raises(FetchError, match="refused: 127.0.0.1 is this machine"):
        fetch(start, FetchLimits(private_addresses=False))
    assert any(path == "/to-ip" for path, _ in site.requests)  # the first hop was fetched
    assert fetch(start).final_url == site.url("/world/geneva-talks")


def test_add_links_through_the_server(site, tmp_path, monkeypatch):
    monkeypatch.setattr(UploadHandlers, "fetch_private_links", True)
    with running_app(fast_assistant(tmp_path)) as url:
        api = client(url)
        status, _, box = api.predict(site.url("/health/measles"), api_name="/add_links")
        assert "Added “Schools To Get Measles Vaccine”." in status and box == ""
        titles = {a["title"] for a in api.predict(api_name="/articles")}
        assert "Schools To Get Measles Vaccine" in titles
