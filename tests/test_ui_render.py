"""The chat's HTML: highlight by offsets, citation, confidence, candidates, clarifications,
passages read, the article panel and list, the copy and Markdown forms, and escaping."""

from __future__ import annotations

import html
import json
import re

from index.types import Article
from qa.formats import paragraph_label
from qa.types import AskResult, Candidate, Citation, RetrievedPassage
from ui import export, panels, render

CONTEXT = "The meeting came as the presidents <b>are</b> scheduled to meet on November 22 to talk."
SPAN = (CONTEXT.index("November 22"), CONTEXT.index("November 22") + len("November 22"))


def passage(paragraph: int, text: str = "Some passage.", title: str = "Sochi talks", **kw) -> RetrievedPassage:
    return RetrievedPassage("a1", title, paragraph, 0.03 - paragraph / 1000, text, 0, len(text), **kw)


def found(context=CONTEXT, span=SPAN, source="https://example.org/sochi", score=0.91, passages=None,
          question="When will they meet?", resolved="", confidence="high") -> AskResult:
    start, end = span
    citation = Citation("a1", "Sochi talks", 3, 100 + start, 100 + end, source)
    if passages is None:
        passages = [passage(3, context), passage(5, "Turkey supports rebels."), passage(7, "Other text.")]
    return AskResult(question, True, context[start:end], score, citation, context, passages,
                     resolved or question, start, end, confidence=confidence)


def test_answer_shows_answer_highlighted_span_citation_and_confidence():
    out = render.answer_html(found())
    assert '<div class="nqa-answer">November 22</div>' in out
    assert '<mark class="nqa-span">November 22</mark>' in out
    # Without the article's paragraph numbers, the 0-based passage 3 is named as the 4th passage.
    assert "<cite>Sochi talks</cite>, passage 4</button>" in out
    assert 'href="https://example.org/sochi"' in out and 'rel="noopener noreferrer nofollow"' in out
    assert "High confidence · about 91% likely right" in out


def test_highlight_comes_from_offsets_not_from_searching():
    context = "May said yes. Then May said no."
    second = context.rindex("May")
    out = render.answer_html(found(context=context, span=(second, second + 3)))
    assert "May said yes. Then <mark" in out  # the second "May", not the first occurrence


def test_offsets_outside_the_passage_leave_it_unhighlighted():
    assert "<mark" not in render.highlight_span("short", 2, 99)
    assert "<mark" not in render.highlight_span("short", None, 3)
    assert "<mark" not in render.highlight_span("short", 3, 3)


def test_article_and_question_markup_is_escaped_everywhere():
    evil = 'Hi <script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3))'
    start = evil.index("Hi")
    result = found(context=evil, span=(start, start + 2), question=evil, resolved=evil + " ?",
                   passages=[passage(1, evil, title="<i>t</i>"), passage(2, evil, title=evil)])
    out = render.answer_html(result) + render.question_html(evil) + render.not_found_html(result)
    assert "<script" not in out and "<img" not in out and "<i>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "onerror=&quot;alert(2)&quot;" in out
    assert 'href="javascript' not in out


def test_only_http_links_become_links():
    for source in ("/tmp/article.txt", "javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", ""):
        assert "<a " not in render.answer_html(found(source=source))
    assert render.safe_link('https://e.org/a?b="c"') == 'https://e.org/a?b="c"'
    out = render.answer_html(found(source='https://e.org/a?b="c"'))
    assert 'href="https://e.org/a?b=&quot;c&quot;"' in out


def test_citation_names_the_articles_paragraphs_and_opens_the_article_at_the_quote():
    result = found()
    for paragraphs, label in (((3,), "¶ 3"), ((3, 4), "¶ 3–4"), ((2, 5), "¶ 2, 5")):
        citation = Citation("a1", "Sochi talks", 3, 100, 111, "", paragraphs)
        assert paragraph_label(citation) == label
    out = render.answer_html(AskResult(**{**result.__dict__, "citation": Citation(
        "a1", "Sochi talks", 3, 100 + SPAN[0], 100 + SPAN[1], "", (7,))}))
    button = re.search(r'<div class="nqa-citation">— <button type="button" class="nqa-open nqa-cite-button" '
                       r'value="([^"]*)" title="Open the article at ¶ 7">', out)
    assert button and "<cite>Sochi talks</cite>, ¶ 7</button>" in out
    assert json.loads(button.group(1).replace("&quot;", '"')) == {
        "article": "a1", "start": 100 + SPAN[0], "end": 100 + SPAN[1], "quote": True}


def test_the_assistants_confidence_label_wins_and_no_raw_score_is_called_confidence():
    result = AskResult(**{**found(score=0.55).__dict__, "confidence": "high"})
    out = render.answer_html(result)
    assert "High confidence · about 55% likely right" in out
    assert "0.55" not in out and "Confidence: " not in out
    assert "about 99% likely right" in render.answer_html(found(score=0.9999))


