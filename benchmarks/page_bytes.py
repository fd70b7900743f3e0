"""Bytes a browser receives to load the chat page, and bytes an upload returns, at a large collection.

    python benchmarks/page_bytes.py --articles 100000 --index /tmp/page-bytes-100k --label after

The index is built once (then reused): the bundled article plus synthetic one-paragraph articles
added straight to the store with random unit vectors (the page's size does not depend on the
vectors; embedding 100,000 articles would take an hour here). Titles, outlets (50 sites) and
dates vary per article. Its embedder poses as the packaged one, so the index opens as a real one.

The page is loaded in Debian's headless chromium; every byte of every response (the page, its
scripts, the config and the streamed results of the load events) is summed from the browser's
own network log (`Network.dataReceived`), split into Gradio's static files (the same at any size,
cached after a first visit) and the rest: the page with its config and the load events' data. The upload is one small .txt through `/add_files`
with `gradio_client`; its size is that of the JSON result (status, list HTML). Run it with
PYTHONPATH pointing at another checkout to measure that code on the same index (`--label`).
With `--no-browser` only the list's and the choices' bytes as the server builds them are
measured (the code before paging sent 84 MB there, and Chromium stopped answering).
Writes benchmarks/results/page_bytes-<label>.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the deterministic stand-in models and the browser helpers


def build_index(folder: Path, n_articles: int, chunk: int = 10_000) -> None:
    from fakes import HashEmbedder, KeywordReader
    from index.ids import article_id
    from index.types import Article, Passage
    from qa import Assistant, Settings
    from ui_support import BUNDLED, copy_bundled

    settings = Settings(index_dir=folder / "index", cache_dir=folder / "cache")
    assistant = Assistant.build([copy_bundled(folder / "articles")], folder / "index", settings,
                                embedder=HashEmbedder(), reader=KeywordReader({}))
    store = assistant.collection.store
    rng = np.random.default_rng(0)
    # Words drawn at random per article: near-identical texts would all be linked as copies of
    # one story (`index.dedup`), which is neither a real archive nor fast.
    words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{4,}", BUNDLED.read_text(encoding="utf-8"))})
    started = time.monotonic()
    for first in range(1, n_articles, chunk):
        articles, passages = [], []
        for i in range(first, min(n_articles, first + chunk)):
            picked = [words[j] for j in rng.integers(0, len(words), 48)]
            title = f"Report {i}: " + " ".join(picked[:8]).capitalize()
            text = " ".join(picked[8:]).capitalize() + "."
            published = f"{2000 + i % 26:04d}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            article = Article(article_id(title, text), title, f"https://news{i % 50}.example/story/{i}",
                              published, text)
            articles.append(article)
            passages.append(Passage(article.id, 0, 0, len(text), text))
        vectors = rng.standard_normal((len(passages), HashEmbedder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.add_embedded(articles, passages, vectors)
        print(f"  {first + len(articles):,} articles ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)


def page_bytes(url: str, profile: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from ui_support import headless_chromium

    driver = headless_chromium(profile, performance_log=True)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        started = time.monotonic()
        driver.get(url)
        WebDriverWait(driver, 300).until(
            lambda d: "indexed" in d.find_element(By.CSS_SELECTOR, "#nqa-articles").text)
        loaded_s = time.monotonic() - started
        time.sleep(3)  # the load events' streams finish
        received: dict[str, int] = {}
        urls: dict[str, str] = {}
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.dataReceived":
                received[params["requestId"]] = received.get(params["requestId"], 0) + params["dataLength"]
            elif message["method"] == "Network.responseReceived":
                urls[params["requestId"]] = params["response"]["url"]
        ours = {r: n for r, n in received.items() if urls.get(r, "").startswith(url.rstrip("/"))}
        # Gradio's own scripts, styles and fonts are the same at any collection size (and cached
        # after the first visit); the rest is the page with its config and the load events' data.
        static = sum(n for r, n in ours.items() if "/assets/" in urls[r] or "/static/" in urls[r])
        largest = sorted(((n, urls[r]) for r, n in ours.items()), reverse=True)[:5]
        return {"bytes": sum(ours.values()), "static_bytes": static, "data_bytes": sum(ours.values()) - static,
                "responses": len(ours), "seconds": round(loaded_s, 1),
                "largest": [{"bytes": n, "url": u.split("?")[0]} for n, u in largest]}
    finally:
        driver.quit()


def server_payload(assistant) -> dict:
    """What the server builds for a page load's article list and "Search in" choices (the
    handlers' own output, before it is sent), and how long that takes."""
    from ui.handlers import Handlers

    handlers = Handlers(assistant)
    started = time.monotonic()
    listing = handlers.articles_html()
    choices = handlers.article_choices()
    seconds = time.monotonic() - started
    # a second page load with nothing changed in between (the index's rows are read once per change)
    started = time.monotonic()
    handlers.articles_html()
    handlers.article_choices()
    return {"list_html_bytes": len(listing.encode("utf-8")),
            "choices_json_bytes": len(json.dumps(choices, ensure_ascii=False).encode("utf-8")),
            "seconds": round(seconds, 2), "seconds_again": round(time.monotonic() - started, 2)}


def upload_bytes(url: str, folder: Path) -> int:
    from gradio_client import handle_file
    from ui_support import NEW_ARTICLE_TEXT, client

    path = folder / "harbor-bridge.txt"
    path.write_text(NEW_ARTICLE_TEXT, encoding="utf-8")
    result = client(url).predict([handle_file(str(path))], api_name="/add_files")
    return len(json.dumps(result, ensure_ascii=False).encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--index", type=Path, required=True, help="folder of the index (built if missing)")
    parser.add_argument("--label", default="after")
    parser.add_argument("--no-browser", action="store_true",
                        help="only what the server builds for a page load (a browser given 80 MB of list stops answering)")
    args = parser.parse_args()

    from fakes import HashEmbedder, KeywordReader
    from qa import Assistant, Settings
    from ui_support import running_app

    if not (args.index / "index").exists():
        print(f"Building an index of {args.articles:,} articles in {args.index}…", file=sys.stderr, flush=True)
        build_index(args.index, args.articles)
    settings = Settings(index_dir=args.index / "index", cache_dir=args.index / "cache")
    assistant = Assistant.load(args.index / "index", settings, embedder=HashEmbedder(), reader=KeywordReader({}))
    articles, _ = assistant.collection.store.counts()
    report = {"label": args.label, "articles": articles, "server_payload": server_payload(assistant)}
    if not args.no_browser:
        with tempfile.TemporaryDirectory() as tmp, running_app(assistant) as url:
            report["page_load"] = page_bytes(url, Path(tmp) / "profile")
            report["upload_result_bytes"] = upload_bytes(url, Path(tmp))
    out = ROOT / "benchmarks" / "results" / f"page_bytes-{args.label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    payload = report["server_payload"]
    print(f"{args.label}: {articles:,} articles; the page's article list {payload['list_html_bytes']:,} bytes, "
          f"its scope choices {payload['choices_json_bytes']:,} bytes")
    if "page_load" in report:
        page, upload = report["page_load"], report["upload_result_bytes"]
        print(f"page load {page['bytes']:,} bytes in {page['responses']} responses ({page['seconds']} s): "
              f"{page['data_bytes']:,} of page and data, {page['static_bytes']:,} of Gradio's static files; "
              f"upload result {upload:,} bytes")


if __name__ == "__main__":
    main()
