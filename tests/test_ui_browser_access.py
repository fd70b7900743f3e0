"""Accessibility of the chat page: axe-core (vendored, tests/vendor/axe-core) run in headless
Chromium over the page with an answer shown and with the article panel open, in light and dark
mode, at 1366×768 and 390×844: no serious or critical violation. Also: every control has a label.

Skips without chromium unless NEWSQA_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_ui_browser_chat import ask, click, css, open_page, panel_visible, wait
from ui_support import ARTIFACTS, sized_chromium, require_browser, running_app, scripted_assistant

pytestmark = pytest.mark.slow
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENS = {"desktop": (1366, 768), "phone": (390, 844)}
UN_QUESTION = "Where will the UN talks resume?"


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    require_browser()
    with running_app(scripted_assistant(tmp_path_factory.mktemp("ui-access"))) as url:
        yield url


@pytest.fixture(scope="module", params=list(SCREENS))
def browser(request, page_url, tmp_path_factory):
    screen = request.param
    driver = sized_chromium(tmp_path_factory.mktemp(f"chromium-access-{screen}"), screen, SCREENS[screen])
    try:
        yield driver
    finally:
        driver.quit()


def run_axe(driver) -> list[dict]:
    """axe's violations on the page as it is now (every rule axe runs by default)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(120)
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then(
            (r) => done(JSON.stringify(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => ({target: n.target, summary: n.failureSummary}))})))),
            (e) => done(JSON.stringify({error: String(e)})));""")
    violations = json.loads(result)
    assert isinstance(violations, list), violations
    return violations


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation(browser, page_url, theme):
    url = page_url.rstrip("/") + f"/?__theme={theme}"
    open_page(browser, url)
    assert browser.execute_script("return document.body.classList.contains('dark')") == (theme == "dark")
    # the chat's scrollbar follows the theme (in dark mode it was a white strip beside the chat)
    assert browser.execute_script("return getComputedStyle(document.querySelector('#nqa-chat')).colorScheme") \
        == ("dark" if theme == "dark" else "normal")
    reply = ask(browser, UN_QUESTION)
    found = {"answer": run_axe(browser)}
    click(browser, reply.find_element("css selector", ".nqa-citation button.nqa-open"))
    wait(browser).until(lambda d: panel_visible(d))
    found["panel"] = run_axe(browser)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{theme}-{browser.screen}.json").write_text(json.dumps(found, indent=2), encoding="utf-8")
    bad = {state: serious(v) for state, v in found.items() if serious(v)}
    assert not bad, json.dumps(bad, indent=2)


def test_every_control_has_a_label(browser, page_url):
    open_page(browser, page_url)
    unlabeled = browser.execute_script("""
        const named = (e) => (e.getAttribute('aria-label') || '').trim() || (e.labels && [...e.labels].some(
            (l) => l.textContent.trim())) || (e.getAttribute('aria-labelledby') || '').trim()
            || (e.tagName === 'BUTTON' && e.textContent.trim()) || (e.getAttribute('title') || '').trim();
        return [...document.querySelectorAll('textarea, input:not([type=hidden]), select, button')]
            .filter((e) => e.getClientRects().length && !named(e)).map((e) => e.outerHTML.slice(0, 120));""")
    assert unlabeled == []
    box = css(browser, "#nqa-question textarea")
    label = browser.execute_script("return arguments[0].getAttribute('aria-label') || "
                                   "[...arguments[0].labels].map((l) => l.textContent.trim()).join(' ')", box)
    assert "question" in label.lower()
