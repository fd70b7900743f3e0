#!/usr/bin/env bash
# Reproduce the README's results tables: every evaluation run of one reader, written to
# eval/results/<reader>/<run>/.
#
#   bash benchmarks/evaluate_all.sh mpnet                 # every run with the MPNet reader (the default)
#   bash benchmarks/evaluate_all.sh minilm squadshifts    # only the runs whose name contains "squadshifts"
#
# SQuAD, SQuADShifts and Wikinews sets are sampled (2,000 questions, seed 0) to fit a 2-core machine.
# The SQuADShifts runs (out-of-domain: new Wikipedia articles, Reddit posts, Amazon reviews) read
# each question's own paragraph twice: with the shipped no-answer threshold, and forced to answer
# (every question there has an answer), which measures the spans alone.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
READER=${1:-mpnet}
ONLY=${2:-}
case "$READER" in
    minilm|mpnet) RESULTS=eval/results/$READER ;;
    *) echo "usage: $0 [mpnet|minilm] [part of a run name]" >&2; exit 2 ;;
esac
run() {
    local name=$1; shift
    [[ -z "$ONLY" || "$name" == *"$ONLY"* ]] || return 0
    echo "== $READER $name"
    NEWSQA_READER=$READER .venv/bin/python -m eval run "$@" --out "$RESULTS/$name"
}
run bundled-article eval/gold/bundled-article.jsonl
run bundled-conversations eval/gold/bundled-conversations.jsonl
run bundled-followups eval/gold/bundled-followups.jsonl
run squad-v1.1-oracle "$DATA/squad/dev-v1.1.json" --oracle --limit 2000 --seed 0
run squad-v2.0-oracle "$DATA/squad/dev-v2.0.json" --oracle --limit 2000 --seed 0
run wikinews-dev-oracle "$DATA/news/qamr-wikinews-dev.squad.json" --oracle --limit 2000 --seed 0
run squad-v1.1-open "$DATA/squad/dev-v1.1.json" --limit 2000 --seed 0
run squad-v2.0-open "$DATA/squad/dev-v2.0.json" --limit 2000 --seed 0
for shift in new_wiki reddit amazon; do
    run "squadshifts-$shift-oracle" "$DATA/squadshifts/squadshifts-$shift.json" --oracle --limit 2000 --seed 0
    run "squadshifts-$shift-oracle-forced" "$DATA/squadshifts/squadshifts-$shift.json" --oracle --limit 2000 \
        --seed 0 --no-answer-threshold=-inf
done
