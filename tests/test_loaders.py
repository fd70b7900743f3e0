"""Each loader on real sample files, folders, and files that cannot be articles."""

import json

import pytest

from index.errors import BadArticleError
from index.load import article_from_text, load_paths, load_squad

from conftest import SAMPLES


def test_saved_html_page_keeps_the_story_and_drops_the_chrome():
    [article] = load_paths([SAMPLES / "saved-page.html"]).articles
    assert article.title == "Geneva Talks on Syria Resume With New Agenda"
    assert article.source == "https://news.example.org/world/geneva-talks-resume"
    assert article.published == "2017-11-28"
    assert "single unified delegation of 36 members" in article.text
    for chrome in ("cookies", "Related stories", "All rights reserved", "Privacy", "dataLayer", "Business"):
        assert chrome not in article.text


def test_markdown_heading_is_the_title_and_markup_is_gone():
    [article] = load_paths([SAMPLES / "briefing.md"]).articles
    assert article.title == "Astana Talks Agree On De-escalation Zones"
    assert "**" not in article.text and "#" not in article.text
    assert "deploy monitors to a fourth de-escalation zone" in article.text
    assert "could be extended" in article.text
    assert "six months" in article.text


def test_json_lines_and_json_records():
    report = load_paths([SAMPLES / "articles.jsonl", SAMPLES / "articles.json"])
    titles = [a.title for a in report.articles]
    assert titles == ["Lebanon's Prime Minister Returns to Beirut", "Zimbabwe's Mugabe Resigns",
                      "Iran Declares End of Islamic State"]
    assert report.articles[0].source == "https://news.example.org/lebanon-hariri"
    assert report.articles[0].published == "2017-11-21"
    assert report.articles[1].text.startswith("Robert Mugabe resigned")


def test_squad_file_is_one_article_per_title_with_contexts_verbatim():
    articles, questions = load_squad(SAMPLES / "tiny-squad.json")
    assert len(articles) == 1 and articles[0].title == "Sochi"
    text = articles[0].text
    for q in questions:
        context = text[q.context_start:q.context_end]
        assert q.answers[0] in context
    assert text[questions[1].context_start:questions[1].context_end].startswith("The city has")
    # through load_paths too
    assert load_paths([SAMPLES / "tiny-squad.json"]).articles == articles


def test_folder_loads_every_supported_file(tmp_path):
    for name in ("saved-page.html", "briefing.md", "articles.jsonl"):
        (tmp_path / name).write_bytes((SAMPLES / name).read_bytes())
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01")  # unsupported suffix inside a folder: ignored
    report = load_paths([tmp_path])
    assert len(report.articles) == 4 and not report.skipped


def test_bad_files_are_skipped_with_a_reason_and_the_rest_load(tmp_path, bundled_copy, caplog):
    tmp_path = tmp_path / "inbox"
    tmp_path.mkdir()
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 owners protest new rules in S\xe3o Paulo.".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("\n\n  \n")
    (tmp_path / "broken.json").write_text("{not json")
    report = load_paths([tmp_path, bundled_copy, tmp_path / "missing.txt"])
    assert [a.title for a in report.articles] == ["Putin Hosts Surprise Syrian Talks With Assad In Sochi"]
    reasons = dict(report.skipped)
    assert "binary" in reasons[str(tmp_path / "binary.txt")]
    assert "not UTF-8" in reasons[str(tmp_path / "latin1.txt")]
    assert "empty" in reasons[str(tmp_path / "empty.txt")]
    assert "not valid JSON" in reasons[str(tmp_path / "broken.json")]
    assert "no such file" in reasons[str(tmp_path / "missing.txt")]
    assert "skipped" in caplog.text


def test_record_without_text_is_reported(tmp_path):
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"title": "No body"}, {"title": "Fine", "text": "A real sentence about the talks."}]))
    report = load_paths([path])
    assert [a.title for a in report.articles] == ["Fine"]
    assert "needs a 'text'" in report.skipped[0][1]


def test_pasted_text_and_same_article_twice_gets_one_id():
    a = article_from_text("Talks", "The talks resume on Monday in Geneva.")
    b = article_from_text("Talks", "The talks resume on Monday in Geneva.")
    assert a.id == b.id
    with pytest.raises(BadArticleError):
        article_from_text("Nothing", "   ")
