"""How often do plain-text articles get the date and outlet their dateline or byline states, and
how often is a date invented? (`index.datelines`, used for .txt, .md and pasted articles.)

Three sets of real text:
- labelled openings: datelines and bylines in the forms agencies and papers print them, each with
  the date and outlet it states (None where it states none: "Nov. 21" with no year is no date);
- the bundled article (qa/data/): states no date, so must get none;
- every Wikinews paragraph of QAMR (../shared/data/news) and every SQuAD v1.1 dev paragraph: body
  text with many dates in the prose, none of them the article's own. Any date found is invented.

Reported: precision (dates stored that are right), recall on the labelled set, and dates invented.

    python benchmarks/datelines.py [--out benchmarks/results/datelines.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.datelines import stated_date_and_outlet  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LABELLED = [
    ("MOSCOW, Nov. 21, 2017 (Reuters) - Russian President Vladimir Putin hosted Syria's Bashar al-Assad.",
     "2017-11-21", "Reuters"),
    ("MOSCOW, Nov 21 (Reuters) - Russian President Vladimir Putin hosted Syria's Bashar al-Assad.", None, "Reuters"),
    ("WASHINGTON (AP) — The Senate voted late Tuesday to advance the bill.", None, "AP"),
    ("BEIRUT, Nov. 21, 2017 (AP) — Syria's president made a surprise visit to Russia.", "2017-11-21", "AP"),
    ("PARIS, 21 November 2017 (AFP) - France said on Tuesday it would host the talks.", "2017-11-21", "AFP"),
    ("GENEVA, Nov 28 (Reuters) - U.N.-led Syria peace talks resumed in Geneva on Tuesday.", None, "Reuters"),
    ("By Patrick Wintour | The Guardian | 21 November 2017\n\nVladimir Putin has hosted Bashar al-Assad.",
     "2017-11-21", "The Guardian"),
    ("By Neil MacFarquhar | The New York Times | Nov. 21, 2017\n\nPresident Vladimir V. Putin met.",
     "2017-11-21", "The New York Times"),
    ("By Steve Rosenberg | BBC News\n\nVladimir Putin has met Bashar al-Assad in Sochi.", None, "BBC News"),
    ("Published: 2017-11-21\n\nThe council met on Monday.", "2017-11-21", None),
    ("Published: 21 November 2017\n\nThe council met on Monday.", "2017-11-21", None),
    ("Posted: Tuesday, November 21, 2017\n\nThe harbor reopened.", "2017-11-21", None),
    ("Updated: Nov 21, 2017\nSource: Radio Free Europe/Radio Liberty\n\nPutin hosted Assad.", "2017-11-21",
     "Radio Free Europe/Radio Liberty"),
    ("Date: 2016-03-21T09:30:00Z\n\nThe storm closed the port.", "2016-03-21", None),
    ("First published on Tue 21 Nov 2017\n\nThe storm closed the port.", "2017-11-21", None),
    ("Last modified on 21 November 2017\n\nThe storm closed the port.", None, None),  # not the publication
    ("Putin Hosts Surprise Syrian Talks With Assad In Sochi\n\nNovember 21, 2017\n\nThe talks.", None, None),
    ("The council met on 21 November 2017 to vote on Main Street.", None, None),
    ("Published: Nov 31, 2017\n\nNo such day.", None, None),
    ("On March 3, 1998, 40,000 people marched through the city.", None, None),
]


def score(pairs) -> dict:
    """pairs: (found, wanted) for dates or outlets; None is 'none stated'."""
    stored = [(f, w) for f, w in pairs if f is not None]
    right = sum(1 for f, w in stored if f == w)
    stated = sum(1 for _, w in pairs if w is not None)
    return {"stated": stated, "stored": len(stored), "right": right,
            "invented": sum(1 for f, w in stored if w is None), "wrong": sum(1 for f, w in stored if w is not None and f != w),
            "precision": round(right / len(stored), 3) if stored else None,
            "recall": round(right / stated, 3) if stated else None}


def body_paragraphs() -> dict[str, list[str]]:
    sets = {}
    for name, path in (("wikinews_qamr", ["news/qamr-wikinews-dev.squad.json", "news/qamr-wikinews-test.squad.json"]),
                       ("squad_v1.1_dev", ["squad/dev-v1.1.json"])):
        texts = []
        for part in path:
            if (DATA / part).exists():
                data = json.loads((DATA / part).read_text(encoding="utf-8"))
                texts += [p["context"] for a in data["data"] for p in a["paragraphs"]]
        if texts:
            sets[name] = texts
    return sets


def measure() -> dict:
    found = [(stated_date_and_outlet(text), (date, outlet)) for text, date, outlet in LABELLED]
    report = {"labelled": {"openings": len(LABELLED),
                           "dates": score([(f[0], w[0]) for f, w in found]),
                           "outlets": score([(f[1], w[1]) for f, w in found]),
                           "misses": [text[:60] for (f, w), (text, *_) in zip(found, LABELLED) if f != w]}}
    seed = next((ROOT / "qa" / "data").glob("*.txt")).read_text(encoding="utf-8")
    report["bundled_article"] = dict(zip(("date", "outlet"), stated_date_and_outlet(seed)))
    any_date = re.compile(r"\b(1[89]|20)\d\d\b")
    for name, texts in body_paragraphs().items():
        results = [stated_date_and_outlet(t) for t in texts]
        report[name] = {"paragraphs": len(texts), "with_a_year_in_the_text": sum(1 for t in texts if any_date.search(t)),
                        "dates_invented": sum(1 for d, _ in results if d), "outlets_invented": sum(1 for _, o in results if o)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "datelines.json")
    args = parser.parse_args()
    report = measure()
    lab = report["labelled"]
    print(f"{'set':<22}{'items':>8}{'stored':>8}{'right':>8}{'invented':>10}{'precision':>11}{'recall':>8}")
    for kind in ("dates", "outlets"):
        s = lab[kind]
        print(f"{'labelled ' + kind:<22}{lab['openings']:>8}{s['stored']:>8}{s['right']:>8}{s['invented']:>10}"
              f"{s['precision']!s:>11}{s['recall']!s:>8}")
    for name in ("wikinews_qamr", "squad_v1.1_dev"):
        if name in report:
            r = report[name]
            print(f"{name:<22}{r['paragraphs']:>8}{r['dates_invented'] + r['outlets_invented']:>8}{'':>8}"
                  f"{r['dates_invented']:>10}  ({r['with_a_year_in_the_text']} paragraphs name a year)")
    print("bundled article:", report["bundled_article"], "misses:", lab["misses"])
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
