"""Dates and outlets read from three kinds of page (scraped, JSON-LD NewsArticle, og:/meta only):
a date is stored only when the page states one, and the recorded figures are today's."""

from __future__ import annotations

import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import metadata_accuracy  # noqa: E402


def test_every_fixture_page_gives_its_stated_date_and_outlet_and_no_invented_date():
    result = metadata_accuracy.measure()
    assert set(result["by_kind"]) == {"scraped", "jsonld", "meta"}
    assert all(row["pages"] >= 4 for row in result["by_kind"].values())
    wrong = [r for r in result["pages"] if not (r["date_right"] and r["outlet_right"])]
    assert wrong == []
    assert result["total"]["date_invented"] == 0 and result["total"]["date_wrong"] == 0
    # pages that state no date really are among them: the check has something to catch
    assert sum(r["expected_published"] is None for r in result["pages"]) >= 3
    recorded = json.loads((ROOT / "benchmarks" / "results" / "metadata_accuracy.json").read_text(encoding="utf-8"))
    assert recorded["total"] == result["total"]
