"""Could a second-stage verifier decide "no answer" better than the reader's own margin?

Reads every held-out SQuAD 2.0 train question (13 articles the reader never trained on) with the
shipped reader, keeps per-question features (the margin, null and span scores, start/end
probabilities and entropies, span and question lengths, and the encoder's last hidden state at
[CLS] and at the span's two ends), then scores answer-or-decline rules with leave-one-article-out
cross-validation: each rule, and its threshold, is fitted on 12 articles and applied to the 13th.
The score is SQuAD 2.0 F1 over all questions, so declining an answerable question costs its F1.

    python benchmarks/answerability_probe.py            # about 2 minutes to read, 2 to fit
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from qa.metrics import best_over_golds, f1
from qa.reader.decode import best_spans
from qa.reader.transformers_reader import TransformersReader
from qa.reader.training.train import (DEFAULT_OVERLAP, DEFAULT_TRAIN, Recipe, choose_threshold, heldout_order, load_examples,
                             overlap_ids, split_by_article)
from qa.settings import SHIPPED_READER


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def entropy(p: np.ndarray) -> float:
    p = p[p > 1e-12]
    return float(-(p * np.log(p)).sum())


def read_features(reader: TransformersReader, question: str, context: str):
    """Scalar features, hidden-state features and the best span's text for one question."""
    windows = reader._windows(question, [context])[0]
    null = min(w.null_score for w in windows)
    found = [(spans, i) for i, w in enumerate(windows)
             if (spans := best_spans(w, reader.settings.max_answer_tokens, n_best=2))]
    spans, i = max(found, key=lambda f: f[0][0].score)
    best, window = spans[0], windows[i]
    starts = [k for k, off in enumerate(window.offsets) if off[0] == best.char_start and off[1] > off[0]]
    ends = [k for k, off in enumerate(window.offsets) if off[1] == best.char_end and off[1] > off[0]]
    ts, te = starts[0], ends[-1]
    # Distributions over [CLS] (no answer, index 0 here) and the passage tokens, not question or padding.
    candidates = [0] + [k for k, off in enumerate(window.offsets) if off[1] > off[0]]
    p_start, p_end = softmax(window.start_logits[candidates]), softmax(window.end_logits[candidates])
    context_tokens = len(candidates) - 1
    scalars = [best.score - null, null, best.score, best.score - spans[1].score if len(spans) > 1 else 10.0,
               p_start[0], p_end[0], p_start.max(), p_end.max(), entropy(p_start), entropy(p_end),
               te - ts + 1, best.char_end - best.char_start, len(windows), context_tokens]
    hidden = window_hidden_states(reader, question, context, i)
    vectors = np.concatenate([hidden[0], hidden[ts], hidden[te]])
    return scalars, vectors, context[best.char_start:best.char_end]


def window_hidden_states(reader: TransformersReader, question: str, context: str, window: int) -> np.ndarray:
    """What the span head reads (the encoder's last hidden states) for one window, run on its own.

    The reader runs windows in length-sorted batches, so the order of its model calls is not the
    order of the windows; one more forward pass of the chosen window alone is unambiguous."""
    encoded = reader._encode(question, [context])
    tokens = int(encoded["attention_mask"][window].sum())
    inputs = {k: encoded[k][window: window + 1, :tokens]
              for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded}
    captured = []
    hook = reader._model.qa_outputs.register_forward_hook(lambda m, args, out: captured.append(args[0].float().numpy()))
    try:
        reader.runner.run(inputs, 1)
    finally:
        hook.remove()
    return captured[0][0]


def f1_with_threshold(score, tr, te, has, span_f1) -> float:
    """Choose the threshold on the training articles as the shipped reader's is chosen, then sum F1 over the test article."""
    # choose_threshold's rows: (score, F1 if answered, EM if answered, F1 if declined, EM if declined, answerable);
    # it chooses on F1 alone, so EM is left at 0 here.
    rows = [(score[i], span_f1[i], 0.0, float(not has[i]), 0.0, bool(has[i])) for i in tr]
    t = choose_threshold(rows)["threshold"]
    answered = score[te] > t
    return float(np.where(answered, np.where(has[te], span_f1[te], 0), (~has[te]).astype(float)).sum())


def main() -> None:
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import LeaveOneGroupOut
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from tqdm.auto import tqdm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", default=str(SHIPPED_READER))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--questions", type=int, default=0, help="read only the first N held-out questions (0: all)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    recipe = Recipe()
    _, held = split_by_article(load_examples(DEFAULT_TRAIN, overlap_ids(DEFAULT_OVERLAP)),
                               recipe.heldout_fraction, recipe.seed)
    held = heldout_order(held, recipe.seed)[: args.questions or None]
    reader = TransformersReader(args.reader)
    reader.warm_up()
    scalars, vectors, span_f1 = [], [], []
    for e in tqdm(held, desc="reading held-out questions"):
        s, v, text = read_features(reader, e.question, e.context)
        scalars.append(s)
        vectors.append(v)
        span_f1.append(best_over_golds(f1, text, [a for a, _ in e.answers]))
    scalars, vectors, span_f1 = np.array(scalars), np.array(vectors), np.array(span_f1)
    has = np.array([bool(e.answers) for e in held])
    articles = np.array([e.title for e in held])
    gain = np.where(has, span_f1, -1.0)  # what answering adds over declining, per question
    everything = np.hstack([scalars, vectors])

    def cross_validated(make, X, y, proba: bool) -> float:
        total = 0.0
        for tr, te in LeaveOneGroupOut().split(X, y, articles):
            if make is None:
                score = X[:, 0]
            else:
                score = np.empty(len(y))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = make().fit(X[tr], y[tr])
                predict = (lambda Z: model.predict_proba(Z)[:, 1]) if proba else model.predict
                score[tr], score[te] = predict(X[tr]), predict(X[te])
            total += f1_with_threshold(score, tr, te, has, span_f1)
        return 100 * total / len(y)

    rules = [
        ("reader margin alone (the shipped rule)", None, scalars, has, False),
        ("logistic regression, 14 scalar features", lambda: make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=3000)), scalars, has, True),
        ("ridge on the gain of answering, scalars", lambda: make_pipeline(
            StandardScaler(), Ridge(alpha=10)), scalars, gain, False),
        ("logistic regression, scalars + 3x384 hidden", lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.003, max_iter=3000)), everything, has, True),
        ("ridge on the gain, scalars + 3x384 hidden", lambda: make_pipeline(
            StandardScaler(), Ridge(alpha=3000)), everything, gain, False),
    ]
    print(f"{len(held)} held-out questions from {len(set(articles))} articles, "
          f"{int((~has).sum())} unanswerable; leave-one-article-out F1:")
    for name, make, X, y, proba in rules:
        print(f"  {name:48s} {cross_validated(make, X, y, proba):6.2f}")


if __name__ == "__main__":
    main()
