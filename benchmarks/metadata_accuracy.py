"""How often are a page's published date and outlet read right? Three kinds of page.

The fixtures in tests/samples/metadata/ (with expected.json): pages scraped as a browser saves
them (no metadata tags: a date only in a <time> element, in the URL, or nowhere), pages with
JSON-LD NewsArticle, pages with only og:/meta tags. Each is read as a fetched page from its URL
(`index.html.article_from_html`). Reported per kind: date right (the day, or None where the page
states none), dates invented (stored where the page states none), dates wrong, outlet name right.

    python benchmarks/metadata_accuracy.py [--out benchmarks/results/metadata_accuracy.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.html import article_from_html  # noqa: E402

FIXTURES = ROOT / "tests" / "samples" / "metadata"


def measure() -> dict:
    expected = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    rows = []
    for name, want in expected.items():
        article = article_from_html((FIXTURES / name).read_text(encoding="utf-8"), name, url=want["url"])
        got_date = article.published[:10] if article.published else None
        rows.append({"page": name, "kind": want["kind"], "published": got_date, "expected_published": want["published"],
                     "site_name": article.site_name, "expected_site_name": want["site_name"],
                     "date_right": got_date == want["published"],
                     "date_invented": want["published"] is None and got_date is not None,
                     "date_wrong": want["published"] is not None and got_date not in (None, want["published"]),
                     "outlet_right": article.site_name == want["site_name"]})
    kinds = {}
    for kind in dict.fromkeys(r["kind"] for r in rows):
        mine = [r for r in rows if r["kind"] == kind]
        kinds[kind] = {"pages": len(mine), **{k: sum(r[k] for r in mine) for k in
                                             ("date_right", "date_invented", "date_wrong", "outlet_right")}}
    total = {k: sum(v[k] for v in kinds.values()) for k in ("pages", "date_right", "date_invented", "date_wrong",
                                                           "outlet_right")}
    return {"by_kind": kinds, "total": total, "pages": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "metadata_accuracy.json")
    args = parser.parse_args()
    result = measure()
    print(f"{'kind':<9} {'pages':>5} {'date right':>10} {'invented':>8} {'wrong':>5} {'outlet right':>12}")
    for kind, row in list(result["by_kind"].items()) + [("all", result["total"])]:
        print(f"{kind:<9} {row['pages']:5d} {row['date_right']:>6}/{row['pages']:<3} {row['date_invented']:8d} "
              f"{row['date_wrong']:5d} {row['outlet_right']:>8}/{row['pages']:<3}")
    for row in result["pages"]:
        if not (row["date_right"] and row["outlet_right"]):
            print(f"  {row['page']}: date {row['published']!r} (expected {row['expected_published']!r}), "
                  f"outlet {row['site_name']!r} (expected {row['expected_site_name']!r})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
