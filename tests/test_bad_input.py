"""Whatever a user feeds it: bad metadata, bad files among good ones, FIFOs, odd file names, huge
files, pages without a date, undecodable questions. Each case is skipped or cleaned with a reason,
the rest is indexed, and nothing is stored as the wrong type."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.load import MAX_ARTICLE_CHARS, load_paths
from qa import Assistant, Settings
from qa.errors import BadQuestionError

from conftest import BUNDLED, SAMPLES
from fakes import HashEmbedder, KeywordReader

QA = Path(sys.executable).parent / "qa"
TEXT = "The city council approved the new harbour budget on Monday after a long debate about borrowing."


def assistant_at(folder, *paths):
    return Assistant.build(list(paths), folder, Settings(index_dir=folder), embedder=HashEmbedder(),
                           reader=KeywordReader({"budget": "Monday"}))


def test_wrong_typed_metadata_is_dropped_with_a_warning_and_never_stored(tmp_path, caplog):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in [
        {"title": "Harbour budget", "text": TEXT, "published": 20171121, "url": 12345},
        {"title": 42, "text": TEXT + " A second story.", "published": "21/11/2017", "url": "ftp://x"},
        {"title": "Dated", "text": TEXT + " A third.", "published": "2017-11-21T08:30:00Z",
         "url": "https://example.org/dated"},
    ]))
    assistant = assistant_at(tmp_path / "idx", feed)
    stored = {a.title: a for a in assistant.collection.articles()}
    assert stored["Harbour budget"].published is None and stored["Harbour budget"].source == str(feed)
    assert stored["Dated"].published == "2017-11-21T08:30:00+00:00"
    assert stored["Dated"].source == "https://example.org/dated"
    for article in stored.values():
        assert isinstance(article.title, str) and isinstance(article.source, str)
        assert article.published is None or isinstance(article.published, str)
    warnings = caplog.text
    assert "dropped the published date 20171121" in warnings and "dropped the url 12345" in warnings
    assert "dropped the title 42" in warnings and "'21/11/2017'" in warnings
    result = assistant.ask("When was the budget approved?")
    assert result.found and result.citation.source in (str(feed), "https://example.org/dated")


def test_one_bad_squad_file_among_good_files_skips_only_what_is_bad(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(BUNDLED.read_text())
    squad = {"version": "1.1", "data": [
        {"title": "No_qas", "paragraphs": [{"context": TEXT}]},
        {"title": "No_context", "paragraphs": [{"qas": []}]},
        {"title": "Numeric_context", "paragraphs": [{"context": 12345, "qas": []}, {"context": TEXT + " More."}]},
    ]}
    (folder / "squad.json").write_text(json.dumps(squad))
    report = load_paths([folder])
    titles = sorted(a.title for a in report.articles)
    assert titles == ["No qas", "Numeric context", "Putin Hosts Surprise Syrian Talks With Assad In Sochi"]
    reasons = dict(report.skipped)
    assert any("#2.1" in where and "context" in why for where, why in reasons.items())
    assert any("#3.1" in where for where in reasons)


def test_a_file_name_that_is_not_utf8_is_indexed_and_saved(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    odd = os.fsencode(folder) + b"/r\xe9sum\xe9.txt"
    with open(odd, "w") as f:
        f.write(TEXT)
    assistant = assistant_at(tmp_path / "idx", folder)
    (article,) = assistant.collection.articles()
    assert article.source.endswith("r\ufffdsum\ufffd.txt")
    assert not list(tmp_path.glob(".idx*"))


def test_a_fifo_is_skipped_with_a_reason_and_never_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    (tmp_path / "story.txt").write_text(TEXT)
    report = load_paths([tmp_path])  # would block forever if it opened the FIFO
    assert [a.title for a in report.articles] and any("FIFO" in why for _, why in report.skipped)
    if QA.exists():
        env = dict(os.environ, HF_HUB_OFFLINE="1", NEWSQA_CACHE=str(tmp_path / "cache"))
        proc = subprocess.run([str(QA), "index", "add", str(fifo), "--index", str(tmp_path / "idx")],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 1 and "FIFO" in proc.stderr and "Traceback" not in proc.stderr


def test_an_article_too_long_to_be_one_is_skipped_with_a_reason(tmp_path):
    (tmp_path / "dump.txt").write_text("\n\n".join(f"{TEXT} Item {i}." for i in range(MAX_ARTICLE_CHARS // len(TEXT) + 10)))
    (tmp_path / "story.txt").write_text(TEXT)
    report = load_paths([tmp_path])
    assert len(report.articles) == 1
    assert any("split it into articles" in why for _, why in report.skipped)


def test_a_page_without_a_date_gets_no_date_and_a_page_of_scripts_no_stray_warning(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>Harbour budget</title></head><body><article><p>" + TEXT * 3 +
                    "</p><p>" + TEXT + "</p></article></body></html>")
    (article,) = load_paths([page]).articles
    assert article.published is None
    scripts = tmp_path / "scripts.html"
    scripts.write_text("<html><head><script>var a = 1;</script></head><body><script>run()</script></body></html>")
    proc = subprocess.run([sys.executable, "-c", f"import logging, sys; sys.path.insert(0, {str(Path.cwd())!r}); "
                           "logging.basicConfig(level=logging.WARNING, format='warning: %(message)s'); "
                           f"from index.load import load_paths; print(load_paths([{str(scripts)!r}]).skipped)"],
                          capture_output=True, text=True, check=True)
    assert "no article text" in proc.stdout
    assert "discarding data" not in proc.stderr and proc.stderr.count("warning:") == 1


def test_undecodable_question_and_bad_top_k_are_clean_errors_or_answers(tmp_path, bundled_copy):
    assistant = assistant_at(tmp_path / "idx", bundled_copy)
    result = assistant.ask("Who \udcff resigned?")  # a lone surrogate, as Python decodes a stray byte
    assert "\ufffd" in result.question
    for bad in (0, -3, 101, 2.5, True):
        with pytest.raises(BadQuestionError, match="top_k"):
            assistant.ask("Who met in Sochi?", top_k=bad)
    if QA.exists():
        env = dict(os.environ, HF_HUB_OFFLINE="1", NEWSQA_CACHE=str(tmp_path / "cache"))
        proc = subprocess.run([os.fsencode(QA), b"ask", b"Who \xff resigned?", b"--index", os.fsencode(tmp_path / "idx")],
                              capture_output=True, env=env, timeout=300)
        assert b"Traceback" not in proc.stderr and proc.returncode in (0, 1), proc.stderr


def test_ui_lists_any_stored_article(tmp_path):
    from ui.handlers import Handlers

    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps([{"title": "Odd", "text": TEXT, "published": 20171121, "url": 12345}]))
    assistant = assistant_at(tmp_path / "idx", feed, SAMPLES / "articles.jsonl")
    html = Handlers(assistant).articles_html()
    assert "Odd" in html and "12345" not in html
