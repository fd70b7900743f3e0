"""Handlers for checking answers at their source and managing the shared collection: opening an
article at a citation, the /article and /delete_article endpoints, deleting from the list, and
searching only part of the collection. Over `ScriptedAssistant` (deterministic models, no server).
"""

from __future__ import annotations

import json

import pytest
from conftest import BUNDLED

from qa.errors import BadQuestionError
from qa.types import Scope
from ui import handlers as h
from ui.scope import UserInputError, scope_from_inputs, scope_note
from ui_support import (BRIDGE_OUTLET, BRIDGE_PUBLISHED, BRIDGE_URL, BUNDLED_TITLE, CANDIDATE_ANSWER,
                        CANDIDATE_QUESTION, CLARIFICATION, CLARIFY_QUESTION, NEW_ARTICLE_QUESTION,
                        NEW_ARTICLE_TITLE, scripted_assistant)


@pytest.fixture
def assistant(tmp_path):
    return scripted_assistant(tmp_path)


@pytest.fixture
def handlers(assistant):
    return h.Handlers(assistant)


def ids_by_title(handlers) -> dict[str, str]:
    return {a["title"]: a["id"] for a in handlers.article_list()}


def final(handlers, question, conversation=None, **scope):
    *_, last = handlers.respond(question, conversation or [], scope.get("articles"), scope.get("outlets"),
                                scope.get("since"), scope.get("until"))
    return last


def test_the_article_list_names_outlets_and_files_never_paths(handlers, tmp_path):
    listed = {a["title"]: a for a in handlers.article_list()}
    assert listed[NEW_ARTICLE_TITLE]["outlet"] == BRIDGE_OUTLET
    assert listed[NEW_ARTICLE_TITLE]["source"] == BRIDGE_URL
    assert listed[NEW_ARTICLE_TITLE]["published"] == BRIDGE_PUBLISHED
    assert listed[BUNDLED_TITLE]["outlet"] == "" and listed[BUNDLED_TITLE]["source"] == "putin-hosts-assad-in-sochi.txt"
    page = handlers.articles_html()
    assert str(tmp_path) not in page + json.dumps(list(listed.values()))
    assert page.count('class="nqa-delete"') == 2 and page.count("nqa-open") == 2


def test_the_chat_tells_web_addresses_from_files_as_the_index_does():
    from qa import is_url, outlet_of

    for source in ("https://www.rferl.org/a/x.html", "HTTP://RFERL.org/a"):
        assert is_url(source) and h.public_source(source) == source and outlet_of(source) == "rferl.org"
    for source in ("/srv/a.txt", "", "ftp://rferl.org/a", "notes/http://x"):
        assert not is_url(source) and outlet_of(source) == ""
    assert h.public_source("/srv/news/http.txt") == "http.txt"


def test_a_citation_opens_its_article_at_the_quote(handlers):
    _, kept, _, _ = final(handlers, "Where will the UN talks resume?")
    [number] = handlers.ask("Where will the UN talks resume?")["citation"]["paragraphs"]
    html = kept[0]["html"]
    # The citation names the article's own paragraph and carries the quote's offsets.
    citation = html.split('class="nqa-citation"', 1)[1]
    value = citation.split('class="nqa-open nqa-cite-button" value="', 1)[1].split('"', 1)[0]
    target = json.loads(value.replace("&quot;", '"'))
    assert f"¶ {number}</button>" in citation and target["quote"] is True
    panel = handlers.open_source(target)
    assert f"<h2 class=\"nqa-source-title\" tabindex=\"-1\">{BUNDLED_TITLE}</h2>" in panel
    assert '<mark class="nqa-span">Geneva</mark>' in panel
    assert f'class="nqa-para nqa-cited" id="nqa-para-{number}"' in panel
    assert f"The quote is highlighted in ¶ {number}." in panel
    assert panel.count("nqa-cited") == 1 and "putin-hosts-assad-in-sochi.txt" in panel


def test_an_article_opened_from_the_list_has_its_outlet_date_and_link(handlers):
    panel = handlers.open_source({"article": ids_by_title(handlers)[NEW_ARTICLE_TITLE]})
    assert BRIDGE_OUTLET in panel and BRIDGE_PUBLISHED in panel and f'href="{BRIDGE_URL}"' in panel
    assert "<mark" not in panel and "nqa-cited" not in panel


@pytest.mark.parametrize("target", [None, "x", {"article": 3}, {}])
def test_a_malformed_open_request_says_so(handlers, target):
    assert "names no article" in handlers.open_source(target)


