"""Helpers for the UI tests: assistants to serve, a server on a free port, a headless browser.

`fast_assistant` is the real `qa.Assistant` with the deterministic fakes from tests/fakes.py
(hash embedder, keyword reader), so wiring tests run in seconds; `real_assistant` uses the
packaged embedder and the shipped reader. Both index a private copy of the bundled article.
`scripted_assistant` adds, over the fast one, the answer-checking fields (paragraph numbers,
confidence labels, unconfirmed candidates, clarifying questions, scopes) deterministically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from fakes import HashEmbedder, KeywordReader

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "qa" / "data" / "putin-hosts-assad-in-sochi.txt"
BUNDLED_TITLE = "Putin Hosts Surprise Syrian Talks With Assad In Sochi"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# Keys are matched inside the (resolved) question, answers inside the passages.
KEYWORD_ANSWERS = {
    "people have been killed": "330,000",
    "putin meet in sochi": "Bashar al-Assad",
    "foreign operations for iran": "Major General Qassem Soleimani",
    "message published": "Sepah news site",
    "where will the un talks": "Geneva",
    "when will the un talks": "November 28",
    "harbor bridge": "March 3",
    "mayor of testville": "Jane Roe",
}

# An article that is not in the index until a test uploads it.
NEW_ARTICLE_TITLE = "Wellmouth Harbor Bridge to reopen after repairs"
NEW_ARTICLE_TEXT = (
    f"{NEW_ARTICLE_TITLE}\n\n"
    "The Harbor Bridge in Wellmouth will reopen to traffic on March 3 after eight months of repairs, "
    "the city council said on Tuesday.\n\n"
    "Engineers replaced the bridge's steel cables and resurfaced its deck, the council said.\n"
)
NEW_ARTICLE_QUESTION = "When will the Harbor Bridge in Wellmouth reopen?"

# Markup hostile articles might carry; the chat must show it as text. The two articles share
# words, so whichever one is cited, the other is listed among the sources.
HOSTILE_TITLE = "Testville <b>news</b> <script>alert(2)</script>"
HOSTILE_TEXT = (
    "The mayor of Testville is Jane Roe, who was elected last spring by a wide margin. "
    "<script>alert(1)</script> <img src=x onerror=\"document.title='pwned'\"> "
    "She promised to repair every road in the town before the winter comes.\n"
)
HOSTILE_TITLE_2 = "Testville roads <img src=x onerror=\"document.title='pwned'\">"
HOSTILE_TEXT_2 = (
    "Road crews in Testville began work on Monday, the office of the mayor of Testville said. "
    "<img src=x onerror=\"document.title='pwned'\"> <script>alert(3)</script> "
    "The work on the roads of Testville will last until the end of the year.\n"
)
HOSTILE_QUESTION = "Who is the mayor of Testville?"


def copy_bundled(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / BUNDLED.name
    shutil.copy(BUNDLED, target)
    return target


def fast_assistant(folder: Path):
    from qa import Assistant, Settings

    index_dir = folder / "index"
    settings = Settings(index_dir=index_dir, cache_dir=folder / "cache")
    return Assistant.build([copy_bundled(folder / "articles")], index_dir, settings,
                           embedder=HashEmbedder(), reader=KeywordReader(KEYWORD_ANSWERS))


def real_assistant(folder: Path, embedder, reader):
    from qa import Assistant, Settings

    index_dir = folder / "index"
    settings = Settings(index_dir=index_dir, cache_dir=folder / "cache")
    return Assistant.build([copy_bundled(folder / "articles")], index_dir, settings,
                           embedder=embedder, reader=reader)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(assistant, **build_options):
    """The real app served on a free local port; yields its URL and closes it afterwards."""
    from ui.app import build_app, launch_app

    app = build_app(assistant, **build_options)
    url = launch_app(app, "127.0.0.1", free_port(), block=False)
    try:
        yield url
    finally:
        app.close()


def client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def require_browser() -> None:
    """Skip without Debian's chromium and chromedriver, unless CI says they must be there."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    reason = (f"browser test needs {' and '.join(missing)} "
              "(apt-get install -y chromium chromium-driver)")
    if os.environ.get("NEWSQA_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; NEWSQA_REQUIRE_BROWSER=1 forbids skipping")
    pytest.skip(reason)