def test_other_passages_read_are_related_ones_with_scores_folded_away():
    passages = [passage(3, CONTEXT), passage(5, "Turkey supports rebels.", dense_score=0.612, bm25_score=4.25),
                passage(7, "Other text."), passage(8, "Weather in Oslo.", related=False)]
    out = render.answer_html(found(passages=passages))
    sources = out[out.index('<details class="nqa-sources"'):]
    assert "Other passages read (2)" in sources and "1 unrelated passage not shown." in sources
    assert "passage 6" in sources and "passage 8" in sources
    assert "Weather in Oslo" not in sources and "passage 4</cite>" not in sources.split("nqa-scores")[0]
    listed, scores = sources.split('<details class="nqa-scores">', 1)
    assert "fused" not in listed and "cosine" not in listed
    assert "cosine 0.61" in scores and "BM25 4.2" in scores and re.search(r"fused 0\.02\d", scores)


def test_not_found_says_so_and_shows_related_passages_without_a_span():
    result = AskResult("Who won?", False, None, None, None, None,
                       [passage(i, f"Passage {i}.", related=i % 2 == 0) for i in range(5)], "Who won?")
    out = render.answer_html(result)
    assert "I couldn&#x27;t find that in the articles." in out
    assert "<mark" not in out and "confidence" not in out
    assert '<details class="nqa-sources" open>' in out
    assert out.count('<li class="nqa-passage">') == 3 and "2 unrelated passages not shown." in out


def test_not_found_with_no_passages():
    out = render.not_found_html(AskResult("Who won?", False, None, None, None, None, [], "Who won?"))
    assert "No passage was close enough" in out


def candidate_result() -> AskResult:
    context = "The war has created 6.1 million refugees, officials said."
    start = context.index("6.1 million")
    citation = Citation("a1", "Sochi talks", 5, 900 + start, 900 + start + 11, "https://e.org/s", (8,))
    candidate = Candidate("6.1 million", 0.312, citation, context, start, start + 11)
    return AskResult("How many refugees returned?", False, None, None, None, None,
                     [passage(5, context), passage(6, "Refugees and more.")], "How many refugees returned?",
                     candidate=candidate)


def test_a_candidate_is_shown_as_an_unconfirmed_possible_answer():
    out = render.answer_html(candidate_result())
    assert "The articles don&#x27;t state this clearly." in out and "couldn" not in out
    assert '<span class="nqa-unconfirmed">Unconfirmed</span> possible answer: <strong>6.1 million</strong>' in out
    assert '<mark class="nqa-candidate-span">6.1 million</mark>' in out and 'class="nqa-span"' not in out
    assert "about 31% likely right" in out and "<cite>Sochi talks</cite>, ¶ 8" in out
    # The candidate's passage is not repeated among the others; the list starts folded.
    assert "Other passages read (1)" in out and '<details class="nqa-sources">' in out


def test_a_clarification_is_a_question_back_not_a_not_found():
    result = AskResult("When?", False, None, None, None, None, [], "When?", clarification="When did <what> happen?")
    out = render.answer_html(result)
    assert out == ('<div class="nqa-message nqa-clarify"><div class="nqa-answer">'
                   "When did &lt;what&gt; happen?</div></div>")


def test_copy_text_is_the_answer_quote_and_citation():
    result = AskResult(**{**found().__dict__, "citation": Citation("a1", "Sochi <talks>", 3, 1, 2,
                                                                  "https://example.org/sochi", (4,))})
    assert render.copy_text(result) == ("November 22\n\n“" + CONTEXT + "”\n"
                                        "— Sochi <talks> (date unknown), ¶ 4 (https://example.org/sochi)")
    out = render.answer_html(result)
    assert 'class="nqa-copy" value="November 22\n\n“The meeting' in out
    assert "— Sochi &lt;talks&gt; (date unknown), ¶ 4 (https://example.org/sochi)" in out
    assert render.copy_text(candidate_result()).startswith("The articles don't state this clearly.\n"
                                                           "Possible answer (unconfirmed): 6.1 million")
    assert render.copy_text(AskResult("q", False, None, None, None, None, [], "q")) == render.NOT_FOUND_HEADLINE


def test_markdown_export_keeps_quotes_and_citations_and_defuses_markup():
    md = export.exchange_markdown("When <b>?", found(source="https://example.org/sochi"), scope_note="Searched only: x")
    assert md.startswith("**Q:** When \\<b\\>?\n\n*Searched only: x*\n\n**A:** November 22")
    assert "*High confidence, about 91% likely right*" in md
    assert "> The meeting came as the presidents \\<b\\>are\\</b\\>" in md
    assert "— *Sochi talks, passage 4* (<https://example.org/sochi>)" in md
    candidate = export.exchange_markdown("q", candidate_result())
    assert "Possible answer (**unconfirmed**, about 31% likely right): 6.1 million" in candidate
    assert export.exchange_markdown("q", error="broke").endswith("**A:** ⚠ broke\n")
    evil = export.exchange_markdown("[x](javascript:alert(1)) ![i](http://e/x.png)", None)
    assert "](javascript" not in evil.replace("\\]", "") and "\\[x\\]" in evil


