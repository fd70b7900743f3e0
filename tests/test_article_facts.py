"""Dates and outlets for every article, no lost title line, no script in a title, and every
warning about an upload shown to its uploader (issue 24, items 4 and 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.clean import clean_article_text
from index.datelines import day_of, stated_date_and_outlet
from index.load import article_from_text, load_paths
from index.metadata import title_text
from qa.errors import BadArticleError
from ui import handlers as h
from ui_support import fast_assistant

SEED = Path(__file__).resolve().parents[1] / "qa" / "data"

# (opening of an article, the date it states, the outlet it states): real forms of datelines and bylines
LABELLED = [
    ("MOSCOW, Nov. 21, 2017 (Reuters) - Russian President Vladimir Putin met Assad.", "2017-11-21", "Reuters"),
    ("MOSCOW, Nov. 21 (Reuters) - Putin met Assad in Sochi.", None, "Reuters"),  # no year: no date
    ("GENEVA (AP) — The talks will resume next week.", None, "AP"),
    ("LONDON, 21 November 2017 (AFP) – Britain said on Tuesday.", "2017-11-21", "AFP"),
    ("By Jane Doe | The Guardian | 21 November 2017\n\nThe council met.", "2017-11-21", "The Guardian"),
    ("Published: 2017-11-21\n\nThe council met on Monday.", "2017-11-21", None),
    ("Updated: Tuesday, November 21, 2017\nSource: BBC News\n\nText.", "2017-11-21", "BBC News"),
    ("Date: 21st March 2016\n\nThe storm closed the port.", "2016-03-21", None),
    ("The council met on 21 November 2017 to vote on Main Street.", None, None),  # a date in the prose
    ("Published: Nov 31, 2017\n\nNo such day.", None, None),
    ("Published: 2999-01-01\n\nIn the future.", None, None),
    ("In 1998, 40,000 people marched. On March 3 police said 12 were held.", None, None),
    ("Tiny report 12\n\nThe harbor reopened on Tuesday.", None, None),
]


@pytest.mark.parametrize("text, published, outlet", LABELLED)
def test_a_dateline_or_byline_gives_the_date_and_outlet_it_states_and_nothing_else(text, published, outlet):
    assert stated_date_and_outlet(text) == (published, outlet)


def test_a_day_needs_day_month_and_year():
    assert day_of("21 November 2017") == "2017-11-21"
    assert day_of("November 2017") is None and day_of("Nov. 21") is None and day_of("2017") is None


def test_the_bundled_article_states_no_date_and_gets_none():
    articles = load_paths([next(SEED.glob("*.txt"))]).articles
    assert articles and all(a.published is None and a.site_name is None for a in articles)


def test_text_and_markdown_files_get_their_stated_date_and_outlet(tmp_path):
    (tmp_path / "a.txt").write_text("Harbor storm closes port\n\nMOSCOW, Nov. 21, 2017 (Reuters) - The port closed.")
    (tmp_path / "b.md").write_text("---\ntitle: Council closes Main Street\ndate: 2017-11-20\n"
                                   "outlet: Springfield Gazette\n---\n\nThe council voted on Monday to close it.\n")
    (tmp_path / "c.txt").write_text("Harbor storm closes port\n\nThe port closed on 21 November 2017, officials said.")
    by_name = {Path(a.source).name: a for a in load_paths(sorted(tmp_path.iterdir())).articles}
    assert (by_name["a.txt"].published, by_name["a.txt"].site_name) == ("2017-11-21", "Reuters")
    b = by_name["b.md"]
    assert (b.title, b.published, b.site_name) == ("Council closes Main Street", "2017-11-20", "Springfield Gazette")
    assert "title:" not in b.text
    assert (by_name["c.txt"].published, by_name["c.txt"].site_name) == (None, None)


def test_a_pasted_article_takes_a_checked_date_and_an_outlet():
    article = article_from_text("Harbor storm", "The port closed on Tuesday.", published="2017-11-21",
                                outlet=" The  Guardian ")
    assert (article.published, article.site_name) == ("2017-11-21", "The Guardian")
    for bad in ("21/11/2017", "2017-02-30", "next Tuesday", "2999-01-01"):
        with pytest.raises(BadArticleError, match="YYYY-MM-DD"):
            article_from_text("Harbor storm", "The port closed on Tuesday.", published=bad)


def test_a_short_first_line_is_kept_as_the_title_and_no_text_is_lost():
    title, body = clean_article_text("Tiny report 12\n\nThe harbor reopened on Tuesday after the storm.")
    assert (title, body) == ("Tiny report 12", "The harbor reopened on Tuesday after the storm.")
    # site chrome before a real headline is still not taken for the title
    seed = next(SEED.glob("*.txt")).read_text()
    assert clean_article_text(seed)[0] == "Putin Hosts Surprise Syrian Talks With Assad In Sochi"


HOSTILE_H1 = "Harbor storm <script>alert(1)</script>closes port<style>h1{color:red}</style>"


def test_script_and_style_never_reach_a_title(tmp_path):
    assert title_text(HOSTILE_H1) == "Harbor storm closes port"
    page = tmp_path / "page.html"
    page.write_text(f"<html><body><h1>{HOSTILE_H1}</h1><p>The harbor was closed on Tuesday after a storm damaged "
                    "the main pier, officials said.</p><p>Ships were diverted to the northern terminal while "
                    "engineers inspected the damage.</p></body></html>")
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"title": HOSTILE_H1, "text": "The harbor was closed on Tuesday."}]))
    titles = [a.title for a in load_paths([page, records]).articles]
    assert titles == ["Harbor storm closes port", "Harbor storm closes port"]


def test_every_warning_about_an_upload_reaches_the_uploader(tmp_path):
    handlers = h.Handlers(fast_assistant(tmp_path / "index"))
    upload = tmp_path / "upload" / "records.json"
    upload.parent.mkdir()
    upload.write_text(json.dumps([{"title": "Harbor storm closes port", "text": "The harbor was closed on Tuesday.",
                                   "url": "javascript:alert(1)", "published": "last Tuesday"}]))
    status, _, _ = handlers.add_files([str(upload)])
    assert "Added “Harbor storm closes port”" in status
    assert "records.json#1: dropped the url" in status and "javascript:alert(1)" in status
    assert "dropped the published date" in status and "nqa-status-warning" in status
    assert str(upload.parent) not in status


def test_the_paste_form_takes_an_outlet_and_refuses_a_bad_date(tmp_path):
    handlers = h.Handlers(fast_assistant(tmp_path))
    status, _, *boxes = handlers.add_text("Harbor storm", "The port closed on Tuesday.", "", "Guardian", "21/11/2017")
    assert "YYYY-MM-DD" in status and boxes == ["Harbor storm", "The port closed on Tuesday.", "", "Guardian",
                                                "21/11/2017"]
    status, articles, *boxes = handlers.add_text("Harbor storm", "The port closed on Tuesday.", "", "Guardian",
                                                 "2017-11-21")
    assert "Added “Harbor storm” (Guardian, 2017-11-21)" in status and boxes == [""] * 5
    assert handlers.assistant.collection.articles()[-1].published == "2017-11-21"


# --- a date filter says how many undated articles it left out --------------------------------

def test_a_date_filter_says_how_many_articles_without_a_date_it_left_out(tmp_path):
    from qa.scope import Scope, count_undated, undated_note

    handlers = h.Handlers(fast_assistant(tmp_path))  # the bundled article: no date
    collection = handlers.assistant.collection
    collection.add_text("Harbor storm closes port", "The harbor closed on Tuesday after the storm.")
    collection.add_text("Council closes Main Street", "The council voted to close Main Street.",
                        published="2017-11-21")
    result = handlers.assistant.ask("Where will the UN talks resume?", scope=Scope.parse(since="2017-01-01"))
    assert result.undated_left_out == 2
    assert handlers.assistant.ask("Where will the UN talks resume?").undated_left_out == 0
    assert count_undated(Scope.parse(outlets=["bbc.co.uk"], until="2018-01-01"), collection.article_infos) == 0
    assert undated_note(1) == "1 article without a date was left out"
    messages = list(handlers.respond("Where will the UN talks resume?", [], None, None, "2017-01-01", None, None))[-1][0]
    assert "2 articles without a date were left out" in str(messages[-1]["content"])
    assert handlers.ask("Where will the UN talks resume?", since="2017-01-01")["undated_left_out"] == 2


def test_qa_ask_says_how_many_articles_without_a_date_it_left_out(tmp_path):
    import os
    import subprocess
    import sys

    qa = Path(sys.executable).parent / "qa"
    env = dict(os.environ, HF_HUB_OFFLINE="1", NEWSQA_CACHE=str(tmp_path / "cache"))
    dated = tmp_path / "dated.txt"
    dated.write_text("Harbor storm closes port\n\nBy Jane Doe | Harbor Times | 21 November 2017\n\n"
                     "The harbor closed on Tuesday after the storm damaged the main pier.")
    seed = next(SEED.glob("*.txt"))
    subprocess.run([qa, "index", "build", seed, dated, "--index", tmp_path / "idx"], env=env, check=True,
                   capture_output=True, timeout=300)
    out = subprocess.run([qa, "ask", "When did the harbor close?", "--index", tmp_path / "idx", "--since",
                          "2017-01-01"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "1 article without a date was left out" in out.stdout


def test_an_upload_takes_an_outlet_and_date_for_files_that_state_none(tmp_path):
    handlers = h.Handlers(fast_assistant(tmp_path / "index"))
    folder = tmp_path / "upload"
    folder.mkdir()
    plain = folder / "plain.txt"
    plain.write_text("Harbor storm closes port\n\nThe harbor closed on Tuesday after the storm damaged the pier.")
    stated = folder / "stated.txt"
    stated.write_text("Council closes Main Street\n\nSPRINGFIELD, March 3, 2016 (AP) — The council voted to close it.")
    bad = folder / "bad.txt"
    bad.write_text("Bridge reopens\n\nThe bridge reopened on Monday.")
    status, _, _ = handlers.add_files([str(bad)], "Harbor Times", "2017-02-30")
    assert "YYYY-MM-DD" in status and "No files were added" in status
    assert "Bridge reopens" not in {a.title for a in handlers.assistant.collection.articles()}
    status, _, _ = handlers.add_files([str(plain), str(stated)], "Harbor Times", "2017-11-21")
    assert "Added “Harbor storm closes port”" in status and "Added “Council closes Main Street”" in status
    by_title = {a.title: a for a in handlers.assistant.collection.articles()}
    assert (by_title["Harbor storm closes port"].published, by_title["Harbor storm closes port"].site_name) == (
        "2017-11-21", "Harbor Times")
    # what a file states is kept: the fields fill only what it leaves out
    assert (by_title["Council closes Main Street"].published, by_title["Council closes Main Street"].site_name) == (
        "2016-03-03", "AP")


def test_qa_index_add_takes_an_outlet_and_a_date_for_files_that_state_none(tmp_path):
    import os
    import subprocess
    import sys

    qa = Path(sys.executable).parent / "qa"
    env = dict(os.environ, HF_HUB_OFFLINE="1", NEWSQA_CACHE=str(tmp_path / "cache"))
    plain = tmp_path / "plain.txt"
    plain.write_text("Harbor storm closes port\n\nThe harbor closed on Tuesday after the storm damaged the pier.")
    run = lambda *args: subprocess.run([qa, *map(str, args)], env=env, capture_output=True, text=True,  # noqa: E731
                                       timeout=300)
    refused = run("index", "add", plain, "--index", tmp_path / "idx", "--published", "2017-02-30")
    assert refused.returncode == 1 and "YYYY-MM-DD" in refused.stderr and "Traceback" not in refused.stderr
    added = run("index", "add", plain, "--index", tmp_path / "idx", "--published", "2017-11-21",
                "--outlet", "Harbor Times")
    assert added.returncode == 0, added.stderr
    info = json.loads(run("index", "info", "--index", tmp_path / "idx", "--json").stdout)
    article = next(a for a in info["articles"] if a["title"] == "Harbor storm closes port")
    assert (article["published"], article["site_name"]) == ("2017-11-21", "Harbor Times")