def headless_chromium(profile_dir: Path, *, performance_log: bool = False):
    """Debian's chromium through its chromedriver; the explicit path keeps selenium-manager from downloading.

    `performance_log`: keep the DevTools network events (`driver.get_log("performance")`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1400,1100", f"--user-data-dir={profile_dir}"):
        options.add_argument(arg)
    if performance_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    return driver


def sized_chromium(profile_dir: Path, screen: str, size: tuple[int, int]):
    """`headless_chromium` emulating a screen of `size` (a phone's touch and viewport when `screen` is
    "phone"); `driver.screen` names it for screenshots."""
    driver = headless_chromium(profile_dir)
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": screen == "phone"})
    driver.screen = screen
    return driver


# --- a stand-in for the assistant's answer-checking fields ----------------------------------

BRIDGE_URL = "https://www.wellmouth-gazette.example/2026/harbor-bridge"
BRIDGE_OUTLET = "wellmouth-gazette.example"
BRIDGE_PUBLISHED = "2026-02-24"
CLARIFY_QUESTION = "When?"
CLARIFICATION = "When did what happen? Ask the whole question, for example “When will the UN talks resume?”"
CANDIDATE_QUESTION = "How many refugees have returned home to Syria?"
CANDIDATE_ANSWER = "6.1 million"


class ScriptedAssistant:
    """The fast assistant with the fields that `qa` fills in for checking answers set the way
    the real assistant sets them, deterministically: `Citation.paragraphs`, `related`,
    `confidence`, a `candidate` for `CANDIDATE_QUESTION`, a `clarification` for a first
    `CLARIFY_QUESTION`; it searches only the given scope.

    It speaks the assistant's contract (`ui.assistant_like.AssistantLike`).
    """

    def __init__(self, inner):
        self.inner = inner
        self.settings = inner.settings
        self.collection = inner.collection  # adding, removing and listing pass straight through
        self.scopes: list = []  # the scope of each ask_many call, for tests

    def check_question(self, question):
        return self.inner.check_question(question)

    def ask(self, question, history=None, *, top_k=None, scope=None):
        return self.ask_many([(question, history)], top_k=top_k, scope=scope)[0]

    def ask_many(self, questions, *, top_k=None, scope=None):
        self.scopes.append(scope)
        allowed = self._allowed(scope)
        return [self._answer(question, history, top_k, allowed) for question, history in questions]

    def _allowed(self, scope) -> set[str]:
        ids = set()
        for info in self.collection.article_infos():
            if scope is not None:
                if scope.articles is not None and info["id"] not in scope.articles:
                    continue
                if scope.outlets is not None and info["outlet"] not in scope.outlets:
                    continue
                published = info.get("published")
                if (scope.since or scope.until) and not published:
                    continue
                if scope.since and published < scope.since or scope.until and published > scope.until:
                    continue
            ids.add(info["id"])
        return ids

    def _answer(self, question, history, top_k, allowed):
        from qa.types import AskResult, Candidate

        if not history and question.strip() == CLARIFY_QUESTION:
            return AskResult.clarify(question, question, CLARIFICATION)
        result = self.inner.ask(question, history, top_k=top_k)
        words = {w for w in re.findall(r"\w+", question.lower()) if len(w) > 3}
        passages = [dataclasses.replace(p, related=bool(words & set(re.findall(r"\w+", p.text.lower()))))
                    for p in result.passages if p.article_id in allowed]
        result = dataclasses.replace(result, passages=passages)
        if result.found and result.citation.article_id in allowed:
            citation = dataclasses.replace(result.citation, paragraphs=self._paragraphs(result.citation))
            label = "high" if result.score >= 0.9 else "medium" if result.score >= 0.6 else "low"
            return dataclasses.replace(result, citation=citation, confidence=label)
        result = dataclasses.replace(result, found=False, answer=None, score=None, citation=None, context=None,
                                     context_start=None, context_end=None)
        if question == CANDIDATE_QUESTION and passages:
            hit = next((p for p in passages if CANDIDATE_ANSWER in p.text), None)
            if hit is not None:
                at = hit.text.index(CANDIDATE_ANSWER)
                citation = self._citation(hit, hit.start + at, hit.start + at + len(CANDIDATE_ANSWER))
                candidate = Candidate(CANDIDATE_ANSWER, 0.31, citation, hit.text, at, at + len(CANDIDATE_ANSWER))
                result = dataclasses.replace(result, candidate=candidate)
        return result

    def _citation(self, passage, start, end):
        from qa.types import Citation

        citation = Citation(passage.article_id, passage.title, passage.paragraph, start, end, passage.source)
        return dataclasses.replace(citation, paragraphs=self._paragraphs(citation))

    def _paragraphs(self, citation) -> tuple[int, ...]:
        from index.split import paragraph_spans

        text = self.inner.collection.article(citation.article_id).text
        return tuple(n for n, (s, e) in enumerate(paragraph_spans(text), 1) if s < citation.end and citation.start < e)


def scripted_assistant(folder: Path) -> ScriptedAssistant:
    """`ScriptedAssistant` over the bundled article (a file: no outlet, no date) and the harbor
    bridge article from a web page (an outlet and a date)."""
    from index.ids import article_id
    from qa.types import Article

    inner = fast_assistant(folder)
    text = NEW_ARTICLE_TEXT.split("\n\n", 1)[1]
    inner.collection.add([Article(article_id(NEW_ARTICLE_TITLE, text), NEW_ARTICLE_TITLE, BRIDGE_URL, BRIDGE_PUBLISHED, text)])
    return ScriptedAssistant(inner)
