"""Evaluation of the assistant on gold question/answer pairs, and a SQuAD predictions scorer.

`python -m eval run GOLD` asks every gold question through `qa.Assistant`, as a user would, and
writes metrics, per-question predictions, a report and plots; `python -m eval score` reproduces the
official SQuAD scripts' numbers. The team's gold sets for the bundled article are in `eval/gold/`.
Nothing here retrieves or reads: all of that is `qa`'s, which never imports this package.
"""
