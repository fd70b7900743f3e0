"""Checking answers at their source and managing the collection, in a real headless browser, on
a desktop (1400×1000) and a phone (390×844) screen.

Over `ScriptedAssistant` (deterministic models that set paragraph numbers, confidence labels,
unconfirmed candidates and clarifying questions), so these check the page, not the reader.
Screenshots go to tests/artifacts/; with NEWSQA_DOCS_SCREENSHOTS=1 the documented states are
also written, small, to docs/screenshots/. Skips without chromium unless NEWSQA_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
import time
import pytest

from ui_support import (ARTIFACTS, BRIDGE_OUTLET, BRIDGE_PUBLISHED, BRIDGE_URL, BUNDLED_TITLE, CANDIDATE_ANSWER,
                        CANDIDATE_QUESTION, CLARIFICATION, CLARIFY_QUESTION, NEW_ARTICLE_QUESTION, NEW_ARTICLE_TITLE,
                        ROOT, sized_chromium, require_browser, running_app, scripted_assistant)

pytestmark = pytest.mark.slow
WAIT_S = 60
SCREENS = {"desktop": (1400, 1000), "phone": (390, 844)}
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
UN_QUESTION = "Where will the UN talks resume?"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    require_browser()
    return scripted_assistant(tmp_path_factory.mktemp("ui-browser-chat"))


@pytest.fixture(scope="module")
def page_url(assistant):
    with running_app(assistant) as url:
        yield url


@pytest.fixture(scope="module", params=list(SCREENS))
def screen(request):
    return request.param


@pytest.fixture(scope="module")
def browser(screen, page_url, tmp_path_factory):
    driver = sized_chromium(tmp_path_factory.mktemp(f"chromium-{screen}"), screen, SCREENS[screen])
    origin = page_url.rstrip("/")
    driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    try:
        yield driver
    finally:
        driver.quit()


# --- helpers ---------------------------------------------------------------------------------

def wait(driver, timeout_s: float = WAIT_S):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout_s)


def css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def open_page(driver, url, *, keep_conversation: bool = False):
    driver.get(url)
    if not keep_conversation:
        driver.execute_script("window.localStorage.clear()")
        driver.get(url)
    wait(driver).until(lambda d: all_css(d, "#nqa-question textarea") and "indexed" in css(d, "#nqa-articles").text)


def replies(driver):
    return all_css(driver, "#nqa-chat .nqa-message")


def ask(driver, question: str):
    from selenium.webdriver.common.keys import Keys

    before = len(replies(driver))
    css(driver, "#nqa-question textarea").send_keys(question, Keys.ENTER)
    wait(driver).until(lambda d: len(replies(d)) > before)
    return replies(driver)[-1]


def click(driver, element):
    """Click as a user would, after bringing the element into view (a phone shows little at once)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", element)
    element.click()


def panel_visible(driver) -> bool:
    # Asked in one script: a hidden panel may leave the page between two WebDriver calls.
    return driver.execute_script("""
        const panel = document.querySelector('#nqa-source-panel');
        return !!panel && getComputedStyle(panel).display !== 'none' && panel.getBoundingClientRect().width > 0;
    """)


def in_view_of(driver, element, container) -> bool:
    """Whether the element lies inside the container's visible box (and the window's)."""
    return driver.execute_script("""
        const e = arguments[0].getBoundingClientRect(), c = arguments[1].getBoundingClientRect();
        return e.top >= c.top && e.bottom <= c.bottom && e.top >= 0 && e.bottom <= window.innerHeight;
    """, element, container)


def snap(driver, name: str, *, docs: bool = False) -> None:
    """A screenshot in tests/artifacts/; documented states also go, shrunk to a small palette
    PNG, to docs/screenshots/ when NEWSQA_DOCS_SCREENSHOTS=1."""
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")  # the chat, its input and the scope's heading
    path = ARTIFACTS / f"{name}-{driver.screen}.png"
    driver.save_screenshot(str(path))
    if docs and os.environ.get("NEWSQA_DOCS_SCREENSHOTS") == "1":
        from PIL import Image

        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=32, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
            small.save(DOCS_SCREENSHOTS / f"{name}-{driver.screen}.png", optimize=True)


