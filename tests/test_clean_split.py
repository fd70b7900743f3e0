"""Cleaning scraped text by general rules, and splitting articles into passages with exact offsets."""

import pytest

from index.clean import clean_article_text, is_fragment, looks_like_headline
from index.load import load_paths, make_article
from index.split import MAX_PASSAGE_WORDS, split_article

from conftest import BUNDLED


def test_bundled_article_loses_its_site_noise_and_keeps_its_story():
    article = load_paths([BUNDLED]).articles[0]
    assert article.title == "Putin Hosts Surprise Syrian Talks With Assad In Sochi"
    lines = article.text.split("\n\n")
    for noise in ("Accessibility links", "Breaking News", "XS", "SM", "MD", "LG"):
        assert noise not in lines
    caption = "Russian President Vladimir Putin (left) and his Syrian counterpart, Bashar al-Assad, embrace in Sochi on November 20."
    assert article.text.count(caption) == 1
    assert "are due to resume in Geneva on November 28." in article.text
    assert lines[-1] == "With reporting by Reuters, AFP, AP, TASS, and Interfax"
    assert article.title not in article.text


def test_rules_are_general_not_tied_to_one_article():
    raw = "Skip to content\nMenu\nSearch\n\nCity Council Approves New Budget For Parks\n\n" \
          "The council voted 7-2 on Monday to approve the budget.\nShare\nThe council voted 7-2 on Monday to approve the budget.\n" \
          "Mayor Lee said the parks would reopen in May.\n\nFollow us\n"
    title, body = clean_article_text(raw)
    assert title == "City Council Approves New Budget For Parks"
    assert body == "The council voted 7-2 on Monday to approve the budget.\n\nMayor Lee said the parks would reopen in May."


def test_fragment_and_headline_rules():
    assert is_fragment("Breaking News") and is_fragment("LG")
    assert not is_fragment("He resigned.")  # short, but a sentence
    assert looks_like_headline("Putin Hosts Surprise Syrian Talks With Assad In Sochi")
    assert not looks_like_headline("The meeting between the two allies came as the presidents met.")


def test_passages_are_slices_and_short_paragraphs_merge():
    article = load_paths([BUNDLED]).articles[0]
    passages = split_article(article)
    assert [p.index for p in passages] == list(range(len(passages)))
    for p in passages:
        assert p.text == article.text[p.start:p.end]
        assert p.text == p.text.strip()
    # "Turkey supports rebels..." (10 words) is not left alone
    turkey = next(p for p in passages if "Turkey supports rebels" in p.text)
    assert len(turkey.text.split()) >= 25
    assert len(passages) < len(article.text.split("\n\n"))


def test_long_paragraph_is_cut_at_sentence_boundaries():
    sentence = "The delegation met the envoy in Geneva on Tuesday to discuss a new constitution. "
    article = make_article(sentence * 60, "test", title="Long")
    passages = split_article(article)
    assert len(passages) > 1
    for p in passages:
        assert p.text == article.text[p.start:p.end]
        assert len(p.text.split()) <= MAX_PASSAGE_WORDS
        assert p.text.endswith("constitution.")


@pytest.mark.parametrize("raw,clean", [
    ("<b>Where</b> did Putin host Assad?", "Where did Putin host Assad?"),
    ("<p>Who&nbsp;is   <i>Erdogan</i>?</p><script>alert(1)</script>", "Who is Erdogan?"),
    ("<p>Who</p><p>met Assad?</p>", "Who met Assad?"),
    ("Where\twill the UN\n talks resume?  ", "Where will the UN talks resume?"),
    ("Is 3 < 5 and a & b?", "Is 3 < 5 and a & b?"),  # no markup: left as typed
])
def test_a_question_is_cleaned_as_an_article_is(raw, clean):
    from index.clean import clean_question_text
    assert clean_question_text(raw) == clean
