"""The corpus of the news gold set (eval/gold/news.jsonl), as one JSON-lines file of articles:

- 16 real Wikinews paragraphs (QAMR dev, ../shared/data/news; CC BY 2.5, Wikinews), each an article
  titled by its id; the data carries no dates or outlets, so they have none;
- the bundled article (qa/data), dated 21 Nov 2017 (the day it reports as "November 21"; the
  file states no date);
- the fixture articles of eval/gold/news-fixtures.jsonl, written for the evaluation (each
  record's "note" says so; not the text, where one shared line made copy detection link short
  fixtures as one story): a death toll that rose, a resignation reported with a weekday and with
  a date, a reopening that was moved, one report copied under another outlet, a fire that three
  outlets and a summit that two report independently in their own words (support), and a dock
  strike that grew, its update worded apart from the question.

    python -m eval.news_corpus /tmp/news-corpus.jsonl   # 31 articles
    qa index build /tmp/news-corpus.jsonl --index /tmp/news-index
    python -m eval run eval/gold/news.jsonl --index /tmp/news-index
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIKINEWS = ROOT.parent / "shared" / "data" / "news" / "qamr-wikinews-dev.squad.json"
FIXTURES = ROOT / "eval" / "gold" / "news-fixtures.jsonl"
BUNDLED = ROOT / "qa" / "data" / "putin-hosts-assad-in-sochi.txt"
BUNDLED_TITLE = "Putin Hosts Surprise Syrian Talks With Assad In Sochi"
PARAGRAPHS = ("514852:0", "516949:0", "574335:1", "580832:0", "721315:0", "721315:2", "744655:3", "748904:0",
              "748904:1", "757989:0", "761179:4", "930606:1", "1101231:2", "1974065:0", "1235103:1", "785177:0")


def news_corpus(wikinews: Path = WIKINEWS) -> list[dict]:
    by_title = {a["title"]: a["paragraphs"][0]["context"] for a in json.loads(wikinews.read_text())["data"]}
    records = [{"title": f"Wikinews {p}", "text": by_title[f"wikinews:{p}"]} for p in PARAGRAPHS]
    records.append({"title": BUNDLED_TITLE, "text": BUNDLED.read_text(encoding="utf-8"), "published": "2017-11-21"})
    return records + [json.loads(line) for line in FIXTURES.read_text().splitlines() if line.strip()]


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("news-corpus.jsonl")
    records = news_corpus()
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(f"wrote {len(records)} articles to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
