"""The verifier probe's feature reader works against the real shipped reader (it reaches into its internals)."""

import importlib.util

import numpy as np
import pytest

from conftest import BUNDLED, ROOT
from qa.reader.decode import best_span


def load_probe():
    spec = importlib.util.spec_from_file_location("answerability_probe", ROOT / "benchmarks" / "answerability_probe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_features_describe_the_readers_own_best_span(shipped_reader):
    probe = load_probe()
    context = BUNDLED.read_text()  # long enough to need several windows
    question = "Where will the UN talks resume?"
    scalars, vectors, text = probe.read_features(shipped_reader, question, context)
    windows = shipped_reader._windows(question, [context])[0]
    span, null = best_span(windows)
    assert len(windows) > 1
    assert text == context[span.char_start:span.char_end]
    assert scalars[0] == span.score - null and scalars[1] == null  # the margin and null the product decides on
    assert 0 <= scalars[4] <= 1 and 0 <= scalars[6] <= 1  # probabilities
    assert vectors.shape == (3 * 384,) and np.isfinite(vectors).all()
    # the vectors are the best span's own window: the span head turns them back into its logits
    import torch

    head = shipped_reader._model.qa_outputs
    with torch.inference_mode():
        start = head(torch.from_numpy(vectors[384:768]))[0].item()
        end = head(torch.from_numpy(vectors[768:]))[1].item()
    assert start + end == pytest.approx(span.score, abs=1e-3)
    assert len(scalars) == 14