def test_resolved_follow_up_is_shown_only_when_it_differs():
    assert "Understood as" not in render.answer_html(found(question="When?", resolved="When?"))
    out = render.answer_html(found(question="When?", resolved="When will the UN talks resume?"))
    assert "Understood as: “When will the UN talks resume?”" in out


def test_a_result_without_the_assistants_label_shows_no_label_guessed_from_its_score():
    out = render.answer_html(found(score=0.95, confidence=None))
    assert "confidence" not in out and "November 22" in out
    assert "confidence" not in export.exchange_markdown("q", found(score=0.95, confidence=None))


def test_line_breaks_survive_and_long_passages_are_shortened_in_lists():
    assert render.escape_text("a\nb") == "a<br>b"
    item = render.passage_item(passage(0, "word " * 500))
    assert "…" in item and len(item) < 1200


def test_articles_list_escapes_titles_and_links_only_web_sources():
    infos = [
        {"id": "1", "title": "<b>Bold</b> title", "source": "https://e.org/x", "published": "2017-11-21",
         "outlet": "e.org"},
        {"id": "2\" onclick=\"x", "title": "Local", "source": "a.txt", "published": None, "outlet": ""},
    ]
    out = panels.articles_html(infos)
    assert "2 articles indexed" in out and "&lt;b&gt;Bold&lt;/b&gt; title" in out
    assert out.count("<a ") == 1 and "2017-11-21" in out and "e.org" in out and "a.txt" in out
    assert 'value="2&quot; onclick=&quot;x"' in out and 'onclick="' not in out
    assert 'data-title="&lt;b&gt;Bold&lt;/b&gt; title"' in out
    assert "No articles" in panels.articles_html([])


def test_an_opened_article_marks_the_quote_across_paragraphs_and_escapes_everything():
    text = "Intro <script>x</script>.\n\nThe quote starts here\n\nand ends here. ${alert(1)} {{x}}"
    article = Article("a1", "T <i>", "https://e.org/a", "2017-11-21", text)
    start, end = text.index("starts"), text.index("ends") + 4
    out = panels.source_html(article, outlet="e.org", source="https://e.org/a", start=start, end=end, quote=True)
    assert out.count('<mark class="nqa-span">') == 2 and out.count("nqa-para nqa-cited") == 2
    assert "The quote is highlighted in ¶ 2–3." in out
    assert "&lt;script&gt;" in out and "<script" not in out and "T &lt;i&gt;" in out
    assert "${alert(1)} {{x}}" in out  # shown as text (gr.HTML substitutes values, it does not evaluate them)
    outlined = panels.source_html(article, start=start, end=end)
    assert "<mark" not in outlined and "The passage is outlined in ¶ 2–3." in outlined


def test_status_and_error_messages_are_escaped():
    assert "&lt;x&gt;" in panels.status_html([("error", "<x>")])
    assert panels.status_html([]) == ""
    assert "&lt;script&gt;" in render.error_html("<script>")


def test_an_answer_card_says_who_agrees_and_who_says_otherwise():
    base = found()
    story = {"article_id": "a2", "title": "Toll <rises>", "outlet": "Reuters", "published": "2017-11-19",
             "answer": "two hundred", "start": 5, "end": 16, "outlets": ["Reuters", "wire.example"]}
    conflict = {**story, "article_id": "a3", "title": "Earlier", "outlet": "BBC News", "answer": "150",
                "score": 0.8, "older": True}
    result = AskResult(**{**base.__dict__, "citation": Citation("a1", "Sochi talks", 3, 100, 111, "", (4,),
                                                                "2017-11-21", "TASS"),
                          "support": [story], "conflicts": [conflict], "answer_date": "2017-11-22"})
    out = render.answer_html(result)
    assert "TASS · 21 Nov 2017" in out and "November 22" in out
    assert "<summary>2 articles from 3 outlets agree</summary>" in out
    assert "Reuters, wire.example · 19 Nov 2017" in out and "Toll &lt;rises&gt;" in out
    assert "But BBC News (19 Nov 2017) says “<strong>150</strong>” <span class=\"nqa-older\">(earlier reporting)" in out
    targets = [json.loads(html.unescape(v)) for v in re.findall(r'value="([^"]*article[^"]*)"', out)]
    assert {"article": "a3", "start": 5, "end": 16, "quote": True} in targets
    monday = AskResult(**{**result.__dict__, "answer": "Monday", "answer_date": "2017-11-20"})
    assert "Monday (20 Nov 2017)" in render.answer_html(monday)
