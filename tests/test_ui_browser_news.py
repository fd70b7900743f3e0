"""News answers in a real headless browser, on a desktop (1400×1000) and a phone (390×844)
screen: who reported the quote and when, how many stories agree (expanding to them), "But
Outlet (date) says …" with its own citation that opens the article, an older report replaced by
a newer one, and answering as of a day from "Search in".

A real index over the articles written for `test_news_answers` (a death toll reported
differently over three days) with a reader that quotes given spans. Screenshots go to
tests/artifacts/, and with NEWSQA_DOCS_SCREENSHOTS=1 to docs/screenshots/ too.
"""

from __future__ import annotations

import pytest

from qa import Assistant, Settings
from fakes import HashEmbedder
from test_answer_policy import ScriptedReader
from test_news_answers import ARTICLES, TOLL
from test_ui_browser_chat import SCREENS, all_css, ask, click, close_panel, css, open_page, panel_visible, snap, wait
from ui_support import sized_chromium, require_browser, running_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def news_url(tmp_path_factory):
    require_browser()
    folder = tmp_path_factory.mktemp("ui-news") / "idx"
    reader = ScriptedReader([("about 200", 4.5), ("two hundred", 4.0), ("200", 5.0), ("340", 3.0)])
    assistant = Assistant.build(ARTICLES, folder, Settings(index_dir=folder, top_k=4), embedder=HashEmbedder(),
                                reader=reader)
    with running_app(assistant) as url:
        yield url


@pytest.fixture(scope="module", params=list(SCREENS))
def news_browser(request, news_url, tmp_path_factory):
    screen = request.param
    driver = sized_chromium(tmp_path_factory.mktemp(f"chromium-news-{screen}"), screen, SCREENS[screen])
    try:
        yield driver
    finally:
        driver.quit()


def test_a_newer_report_replaces_an_older_one_which_is_shown_as_a_conflict(news_browser, news_url):
    open_page(news_browser, news_url)
    reply = ask(news_browser, TOLL)
    assert reply.find_element("css selector", ".nqa-answer").text == "340"
    assert "Reuters · 22 Nov 2017" in reply.find_element("css selector", ".nqa-citation").text
    conflicts = reply.find_elements("css selector", ".nqa-conflict")
    texts = [c.text for c in conflicts]
    assert any(t.startswith("But BBC News (20 Nov 2017) says “200” (earlier reporting)") for t in texts), texts
    assert any(t.startswith("But apnews.com (19 Nov 2017) says “two hundred”") for t in texts), texts
    news_browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", reply)
    snap(news_browser, "news-newest-wins", docs=True)
    # the conflict's own citation opens its article at the words it gives
    bbc = next(c for c in conflicts if "BBC News" in c.text)
    click(news_browser, bbc.find_element("css selector", "button.nqa-open"))
    wait(news_browser).until(lambda d: panel_visible(d) and all_css(d, "#nqa-source mark.nqa-span"))
    assert css(news_browser, "#nqa-source mark.nqa-span").text == "200"
    assert "Quake report bbc1" in css(news_browser, "#nqa-source .nqa-source-title").text
    snap(news_browser, "news-conflict-source", docs=True)
    close_panel(news_browser)


def test_as_of_a_day_the_agreeing_stories_are_counted_and_listed(news_browser, news_url):
    from selenium.webdriver.common.keys import Keys

    open_page(news_browser, news_url)
    click(news_browser, css(news_browser, "#nqa-scope button.label-wrap"))
    as_of = wait(news_browser).until(lambda d: css(d, "#nqa-as-of input"))
    click(news_browser, as_of)
    as_of.send_keys("2017-11-21", Keys.ENTER)
    wait(news_browser).until(lambda d: "until 2017-11-21" in css(d, "#nqa-scope").text)
    reply = ask(news_browser, TOLL)
    assert reply.find_element("css selector", ".nqa-answer").text == "200"
    assert "BBC News · 20 Nov 2017" in reply.find_element("css selector", ".nqa-citation").text
    assert not reply.find_elements("css selector", ".nqa-conflict")  # Reuters' 340 came later
    agreement = reply.find_element("css selector", ".nqa-support summary")
    assert agreement.text == "2 articles from 2 outlets agree"  # the undated copy is outside any as-of day
    click(news_browser, agreement)
    item = wait(news_browser).until(lambda d: reply.find_element("css selector", ".nqa-support-item"))
    wait(news_browser).until(lambda d: item.is_displayed())
    assert "apnews.com · 19 Nov 2017" in item.text and "two hundred" in item.text
    news_browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", reply)
    snap(news_browser, "news-agreement-as-of", docs=True)
