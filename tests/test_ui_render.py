"""The chat's message HTML: highlight by offsets, citation, confidence, sources, and escaping."""

from __future__ import annotations

import re

from index.types import Article
from qa.types import AskResult, Citation, RetrievedPassage
from ui import render

CONTEXT = "The meeting came as the presidents <b>are</b> scheduled to meet on November 22 to talk."
SPAN = (CONTEXT.index("November 22"), CONTEXT.index("November 22") + len("November 22"))


def passage(paragraph: int, text: str = "Some passage.", title: str = "Sochi talks", **kw) -> RetrievedPassage:
    return RetrievedPassage("a1", title, paragraph, 0.03 - paragraph / 1000, text, 0, len(text), **kw)


def found(context=CONTEXT, span=SPAN, source="https://example.org/sochi", score=0.91, passages=None,
          question="When will they meet?", resolved="") -> AskResult:
    start, end = span
    citation = Citation("a1", "Sochi talks", 3, 100 + start, 100 + end, source)
    if passages is None:
        passages = [passage(3, context), passage(5, "Turkey supports rebels."), passage(7, "Other text.")]
    return AskResult(question, True, context[start:end], score, citation, context, passages,
                     resolved or question, start, end)


def test_answer_shows_answer_highlighted_span_citation_and_confidence():
    out = render.answer_html(found())
    assert '<div class="nqa-answer">November 22</div>' in out
    assert '<mark class="nqa-span">November 22</mark>' in out
    assert "<cite>Sochi talks</cite>, paragraph 4" in out  # 0-based paragraph 3 shown as the 4th
    assert 'href="https://example.org/sochi"' in out and 'rel="noopener noreferrer nofollow"' in out
    assert "Confidence: high (91%)" in out


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


def test_sources_list_the_other_passages_with_scores():
    out = render.answer_html(found())
    sources = out[out.index("<details"):]
    assert "Sources: 2 other passages" in sources
    assert "paragraph 6" in sources and "paragraph 8" in sources
    assert "paragraph 4" not in sources  # the cited passage is not repeated
    assert re.search(r"score 0\.02\d", sources)


def test_passage_scores_include_dense_and_bm25_when_known():
    item = render.passage_item(passage(0, dense_score=0.612, bm25_score=4.25))
    assert "cosine 0.61" in item and "BM25 4.2" in item


def test_not_found_says_so_and_shows_closest_passages_without_a_span():
    result = AskResult("Who won?", False, None, None, None, None,
                       [passage(i, f"Passage {i}.") for i in range(5)], "Who won?")
    out = render.answer_html(result)
    assert "I couldn&#x27;t find that in the articles." in out
    assert "<mark" not in out and "Confidence" not in out
    assert "<details class=\"nqa-sources\" open>" in out
    assert out.count('<li class="nqa-passage">') == render.CLOSEST_PASSAGES_SHOWN


def test_not_found_with_no_passages():
    out = render.not_found_html(AskResult("Who won?", False, None, None, None, None, [], "Who won?"))
    assert "No passage was close enough" in out


def test_resolved_follow_up_is_shown_only_when_it_differs():
    assert "Understood as" not in render.answer_html(found(question="When?", resolved="When?"))
    out = render.answer_html(found(question="When?", resolved="When will the UN talks resume?"))
    assert "Understood as: “When will the UN talks resume?”" in out


def test_confidence_levels():
    assert [render.confidence_level(s) for s in (0.95, 0.7, 0.5, 0.1)] == ["high", "high", "medium", "low"]


def test_line_breaks_survive_and_long_passages_are_shortened_in_lists():
    assert render.escape_text("a\nb") == "a<br>b"
    item = render.passage_item(passage(0, "word " * 500))
    assert "…" in item and len(item) < 1000


def test_articles_list_escapes_titles_and_links_only_web_sources():
    articles = [
        Article("1", "<b>Bold</b> title", "https://e.org/x", "2017-11-21", "text"),
        Article("2", "Local", "/home/me/a.txt", None, "text"),
    ]
    out = render.articles_html(articles)
    assert "2 articles indexed" in out and "&lt;b&gt;Bold&lt;/b&gt; title" in out
    assert out.count("<a ") == 1 and "2017-11-21" in out
    assert "No articles" in render.articles_html([])


def test_status_and_error_messages_are_escaped():
    assert "&lt;x&gt;" in render.status_html([("error", "<x>")])
    assert render.status_html([]) == ""
    assert "&lt;script&gt;" in render.error_html("<script>")