def test_opening_a_deleted_article_says_it_is_gone(handlers):
    assert "no longer in the collection" in handlers.open_source({"article": "0" * 16, "start": 1, "end": 3})


def test_offsets_that_do_not_fit_open_the_article_unmarked(handlers):
    article_id = ids_by_title(handlers)[NEW_ARTICLE_TITLE]
    for start, end in ((5, 10**6), (-1, 3), (True, 4), ("1", "2")):
        panel = handlers.open_source({"article": article_id, "start": start, "end": end, "quote": True})
        assert "<mark" not in panel and NEW_ARTICLE_TITLE in panel


def test_article_endpoint_gives_paragraphs_with_the_citations_offsets(handlers):
    result = handlers.ask("Where will the UN talks resume?")
    article = handlers.article_json(result["citation"]["article_id"])
    assert set(article) == {"id", "title", "outlet", "published", "source", "paragraphs"}
    assert article["source"] == "putin-hosts-assad-in-sochi.txt" and article["outlet"] == ""
    [paragraph] = [p for p in article["paragraphs"] if p["number"] in result["citation"]["paragraphs"]]
    start, end = result["citation"]["start"] - paragraph["start"], result["citation"]["end"] - paragraph["start"]
    assert paragraph["text"][start:end] == "Geneva"
    with pytest.raises(UserInputError, match="no article has the id"):
        handlers.article_json("nope")
    with pytest.raises(UserInputError, match="give the id"):
        handlers.article_json("  ")


def test_the_opened_article_marks_the_paragraph_the_citation_names(tmp_path):
    import re

    from fakes import HashEmbedder, KeywordReader
    from qa import Assistant, Settings
    from ui.panels import source_html

    folder = tmp_path / "idx"
    real = Assistant.build([BUNDLED], folder, Settings(index_dir=folder, top_k=3), embedder=HashEmbedder(),
                           reader=KeywordReader({"UN talks": "Geneva"}))
    result = real.ask("Where will the UN talks resume?")
    c = result.citation
    article = real.collection.article(c.article_id)
    page = source_html(article, start=c.start, end=c.end, quote=True)
    cited = [int(n) for n in re.findall(r'class="nqa-para nqa-cited" id="nqa-para-(\d+)"', page)]
    assert cited == list(c.paragraphs) == [4]  # the bundled article's 4th paragraph, in its 3rd passage
    assert c.passage == 2
    assert "<mark" in page and "Geneva</mark>" in page


def test_delete_removes_an_article_by_id_only(handlers):
    article_id = ids_by_title(handlers)[NEW_ARTICLE_TITLE]
    assert handlers.delete_article(article_id) == {"deleted": [{"id": article_id, "title": NEW_ARTICLE_TITLE}]}
    assert NEW_ARTICLE_TITLE not in ids_by_title(handlers)
    with pytest.raises(UserInputError, match="no article has the id"):
        handlers.delete_article(article_id)
    # `remove` also takes paths and addresses; the endpoint does not.
    with pytest.raises(UserInputError, match="no article has the id"):
        handlers.delete_article("putin-hosts-assad-in-sochi.txt")
    assert BUNDLED_TITLE in ids_by_title(handlers)


def test_deleting_from_the_list_reports_and_refreshes(handlers):
    article_id = ids_by_title(handlers)[NEW_ARTICLE_TITLE]
    status, listing = handlers.delete_from_page({"article": article_id})
    assert f"Deleted “{NEW_ARTICLE_TITLE}” for everyone" in status and NEW_ARTICLE_TITLE not in listing
    status, _ = handlers.delete_from_page({"article": article_id})
    assert "nqa-status-error" in status and "No article has the id" in status
    status, _ = handlers.delete_from_page("junk")
    assert "nqa-status-error" in status


def test_scope_choices_list_articles_and_outlets(handlers):
    articles, outlets = handlers.article_choices()
    assert (f"{NEW_ARTICLE_TITLE} ({BRIDGE_OUTLET}, {BRIDGE_PUBLISHED})", ids_by_title(handlers)[NEW_ARTICLE_TITLE]) in articles
    assert outlets == [BRIDGE_OUTLET]


