"""In a real headless browser, at a desktop (1366×768) and a phone (390×844) size: the paste
form's outlet and published date (a bad date refused with a message, what was typed kept), and
an upload's warnings shown to the uploader. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json

import pytest

from ui_support import ARTIFACTS, fast_assistant, headless_chromium, require_browser, running_app

pytestmark = pytest.mark.slow
WAIT_S = 120
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    require_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app(fast_assistant(tmp_path_factory.mktemp("ui-browser-articles"))) as url:
        yield url


@pytest.fixture(scope="module")
def browser(page_url, tmp_path_factory):
    driver = headless_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S)


def open_add_panel(driver, url, size):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.set_window_size(*SIZES[size])
    driver.get(url)
    wait(driver).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#nqa-question textarea")))
    wait(driver).until(lambda d: "indexed" in d.find_element(By.CSS_SELECTOR, "#nqa-articles").text)
    opener = driver.find_element(By.CSS_SELECTOR, "#nqa-add button.label-wrap")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", opener)
    opener.click()
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "#nqa-paste-title input, #nqa-paste-title textarea")
                       .is_displayed())


def field(driver, elem_id):
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.CSS_SELECTOR, f"#{elem_id} input, #{elem_id} textarea")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    return element


def paste(driver, title, text, outlet, published):
    from selenium.webdriver.common.by import By

    for elem_id, value in (("nqa-paste-title", title), ("nqa-paste-text", text), ("nqa-paste-outlet", outlet),
                           ("nqa-paste-published", published)):
        box = field(driver, elem_id)
        box.clear()
        box.send_keys(value)
    button = driver.find_element(By.CSS_SELECTOR, "#nqa-paste-add")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_paste_form_takes_an_outlet_and_a_date_and_refuses_a_bad_date(browser, page_url, size):
    from selenium.webdriver.common.by import By

    open_add_panel(browser, page_url, size)
    for elem_id in ("nqa-paste-outlet", "nqa-paste-published"):
        assert field(browser, elem_id).is_displayed()
        assert field(browser, elem_id).rect["x"] + field(browser, elem_id).rect["width"] <= SIZES[size][0]
    title = f"Harbor storm closes port ({size})"
    text = "The harbor closed on Tuesday after the storm damaged the main pier, officials said."
    paste(browser, title, text, "Harbor Times", "21/11/2017")
    status = lambda d: d.find_element(By.CSS_SELECTOR, "#nqa-add-status").text  # noqa: E731
    wait(browser).until(lambda d: "YYYY-MM-DD" in status(d))
    assert field(browser, "nqa-paste-published").get_attribute("value") == "21/11/2017"
    assert field(browser, "nqa-paste-title").get_attribute("value") == title  # nothing typed is lost
    paste(browser, title, text, "Harbor Times", "2017-11-21")
    wait(browser).until(lambda d: "Added" in status(d))
    assert f"Added “{title}” (Harbor Times, 2017-11-21)." in status(browser)
    assert field(browser, "nqa-paste-published").get_attribute("value") == ""
    browser.save_screenshot(str(ARTIFACTS / f"paste-outlet-date-{size}.png"))


@pytest.mark.parametrize("size", list(SIZES))
def test_an_uploads_warnings_reach_the_uploader(browser, page_url, size, tmp_path):
    from selenium.webdriver.common.by import By

    upload = tmp_path / f"records-{size}.json"
    upload.write_text(json.dumps([{"title": f"Bridge reopens ({size})", "text": "The bridge reopened on Monday.",
                                   "url": "javascript:alert(1)"}]), encoding="utf-8")
    open_add_panel(browser, page_url, size)
    browser.find_element(By.CSS_SELECTOR, "#nqa-upload input[type=file]").send_keys(str(upload))
    status = lambda d: d.find_element(By.CSS_SELECTOR, "#nqa-upload-status").text  # noqa: E731
    wait(browser).until(lambda d: "Added" in status(d))
    shown = status(browser)
    assert f"records-{size}.json#1: dropped the url 'javascript:alert(1)'" in shown
    assert str(tmp_path) not in shown
    note = browser.find_element(By.CSS_SELECTOR, "#nqa-upload-status .nqa-status-warning")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", note)
    assert note.is_displayed() and note.rect["x"] + note.rect["width"] <= SIZES[size][0]
    browser.save_screenshot(str(ARTIFACTS / f"upload-warning-{size}.png"))
