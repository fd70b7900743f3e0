"""Span decoding on crafted logits: windows, the null answer, maximum length, ties."""

import numpy as np

from qa.reader.decode import NOT_CONTEXT, Window, best_span, best_spans


def window(start, end, offsets):
    return Window(np.array(start, dtype=float), np.array(end, dtype=float), offsets)


# token 0 is [CLS], token 1 is a question token, tokens 2..5 are passage words at 10-char steps
OFFSETS = [NOT_CONTEXT, NOT_CONTEXT, (0, 5), (10, 15), (20, 25), (30, 35)]


def test_best_span_and_its_margin_over_the_null_answer():
    w = window([1.0, 9.0, 0.0, 4.0, 0.0, 0.0], [1.0, 9.0, 0.0, 0.0, 3.0, 0.0], OFFSETS)
    span, null = best_span([w])
    assert (span.char_start, span.char_end) == (10, 25)  # question token ignored despite its logits
    assert span.score == 7.0 and null == 2.0 and span.margin == 5.0


def test_end_before_start_is_never_chosen():
    w = window([0, 0, 0, 0, 5.0, 0], [0, 0, 0, 5.0, 0, 0.5], OFFSETS)
    span, _ = best_span([w])
    assert (span.char_start, span.char_end) == (20, 35)


def test_maximum_answer_length_in_tokens():
    w = window([0, 0, 5.0, 0, 0, 0], [0, 0, 0, 0, 0, 5.0], OFFSETS)
    assert best_span([w], max_answer_tokens=4)[0].char_end == 35
    short, _ = best_span([w], max_answer_tokens=2)
    assert short.char_end - short.char_start <= 15


def test_best_span_across_windows_and_minimum_null():
    a = window([6.0, 0, 1.0, 0, 0, 0], [6.0, 0, 1.0, 0, 0, 0], OFFSETS)
    b = window([1.0, 0, 0, 0, 0, 4.0], [1.0, 0, 0, 0, 0, 4.0], [NOT_CONTEXT, NOT_CONTEXT, (30, 35), (40, 45), (50, 55), (60, 65)])
    span, null = best_span([a, b])
    assert (span.char_start, span.char_end) == (60, 65)
    assert null == 2.0 and span.null_score == 2.0 and span.margin == 6.0


def test_ties_prefer_the_earlier_span():
    w = window([0, 0, 3.0, 3.0, 0, 0], [0, 0, 3.0, 3.0, 0, 0], OFFSETS)
    spans = best_spans(w, n_best=3)
    assert (spans[0].char_start, spans[0].char_end) == (0, 5)
    assert [s.score for s in spans] == sorted([s.score for s in spans], reverse=True)


def test_window_without_passage_tokens_gives_nothing():
    w = window([1.0, 1.0], [1.0, 1.0], [NOT_CONTEXT, NOT_CONTEXT])
    assert best_span([w]) == (None, 2.0)
    assert best_span([]) == (None, float("inf"))


def test_a_span_never_runs_across_a_paragraph_break():
    # tokens 2-3 are the first paragraph, 4-5 the second; the best raw span would be tokens 3..4
    start, end = [0, 0, 1.0, 6.0, 0, 0], [0, 0, 0, 2.0, 6.0, 0]
    paragraphs = np.array([0, 0, 0, 0, 1, 1])
    unaware, _ = best_span([window(start, end, OFFSETS)])
    assert (unaware.char_start, unaware.char_end) == (10, 25)
    split = Window(np.array(start), np.array(end), OFFSETS, paragraphs)
    span, _ = best_span([split])
    assert (span.char_start, span.char_end) == (10, 15) and span.score == 8.0