def test_scope_inputs_are_checked_by_qa_and_empty_ones_mean_everything():
    assert scope_from_inputs() is None and scope_from_inputs([], [], "", " ") is None
    assert scope_from_inputs(["a", "a", "b"], "x.org", "2017-11-01", "2017-11-30 00:00:00") == Scope(
        ("a", "b"), ("x.org",), "2017-11-01", "2017-11-30")
    for bad in ({"since": "yesterday"}, {"until": "2017-02-30"}, {"articles": [1]}, {"outlets": 3}):
        with pytest.raises(BadQuestionError):  # qa's own check, with qa's own message
            scope_from_inputs(**bad)
    with pytest.raises(BadQuestionError, match="after it ends"):
        scope_from_inputs(since="2018-01-01", until="2017-01-01")
    assert scope_note(None) == ""
    assert scope_note(Scope(articles=("a",), since="2017-11-01")) == "Searched only: 1 chosen article · from 2017-11-01"


def test_a_scoped_question_searches_only_that_part(handlers, assistant):
    ids = ids_by_title(handlers)
    messages, kept, _, _ = final(handlers, "Where will the UN talks resume?", articles=[ids[NEW_ARTICLE_TITLE]])
    assert kept[-1]["answer"] is None and "Searched only: 1 chosen article" in kept[-1]["html"]
    assert assistant.scopes[-1] == Scope(articles=(ids[NEW_ARTICLE_TITLE],))
    _, kept, _, _ = final(handlers, NEW_ARTICLE_QUESTION, outlets=[BRIDGE_OUTLET], since="2026-01-01")
    assert kept[-1]["answer"] == "March 3"
    assert assistant.scopes[-1] == Scope(outlets=(BRIDGE_OUTLET,), since="2026-01-01")
    # Undated articles are outside any date range.
    _, kept, _, _ = final(handlers, "Where will the UN talks resume?", since="2000-01-01")
    assert kept[-1]["answer"] is None


def test_an_unscoped_question_passes_no_scope(handlers, assistant):
    final(handlers, "Where will the UN talks resume?")
    assert assistant.scopes[-1] is None


def test_bad_dates_keep_the_question_and_say_why(handlers):
    [(_, kept, box, note)] = list(handlers.respond("Where will the UN talks resume?", [], None, None,
                                                   "2018-01-01", "2017-01-01"))
    assert box == "Where will the UN talks resume?" and kept == [] and "after it ends on 2017-01-01" in note
    label, note = handlers.scope_summary(since="2018-01-01", until="2017-01-01")
    assert "check the dates" in label
    label, _ = handlers.scope_summary(articles=["a", "b"], until="2017-01-01")
    assert label == "Search in: 2 chosen articles · until 2017-01-01"
    assert handlers.scope_summary()[0] == "Search in: all articles"


def test_api_ask_and_chat_take_a_scope(handlers, assistant):
    ids = ids_by_title(handlers)
    assert handlers.ask("Where will the UN talks resume?", articles=[ids[BUNDLED_TITLE]])["answer"] == "Geneva"
    assert handlers.ask("Where will the UN talks resume?", outlets=[BRIDGE_OUTLET])["found"] is False
    history = [{"question": "Where will the UN talks resume?", "answer": "Geneva"}]
    assert handlers.chat("When?", history, until="2030-12-31")["found"] is False
    assert assistant.scopes[-1] == Scope(until="2030-12-31")
    with pytest.raises(BadQuestionError):
        handlers.ask("Where?", since="soon")


def test_a_clarifying_question_is_the_reply(handlers):
    messages, kept, _, _ = final(handlers, CLARIFY_QUESTION)
    html = kept[-1]["html"]
    assert "nqa-clarify" in html and "When did what happen?" in html
    assert "couldn" not in html and "don&#x27;t state" not in html
    assert kept[-1]["answer"] is None and CLARIFICATION in kept[-1]["markdown"]
    assert handlers.ask(CLARIFY_QUESTION)["clarification"] == CLARIFICATION


def test_not_found_shows_the_unconfirmed_candidate_and_related_passages_only(handlers, assistant):
    _, kept, _, _ = final(handlers, CANDIDATE_QUESTION)
    html = kept[-1]["html"]
    assert "The articles don&#x27;t state this clearly." in html
    assert f'<mark class="nqa-candidate-span">{CANDIDATE_ANSWER}</mark>' in html
    assert "Unconfirmed" in html and "about 31% likely right" in html
    result = assistant.ask(CANDIDATE_QUESTION)
    cited = result.candidate.citation
    shown = [p for p in result.passages
             if p.related and not (p.article_id == cited.article_id and p.paragraph == cited.passage)]
    assert html.count('<li class="nqa-passage">') == len(shown) > 0
    assert f"Other passages read ({len(shown)})" in html
    # Raw scores only inside their own folded details.
    before_scores = html.split('<details class="nqa-scores">', 1)[0]
    assert "fused" not in before_scores and "cosine" not in before_scores
    assert kept[-1]["answer"] is None and "unconfirmed" in kept[-1]["markdown"]
    payload = handlers.ask(CANDIDATE_QUESTION)
    assert payload["candidate"]["answer"] == CANDIDATE_ANSWER
    assert payload["candidate"]["citation"]["source"] == "putin-hosts-assad-in-sochi.txt"


