"""`qa index add URL... PATH...` and `qa index watch FEED --once` through the real entry point,
against the local news site: failed links are one warning line each, the rest is indexed."""

from __future__ import annotations

import json

import pytest

from conftest import SAMPLES
from test_cli import QA, assert_one_line_error, env, qa  # noqa: F401  (the module's fixtures and helpers)
from web_support import PARAGRAPHS, NewsSite, rss

pytestmark = pytest.mark.skipif(not QA.exists(), reason="the qa console script is not installed (pip install -e .)")


@pytest.fixture(scope="module")
def site():
    with NewsSite() as s:
        yield s


def test_index_add_mixes_links_and_paths_and_names_each_failed_link(env, site, tmp_path):  # noqa: F811
    folder = tmp_path / "idx"
    proc = qa(env, "index", "add", site.url("/world/geneva-talks"), SAMPLES / "briefing.md", site.url("/loop/a"),
              site.url("/missing"), "--index", folder)
    assert "added 2 new article(s)" in proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: skipped")]
    assert len(warnings) == 2
    assert any(site.url("/loop/a") in w and "redirect loop" in w for w in warnings)
    assert any(site.url("/missing") in w and "HTTP 404" in w for w in warnings)
    info = json.loads(qa(env, "index", "info", "--index", folder, "--json").stdout)
    page = next(a for a in info["articles"] if a["source"] == site.url("/world/geneva-talks"))
    assert page["published"] == "2017-11-28" and "duplicate_of" in page and page["language"] == "en"


def test_watch_once_adds_new_feed_items_and_links_copies(env, site, tmp_path):  # noqa: F811
    folder = tmp_path / "idx"
    copy = "".join(f"<p>{p}</p>" for p in ["MEASLES (Agency) - From our correspondents."] + PARAGRAPHS["vaccine"]
                   + ["Correction: an earlier version gave the wrong number of districts."])
    site.add("/watch.xml", rss(site, [
        {"title": "Schools To Get Measles Vaccine", "link": site.url("/health/measles")},
        {"title": "Measles campaign in schools", "link": site.url("/agency/measles"), "content": copy}]),
        "application/rss+xml")
    proc = qa(env, "index", "watch", site.url("/watch.xml"), "--once", "--index", folder)
    assert "added 2 new article(s) (1 copies of indexed stories)" in proc.stdout, proc.stdout
    info = json.loads(qa(env, "index", "info", "--index", folder, "--json").stdout)
    by_source = {a["source"]: a for a in info["articles"]}
    first, second = by_source[site.url("/health/measles")], by_source[site.url("/agency/measles")]
    assert second["duplicate_of"] == first["id"] and first["site_name"] == "Le Courrier Santé"
    again = qa(env, "index", "watch", site.url("/watch.xml"), "--once", "--index", folder)
    assert "added 0 new article(s)" in again.stdout
    assert_one_line_error(qa(env, "index", "watch", site.url("/watch.xml"), "--every", "soon", "--index", folder,
                             check=False), "--every takes a duration")


def test_serve_checks_its_watch_interval_before_loading_anything(env, tmp_path):  # noqa: F811
    assert_one_line_error(qa(env, "serve", "--watch", "https://example.org/rss.xml", "--every", "0m", check=False),
                          "--every takes a duration")
