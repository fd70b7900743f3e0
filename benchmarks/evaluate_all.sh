#!/usr/bin/env bash
# Reproduce the README's results table: every evaluation run, written to eval/results/<name>/
# (the MiniLM reader, the default) or eval/results/mpnet/<name>/ (bash benchmarks/evaluate_all.sh mpnet).
# SQuAD and Wikinews sets are sampled (2,000 questions, seed 0) to fit a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
READER=${1:-minilm}
case "$READER" in
    minilm) RESULTS=eval/results ;;
    mpnet) RESULTS=eval/results/mpnet ;;
    *) echo "usage: $0 [minilm|mpnet]" >&2; exit 2 ;;
esac
run() {
    local name=$1; shift
    echo "== $READER $name"
    NEWSQA_READER=$READER .venv/bin/python -m eval run "$@" --out "$RESULTS/$name"
}
run bundled-article eval/gold/bundled-article.jsonl
run bundled-conversations eval/gold/bundled-conversations.jsonl
run squad-v1.1-oracle "$DATA/squad/dev-v1.1.json" --oracle --limit 2000 --seed 0
run squad-v2.0-oracle "$DATA/squad/dev-v2.0.json" --oracle --limit 2000 --seed 0
run wikinews-dev-oracle "$DATA/news/qamr-wikinews-dev.squad.json" --oracle --limit 2000 --seed 0
run squad-v1.1-open "$DATA/squad/dev-v1.1.json" --limit 2000 --seed 0
run squad-v2.0-open "$DATA/squad/dev-v2.0.json" --limit 2000 --seed 0