def test_found_answers_show_the_label_and_the_chance_of_being_right(handlers):
    _, kept, _, _ = final(handlers, "Where will the UN talks resume?")
    html = kept[-1]["html"]
    assert "confidence · about" in html and "% likely right" in html
    assert "nqa-copy" in html and "Geneva" in html.split('class="nqa-copy" value="', 1)[1].split('"', 1)[0]


# --- a large collection: the list and the picker send a page of it ------------------------------

def add_ferries(assistant, count: int) -> list[str]:
    from index.ids import article_id
    from qa.types import Article

    titles = [f"Ferry timetable {n:02d} for Lakeside" for n in range(1, count + 1)]
    assistant.collection.add([Article(article_id(t, t + " text."), t, "", None, f"The ferry {t} runs hourly.")
                              for t in titles])
    return titles


def test_the_article_list_shows_one_page_newest_first_and_searches_titles_and_outlets(handlers, assistant):
    titles = add_ferries(assistant, 45)
    total = 47
    first, number = handlers.articles_page("", 1)
    assert number == 1 and first.count('class="nqa-article"') == h.ARTICLES_PER_PAGE == 20
    assert f"{total} articles indexed · showing 1–20" in first and titles[-1] in first and titles[0] not in first
    last, number = handlers.articles_page("", 99)  # past the end: the last page
    assert number == 3 and last.count('class="nqa-article"') == total - 40 and "showing 41–47" in last
    assert 'start="41"' in last and BUNDLED_TITLE in last  # the oldest comes last
    found, _ = handlers.articles_page("timetable 07", 1)
    assert "1 match" in found and found.count('class="nqa-article"') == 1 and titles[6] in found
    by_outlet, _ = handlers.articles_page(BRIDGE_OUTLET.split(".")[0], 1)
    assert by_outlet.count('class="nqa-article"') == 1 and NEW_ARTICLE_TITLE in by_outlet
    none, _ = handlers.articles_page("no such words", 1)
    assert "No article matches" in none and f"{total} articles indexed" in none


def test_the_picker_lists_the_chosen_articles_and_matches_only(handlers, assistant):
    titles = add_ferries(assistant, 45)
    ids = ids_by_title(handlers)
    articles, outlets = handlers.article_choices()
    assert len(articles) == h.CHOICES_SHOWN and outlets == [BRIDGE_OUTLET]
    # a chosen article stays listed (first), whatever the search, and a deleted one leaves
    chosen = [ids[titles[0]], "gone-id"]
    articles, _ = handlers.article_choices("timetable 3", chosen=chosen)
    assert [value for _, value in articles][0] == ids[titles[0]] and "gone-id" not in {v for _, v in articles}
    # every word of the search within the title or outlet ("3" also finds 13, 23, 30…)
    assert {label for label, _ in articles[1:]} == {t for t in titles[1:] if "3" in t}
    assert len(articles) == 1 + len({t for t in titles[1:] if "3" in t}) <= 1 + h.CHOICES_SHOWN


def test_the_first_line_says_how_many_and_which_is_newest(handlers):
    line = handlers.collection_summary()
    assert "2 articles</strong> loaded" in line and NEW_ARTICLE_TITLE in line and "(24 Feb 2026)" in line


def test_passages_read_are_numbered_by_the_articles_paragraphs(handlers):
    _, kept, _, _ = final(handlers, "Where will the UN talks resume?")
    html = kept[0]["html"]
    read = html.split('class="nqa-sources"', 1)[1]
    assert "¶ " in read and "passage " not in read.replace("passages", "")


def test_the_export_keeps_how_a_follow_up_was_understood(handlers):
    _, kept, _, _ = final(handlers, "Where will the UN talks resume?")
    _, kept, _, _ = final(handlers, CLARIFY_QUESTION, kept)
    assert "*Understood as: “When will the UN talks resume?”*" in kept[-1]["markdown"]
