"""The first minute in the chat, in a real headless browser at 1366×768 and 390×844: what is
loaded, what to ask and the question box on the first screen; replies always in view; the
article list paged and searchable (and the "Search in" picker searching it); and the small
glitches: no empty "✗" after an upload, "Search in" kept after a delete, one paragraph
numbering, the "Understood as" rewrite in the export; focus into and back from the article panel.

Over `ScriptedAssistant` (deterministic models), so these check the page, not the reader.
Skips without chromium unless NEWSQA_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import re
import time

import pytest

from test_ui_browser_chat import all_css, ask, click, css, open_page, panel_visible, replies, snap, wait
from ui_support import (BRIDGE_PUBLISHED, NEW_ARTICLE_QUESTION, NEW_ARTICLE_TEXT, NEW_ARTICLE_TITLE,
                        sized_chromium, require_browser, running_app, scripted_assistant)

pytestmark = pytest.mark.slow
SCREENS = {"desktop": (1366, 768), "phone": (390, 844)}
UN_QUESTION = "Where will the UN talks resume?"
FERRIES = 25  # more than a page of the list (20)


def ferry(n: int) -> tuple[str, str]:
    return (f"Ferry timetable {n:02d} for Lakeside",
            f"The Lakeside ferry number {n} will run every hour from May {n}, the harbour office said.")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from index.ids import article_id
    from qa.types import Article

    require_browser()
    assistant = scripted_assistant(tmp_path_factory.mktemp("ui-first-screen"))
    assistant.collection.add([Article(article_id(*ferry(n)), ferry(n)[0], "", None, ferry(n)[1])
                              for n in range(1, FERRIES + 1)])
    return assistant


@pytest.fixture(scope="module")
def page_url(assistant):
    with running_app(assistant) as url:
        yield url


@pytest.fixture(scope="module", params=list(SCREENS))
def browser(request, page_url, tmp_path_factory):
    screen = request.param
    driver = sized_chromium(tmp_path_factory.mktemp(f"chromium-first-{screen}"), screen, SCREENS[screen])
    try:
        yield driver
    finally:
        driver.quit()


def box_of(driver, selector) -> dict:
    return driver.execute_script("const r = document.querySelector(arguments[0]).getBoundingClientRect();"
                                 "return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY};", selector)


def visible_in_window(driver, element) -> bool:
    return driver.execute_script("const r = arguments[0].getBoundingClientRect();"
                                 "return r.height > 0 && r.bottom > 0 && r.top < window.innerHeight;", element)


# --- the first screen ------------------------------------------------------------------------

def test_the_first_screen_says_what_is_loaded_what_to_ask_and_takes_a_question(browser, page_url, assistant):
    open_page(browser, page_url)
    total = len(assistant.collection.article_infos())
    loaded = wait(browser).until(lambda d: css(d, "#nqa-loaded") if "loaded" in css(d, "#nqa-loaded").text else None)
    # the newest by date is the dated web article (the others state no date)
    assert f"{total} articles loaded" in loaded.text and NEW_ARTICLE_TITLE in loaded.text
    assert "24 Feb 2026" in loaded.text and BRIDGE_PUBLISHED  # the date as news prints it
    height = browser.execute_script("return window.innerHeight")
    assert browser.execute_script("return window.scrollY") == 0
    if browser.screen == "desktop":  # the box, in the window, takes the focus; a phone's page is not scrolled to it
        wait(browser).until(lambda d: d.execute_script(
            "return document.activeElement === document.querySelector('#nqa-question textarea')"))
    parts = [box_of(browser, s) for s in ("#nqa-loaded", "#nqa-chat-column .gallery, #nqa-chat-column button.gallery-item",
                                          "#nqa-question textarea")]
    example_text = " ".join(e.text for e in all_css(browser, "#nqa-chat-column button.gallery-item"))
    assert "Who did Putin meet in Sochi?" in example_text
    # in this order: what is loaded, what to ask, the box
    assert parts[0]["bottom"] <= parts[1]["top"] + 1 and parts[1]["bottom"] <= parts[2]["top"] + 1
    limit = height if browser.screen == "desktop" else 2 * height
    assert parts[2]["bottom"] <= limit, (parts, limit)
    snap(browser, "first-screen", docs=True)


def test_a_reply_after_clear_chat_is_scrolled_into_view(browser, page_url):
    open_page(browser, page_url)
    ask(browser, UN_QUESTION)
    # the page is taller than the window: scroll to its end, as one does to reach "Clear chat"
    assert browser.execute_script("return document.documentElement.scrollHeight > window.innerHeight + 100")
    browser.execute_script("window.scrollTo(0, document.documentElement.scrollHeight)")
    css(browser, "#nqa-clear").click()
    wait(browser).until(lambda d: not replies(d))
    browser.execute_script("window.scrollTo(0, document.documentElement.scrollHeight)")
    chip = [b for b in all_css(browser, "#nqa-chat-column button.gallery-item") if "Sochi" in b.text][0]
    click(browser, chip)  # an example asks at once
    wait(browser).until(lambda d: len(replies(d)) == 1)
    wait(browser, 5).until(lambda d: visible_in_window(d, replies(d)[-1]))
    # and typed questions too, from wherever the page was scrolled
    browser.execute_script("window.scrollTo(0, document.documentElement.scrollHeight)")
    reply = ask(browser, NEW_ARTICLE_QUESTION)
    wait(browser, 5).until(lambda d: visible_in_window(d, reply))


# --- the article list ------------------------------------------------------------------------

def test_the_article_list_is_paged_and_searchable(browser, page_url, assistant):
    open_page(browser, page_url)
    total = len(assistant.collection.article_infos())
    articles = css(browser, "#nqa-articles")
    assert f"{total} articles indexed" in articles.text and "showing 1–20" in articles.text
    assert len(all_css(browser, "#nqa-articles li.nqa-article")) == 20
    assert pager(browser) == {"older"}  # nothing newer than the first page
    click(browser, css(browser, "#nqa-articles-older"))
    wait(browser).until(lambda d: f"showing 21–{total}" in css(d, "#nqa-articles").text)
    assert len(all_css(browser, "#nqa-articles li.nqa-article")) == total - 20
    wait(browser).until(lambda d: pager(d) == {"newer"})  # the last page: nothing older
    click(browser, css(browser, "#nqa-articles-newer"))
    wait(browser).until(lambda d: "showing 1–20" in css(d, "#nqa-articles").text)
    query = css(browser, "#nqa-article-query input, #nqa-article-query textarea")
    click(browser, query)
    query.send_keys("timetable 07")
    wait(browser).until(lambda d: "1 match" in css(d, "#nqa-articles").text)
    [item] = all_css(browser, "#nqa-articles li.nqa-article")
    assert ferry(7)[0] in item.text
    wait(browser).until(lambda d: pager(d) == set())  # one page of matches: neither
    query.clear()
    query.send_keys("no such words")
    wait(browser).until(lambda d: "No article matches" in css(d, "#nqa-articles").text)


def pager(driver) -> set[str]:
    """Which of "Newer" and "Older" the article list shows."""
    return {name for name in ("newer", "older")
            if any(e.is_displayed() for e in all_css(driver, f"#nqa-articles-{name}"))}


def choose_article(driver, words: str, title: str) -> None:
    """Pick one article in "Search in": find it by words of its title, then choose it."""
    if not [e for e in all_css(driver, "#nqa-scope-find") if e.is_displayed()]:
        click(driver, css(driver, "#nqa-scope button.label-wrap"))
    finder = wait(driver).until(lambda d: css(d, "#nqa-scope-find input, #nqa-scope-find textarea"))
    click(driver, finder)
    finder.send_keys(words)
    picker = css(driver, "#nqa-scope-articles input")

    def option(d):
        if d.switch_to.active_element != picker:
            click(d, picker)
        return [o for o in all_css(d, "ul.options li, [role=option]") if title in o.text]

    click(driver, wait(driver).until(option)[0])


def test_search_in_finds_articles_beyond_the_first_page_and_keeps_them_after_a_delete(browser, page_url, assistant):
    from index.ids import article_id
    from qa.types import Article

    title = f"Doomed notice for the {browser.screen}"
    text = "This notice about the Lakeside marina will be deleted by the test on Friday."
    assistant.collection.add([Article(article_id(title, text), title, "", None, text)])
    open_page(browser, page_url)
    # the oldest ferry is not among the first choices; typing finds it
    choose_article(browser, "timetable 01", ferry(1)[0])
    wait(browser).until(lambda d: "1 chosen article" in css(d, "#nqa-scope").text)
    query = css(browser, "#nqa-article-query input, #nqa-article-query textarea")
    click(browser, query)
    query.send_keys("doomed notice")
    wait(browser).until(lambda d: "1 match" in css(d, "#nqa-articles").text)
    item = [li for li in all_css(browser, "#nqa-articles li") if title in li.text][0]
    click(browser, item.find_element("css selector", "button.nqa-delete"))
    wait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    wait(browser).until(lambda d: "Deleted" in css(d, "#nqa-article-status").text)
    # the list comes back as the user left it: still searched
    wait(browser).until(lambda d: "No article matches" in css(d, "#nqa-articles").text)
    time.sleep(1.5)  # the choices are refreshed after the delete
    assert "1 chosen article" in css(browser, "#nqa-scope").text
    chosen = browser.execute_script(
        "return Array.from(document.querySelectorAll('#nqa-scope-articles .token')).map(t => t.textContent)")
    assert any(ferry(1)[0] in c for c in chosen), chosen
    reply = ask(browser, "When will the ferry run?")
    assert "Searched only: 1 chosen article" in reply.text


# --- glitches --------------------------------------------------------------------------------

def test_a_good_upload_shows_no_empty_error_mark(browser, page_url, tmp_path):
    article = tmp_path / f"bridge-{browser.screen}.txt"
    article.write_text(NEW_ARTICLE_TEXT.replace("Wellmouth", f"Wellmouth {browser.screen}"), encoding="utf-8")
    open_page(browser, page_url)
    click(browser, css(browser, "#nqa-add button.label-wrap"))
    wait(browser).until(lambda d: css(d, "#nqa-upload input[type=file]")).send_keys(str(article))
    wait(browser).until(lambda d: "Added" in css(d, "#nqa-upload-status").text)
    marks = browser.execute_script("""
        return Array.from(document.querySelectorAll('#nqa-add .nqa-status-error'))
          .filter(e => e.getClientRects().length && !e.hidden).map(e => e.textContent.trim());""")
    assert marks == [], marks
    assert "✗" not in css(browser, "#nqa-add").text


def test_passages_read_are_numbered_as_the_article_numbers_its_paragraphs(browser, page_url, assistant):
    open_page(browser, page_url)
    reply = ask(browser, UN_QUESTION)
    heads = reply.find_elements("css selector", ".nqa-passage-head, .nqa-score-list li")
    labels = browser.execute_script("return arguments[0].map(e => e.textContent)", heads)
    assert labels and all(re.search(r"¶ \d", label) for label in labels), labels
    assert not any(re.search(r"passage \d", label) for label in labels), labels
    # the same numbers as the panel the button opens
    first = reply.find_element("css selector", ".nqa-passage-head button.nqa-open")
    number = re.search(r"¶ (\d+)", browser.execute_script("return arguments[0].textContent", first)).group(1)
    browser.execute_script("arguments[0].closest('details').open = true", first)
    click(browser, first)
    wait(browser).until(lambda d: panel_visible(d) and all_css(d, "#nqa-source .nqa-cited"))
    assert css(browser, "#nqa-source .nqa-cited").get_attribute("id") == f"nqa-para-{number}"


def test_focus_moves_into_the_article_panel_and_back(browser, page_url):
    open_page(browser, page_url)
    reply = ask(browser, UN_QUESTION)
    citation = reply.find_element("css selector", ".nqa-citation button.nqa-open")
    click(browser, citation)
    wait(browser).until(lambda d: panel_visible(d))
    wait(browser, 5).until(lambda d: d.switch_to.active_element == css(d, "#nqa-source .nqa-source-title"))
    click(browser, css(browser, "#nqa-source-close"))
    wait(browser).until(lambda d: not panel_visible(d))
    wait(browser, 5).until(lambda d: d.switch_to.active_element == citation)


def test_the_export_keeps_how_a_follow_up_was_understood(browser, page_url, tmp_path):
    open_page(browser, page_url)
    ask(browser, UN_QUESTION)
    assert "Understood as: “When will the UN talks resume?”" in ask(browser, "When?").text
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    click(browser, css(browser, "#nqa-export"))
    # the file can appear before its bytes do: wait for a complete one
    wait(browser, 10).until(lambda d: [p for p in tmp_path.glob("newsqa-conversation-*.md") if p.stat().st_size])
    [exported] = list(tmp_path.glob("newsqa-conversation-*.md"))
    markdown = exported.read_text(encoding="utf-8")
    assert "**Q:** When?" in markdown and "*Understood as: “When will the UN talks resume?”*" in markdown
