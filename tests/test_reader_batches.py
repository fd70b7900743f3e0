"""Windows are read in batches of nearly one length: little of any model call is padding."""

from __future__ import annotations

import numpy as np

from qa.reader.transformers_reader import MAX_PADDING, padding_bounded_batches


def windows(*lengths):
    return [(0, w, n) for w, n in enumerate(lengths)]


def lengths(batches):
    return [[n for _, _, n in batch] for batch in batches]


def test_windows_of_nearly_one_length_share_a_batch_and_a_long_one_starts_its_own():
    assert lengths(padding_bounded_batches(windows(200, 201, 204, 250), 32, padding=0.05)) == [[200, 201, 204], [250]]


def test_no_batch_pads_more_than_its_bound_and_every_window_is_read_once_in_order():
    rng = np.random.default_rng(0)
    items = windows(*sorted(int(n) for n in rng.integers(20, 257, size=200)))
    batches = padding_bounded_batches(items, 16, padding=0.1)
    assert [item for batch in batches for item in batch] == items
    for batch in batches:
        real = sum(n for _, _, n in batch)
        assert len(batch) <= 16
        assert len(batch) * batch[-1][2] <= 1.1 * real
    assert any(len(batch) > 1 for batch in batches)  # a bound that still lets equal windows share


def test_a_batch_holds_at_most_the_readers_batch_size():
    assert lengths(padding_bounded_batches(windows(*[100] * 40), 32)) == [[100] * 32, [100] * 8]


def test_without_padding_only_windows_of_equal_length_share():
    assert lengths(padding_bounded_batches(windows(90, 90, 91), 32, padding=0.0)) == [[90, 90], [91]]


def test_the_real_reader_calls_its_model_with_bounded_padding(shipped_reader, bundled_assistant):
    passages = [p.text for a in bundled_assistant.collection.articles()
                for p in bundled_assistant.collection.passages_of(a.id)]
    calls = []
    run = shipped_reader.runner.run

    def recording(inputs, batch_windows):
        calls.append(inputs["attention_mask"].copy())
        return run(inputs, batch_windows)

    shipped_reader.runner.run = recording
    try:
        readings = shipped_reader.read_many([("Who did Putin meet in Sochi?", passages[:5]),
                                             ("Where will the UN talks resume?", passages)])
    finally:
        shipped_reader.runner.run = run
    assert [len(r) for r in readings] == [5, len(passages)]
    windows_read = sum(len(mask) for mask in calls)
    assert windows_read >= 5 + len(passages)
    for mask in calls:
        assert mask.size <= (1 + MAX_PADDING) * mask.sum()
    assert len(calls) < windows_read  # windows of one length still share a call
