"""Choosing the answer across passages: the reader's margin, less a log-rank retrieval prior. The
questions ask for no checked type (`qa.answer_type`): the fake reader's spans are any first word."""

import math

from qa import Assistant, Settings
from qa.answer_policy import passage_answer_score
from qa.reader.decode import Span
from qa.reader.transformers_reader import PassageReading, ReaderSettings

from conftest import BUNDLED
from fakes import HashEmbedder, ReadsOneByOne


class MarginReader(ReadsOneByOne):
    """Gives the first word of each passage as the span, with margins set per passage rank."""

    def __init__(self, margins):
        self.margins = margins
        self.settings = ReaderSettings(no_answer_threshold=1.0)

    def warm_up(self):
        pass

    def read(self, question, passages):
        readings = []
        for i, text in enumerate(passages):
            end = text.index(" ")
            readings.append(PassageReading(Span(0, end, self.margins[i], 0.0), 0.0))
        return readings


def assistant_with(tmp_path, margins):
    folder = tmp_path / "idx"
    return Assistant.build([BUNDLED], folder, Settings(index_dir=folder, top_k=3), embedder=HashEmbedder(),
                           reader=MarginReader(margins))


def test_log_rank_prior():
    assert passage_answer_score(4.0, 1) == 4.0
    assert math.isclose(passage_answer_score(4.0, 3), 4.0 - math.log(3))


def test_a_slightly_higher_margin_further_down_does_not_win(tmp_path):
    result = assistant_with(tmp_path, [4.0, 0.0, 4.5]).ask("What happened in Sochi?")
    assert result.citation.passage == result.passages[0].paragraph


def test_a_much_higher_margin_further_down_wins(tmp_path):
    result = assistant_with(tmp_path, [4.0, 0.0, 6.0]).ask("What happened in Sochi?")
    assert result.citation.passage == result.passages[2].paragraph
    assert math.isclose(result.score, 1 / (1 + math.exp(-(6.0 - math.log(3) - 1.0))), rel_tol=1e-3)


def test_below_the_threshold_after_the_prior_is_not_found(tmp_path):
    result = assistant_with(tmp_path, [0.5, 0.0, 1.5]).ask("What happened in Sochi?")
    assert not result.found and result.answer is None  # 1.5 - log 3 < 1.0