def show_top_of(driver, reply) -> None:
    """Scroll the chat so that a reply starts at its top (the chat keeps the newest end in view)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", reply)


def close_panel(driver):
    click(driver, css(driver, "#nqa-source-close"))
    wait(driver).until(lambda d: not panel_visible(d))


# --- tests -------------------------------------------------------------------------------------

def test_a_citation_opens_the_article_scrolled_to_the_highlighted_quote(browser, page_url, assistant):
    open_page(browser, page_url)
    reply = ask(browser, UN_QUESTION)
    [number] = assistant.ask(UN_QUESTION).citation.paragraphs
    citation = reply.find_element("css selector", ".nqa-citation button.nqa-open")
    assert citation.text == f"{BUNDLED_TITLE}, ¶ {number}"
    assert "High confidence" in reply.text or "Medium confidence" in reply.text or "Low confidence" in reply.text
    assert "% likely right" in reply.text
    click(browser, citation)
    wait(browser).until(lambda d: panel_visible(d) and all_css(d, "#nqa-source mark.nqa-span"))
    mark = css(browser, "#nqa-source mark.nqa-span")
    assert mark.text == "Geneva"
    panel = css(browser, "#nqa-source-panel")
    assert BUNDLED_TITLE in css(browser, "#nqa-source .nqa-source-title").text
    assert "putin-hosts-assad-in-sochi.txt" in css(browser, "#nqa-source .nqa-source-meta").text
    cited = css(browser, "#nqa-source .nqa-cited")
    assert cited.get_attribute("id") == f"nqa-para-{number}" and f"¶ {number}" in cited.text
    wait(browser, 5).until(lambda d: in_view_of(d, mark, panel))  # scrolled to the quote
    # The panel covers the page (the whole screen on a phone) and says where the quote is.
    assert f"The quote is highlighted in ¶ {number}." in panel.text
    if browser.screen == "phone":
        assert panel.size["width"] >= 380
    snap(browser, "source-from-citation", docs=True)
    close_panel(browser)


def test_an_article_in_the_list_opens_with_outlet_date_and_link(browser, page_url):
    open_page(browser, page_url)
    opener = [b for b in all_css(browser, "#nqa-articles button.nqa-open") if b.text == NEW_ARTICLE_TITLE][0]
    click(browser, opener)
    wait(browser).until(lambda d: panel_visible(d) and NEW_ARTICLE_TITLE in css(d, "#nqa-source").text)
    meta = css(browser, "#nqa-source .nqa-source-meta")
    assert BRIDGE_OUTLET in meta.text and BRIDGE_PUBLISHED in meta.text
    assert meta.find_element("css selector", "a").get_attribute("href") == BRIDGE_URL
    assert not all_css(browser, "#nqa-source mark")
    # Escape closes the panel too.
    from selenium.webdriver.common.keys import Keys

    css(browser, "body").send_keys(Keys.ESCAPE)
    wait(browser).until(lambda d: not panel_visible(d))


def test_the_not_found_reply_shows_an_unconfirmed_candidate(browser, page_url):
    open_page(browser, page_url)
    reply = ask(browser, CANDIDATE_QUESTION)
    assert reply.find_element("css selector", ".nqa-answer").text == "The articles don't state this clearly."
    candidate = reply.find_element("css selector", ".nqa-candidate")
    assert "UNCONFIRMED" in candidate.text.upper() and CANDIDATE_ANSWER in candidate.text
    assert candidate.find_element("css selector", "mark.nqa-candidate-span").text == CANDIDATE_ANSWER
    assert "likely right" in candidate.text and "couldn't find" not in reply.text
    sources = reply.find_element("css selector", ".nqa-sources")
    assert "Other passages read" in sources.text
    click(browser, sources.find_element("css selector", "summary"))
    scores = sources.find_element("css selector", ".nqa-scores")
    assert not scores.find_element("css selector", ".nqa-score-list").is_displayed()
    show_top_of(browser, reply)
    snap(browser, "not-found-candidate", docs=True)
    click(browser, scores.find_element("css selector", "summary"))
    assert scores.find_element("css selector", ".nqa-score-list").is_displayed() and "fused" in scores.text
    # The candidate's citation opens its article too, with the words marked.
    click(browser, candidate.find_element("css selector", ".nqa-citation button.nqa-open"))
    wait(browser).until(lambda d: panel_visible(d) and all_css(d, "#nqa-source mark.nqa-span"))
    assert css(browser, "#nqa-source mark.nqa-span").text == CANDIDATE_ANSWER
    close_panel(browser)


def test_a_first_question_that_needs_context_gets_a_question_back(browser, page_url):
    open_page(browser, page_url)
    reply = ask(browser, CLARIFY_QUESTION)
    assert "nqa-clarify" in reply.get_attribute("class")
    assert reply.text == CLARIFICATION
    snap(browser, "clarifying-question", docs=browser.screen == "desktop")


def test_filtering_by_article_outlet_and_date(browser, page_url):
    from selenium.webdriver.common.keys import Keys

    open_page(browser, page_url)
    scope = css(browser, "#nqa-scope")
    assert "Search in: all articles" in scope.text
    click(browser, scope.find_element("css selector", "button.label-wrap"))
    picker = wait(browser).until(lambda d: css(d, "#nqa-scope-articles input"))
    click(browser, picker)
    picker.send_keys("Wellmouth")
    option = wait(browser).until(lambda d: [o for o in all_css(d, "ul.options li, [role=option]")
                                            if NEW_ARTICLE_TITLE in o.text])
    click(browser, option[0])
    wait(browser).until(lambda d: "1 chosen article" in css(d, "#nqa-scope").text)
    reply = ask(browser, UN_QUESTION)
    assert "couldn't find" in reply.text and "Searched only: 1 chosen article" in reply.text
    reply = ask(browser, NEW_ARTICLE_QUESTION)
    assert reply.find_element("css selector", "mark.nqa-span").text == "March 3"
    snap(browser, "search-one-article", docs=True)
    # Dates: articles without one are outside any range.
    open_page(browser, page_url)
    click(browser, css(browser, "#nqa-scope button.label-wrap"))
    since = wait(browser).until(lambda d: css(d, "#nqa-since input"))
    click(browser, since)
    since.send_keys("2026-01-01", Keys.ENTER)
    wait(browser).until(lambda d: "from 2026-01-01" in css(d, "#nqa-scope").text)
    assert "couldn't find" in ask(browser, UN_QUESTION).text
    assert "March 3" in ask(browser, NEW_ARTICLE_QUESTION).text
    # Outlets: the file has none, the web page's outlet is listed.
    outlets = css(browser, "#nqa-scope-outlets input")
    # high in the window, so that its options open below it in full (the page is taller than the window)
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", outlets)
    click(browser, outlets)
    # chosen with the keyboard, as the date was: a reply's scroll into view can still be moving the
    # page, and a click on an option that moved lands elsewhere
    wait(browser).until(lambda d: [o for o in all_css(d, "ul.options li, [role=option]")
                                   if o.text.strip() == BRIDGE_OUTLET])
    outlets.send_keys(BRIDGE_OUTLET, Keys.ENTER)
    wait(browser).until(lambda d: f"outlets {BRIDGE_OUTLET}" in css(d, "#nqa-scope").text)
    assert "March 3" in ask(browser, NEW_ARTICLE_QUESTION).text


def test_bad_and_empty_questions_stay_in_the_box_with_the_reason(browser, page_url):
    open_page(browser, page_url)
    assert "Up to 1,000 characters" in css(browser, "#nqa-question-note").text
    click(browser, css(browser, "#nqa-ask"))
    wait(browser).until(lambda d: "Type a question" in css(d, "#nqa-question-note").text)
    box = css(browser, "#nqa-question textarea")
    too_long = "Why " + "x" * 1000
    browser.execute_script(  # typing 1,000 keys one by one takes long; paste it instead
        "const box = arguments[0]; box.value = arguments[1]; box.dispatchEvent(new Event('input', {bubbles: true}));",
        box, too_long)
    click(browser, css(browser, "#nqa-ask"))
    wait(browser).until(lambda d: "limit is 1,000" in css(d, "#nqa-question-note").text)
    assert box.get_attribute("value") == too_long and not replies(browser)
    snap(browser, "question-too-long", docs=browser.screen == "phone")
    box.clear()
    ask(browser, UN_QUESTION)
    # Focus comes back to the box after an answer, ready for the next question.
    wait(browser, 5).until(lambda d: d.switch_to.active_element == css(d, "#nqa-question textarea"))


def test_the_chat_fills_a_phone_screen_and_nothing_covers_the_text(browser, page_url):
    open_page(browser, page_url)
    for question in (UN_QUESTION, NEW_ARTICLE_QUESTION, "Who did Putin meet in Sochi?"):
        ask(browser, question)
    chat = css(browser, "#nqa-chat")
    height = browser.execute_script("return window.innerHeight")
    box = css(browser, "#nqa-question textarea")
    if browser.screen == "phone":
        assert chat.size["height"] >= 0.6 * height
        assert chat.size["width"] >= 360
    # The question box is on the first screen, under the chat, without scrolling the page.
    assert browser.execute_script("return window.scrollY") == 0
    assert box.location["y"] + box.size["height"] <= height
    # Scroll the chat up: Gradio's "scroll down" arrow must not cover the messages.
    browser.execute_script("arguments[0].querySelectorAll('*').forEach(e => { if (e.scrollHeight > e.clientHeight) e.scrollTop = 0; })", chat)
    time.sleep(0.3)
    assert not [e for e in all_css(browser, "#nqa-chat .scroll-down-button-container") if e.is_displayed()]
    snap(browser, "chat", docs=browser.screen == "phone")


def test_copy_puts_the_answer_and_its_citation_on_the_clipboard(browser, page_url, assistant):
    from ui.render import copy_text

    open_page(browser, page_url)
    reply = ask(browser, UN_QUESTION)
    button = reply.find_element("css selector", "button.nqa-copy")
    click(browser, button)
    wait(browser, 5).until(lambda d: button.text in ("Copied", "Copy failed"))
    expected = copy_text(assistant.ask(UN_QUESTION))
    assert button.text == "Copied" and button.get_attribute("data-copied") == expected
    # the bundled article states no date: the citation says so rather than leave it out
    assert "Geneva" in expected and f"{BUNDLED_TITLE} (date unknown), ¶" in expected
    clipboard = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, (e) => done('unreadable: ' + e));")
    assert clipboard == expected


def test_the_conversation_survives_a_reload_and_clear_forgets_it(browser, page_url, tmp_path):
    open_page(browser, page_url)
    ask(browser, "Who did Putin meet in Sochi?")
    ask(browser, UN_QUESTION)
    assert "kept in this browser" in css(browser, "#nqa-kept-note").text
    assert "Clear chat" in css(browser, "#nqa-kept-note").text
    texts = [r.text for r in replies(browser)]
    open_page(browser, page_url, keep_conversation=True)
    wait(browser).until(lambda d: len(replies(d)) == 2)
    assert [r.text for r in replies(browser)] == texts
    # The history came back too: a follow-up is understood in its context.
    assert "Understood as: “When will the UN talks resume?”" in ask(browser, "When?").text
    snap(browser, "after-reload", docs=browser.screen == "desktop")

    # Export: the conversation as a Markdown file, made in the browser.
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    click(browser, css(browser, "#nqa-export"))
    # the file can appear before its bytes do: wait for a complete one
    wait(browser, 10).until(lambda d: [p for p in tmp_path.glob("newsqa-conversation-*.md") if p.stat().st_size])
    [exported] = list(tmp_path.glob("newsqa-conversation-*.md"))
    markdown = exported.read_text(encoding="utf-8")
    assert markdown.startswith("# News QA conversation") and markdown.count("**Q:**") == 3
    assert "**A:** Geneva" in markdown and f"*{BUNDLED_TITLE}, ¶" in markdown

    click(browser, css(browser, "#nqa-clear"))
    wait(browser).until(lambda d: not replies(d))
    open_page(browser, page_url, keep_conversation=True)
    time.sleep(1)
    assert not replies(browser)


def test_deleting_an_article_asks_first_then_removes_it_for_everyone(browser, page_url, assistant):
    from index.ids import article_id
    from qa.types import Article

    title = f"Ferry timetable for the {browser.screen}"
    text = "The Lakeside ferry will run every hour from May 1, the harbour office said on Friday."
    assistant.collection.add([Article(article_id(title, text), title, "", None, text)])
    open_page(browser, page_url)
    assert "everyone using this server" in css(browser, "#nqa-shared-note").text

    def delete_button():
        return [li for li in all_css(browser, "#nqa-articles li") if title in li.text][0] \
            .find_element("css selector", "button.nqa-delete")

    click(browser, delete_button())
    alert = wait(browser, 5).until(lambda d: d.switch_to.alert)
    assert title in alert.text and "everyone" in alert.text
    alert.dismiss()
    time.sleep(0.5)
    assert title in css(browser, "#nqa-articles").text  # dismissed: nothing deleted
    click(browser, delete_button())
    wait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    wait(browser).until(lambda d: "Deleted" in css(d, "#nqa-article-status").text)
    assert title not in css(browser, "#nqa-articles").text
    assert title not in [a.title for a in assistant.collection.articles()]
    snap(browser, "article-deleted", docs=browser.screen == "desktop")
