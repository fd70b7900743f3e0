#!/usr/bin/env bash
# Ship the reader campaign's latest checkpoint as the MPNet reader, the way each shipped reader was
# made, in one command (about 2.5 hours on 2 cores; stop the campaign first, it resumes after):
#
#   bash benchmarks/ship_campaign.sh            # every stage
#   bash benchmarks/ship_campaign.sh evaluate   # from a stage on: export, precision, calibrate, choose, evaluate
#   SHIP_STATE=/tmp/averaged bash benchmarks/ship_campaign.sh   # another state folder, e.g. an averaged one
#                                               # (qa.reader.training.average_states), instead of the campaign's
#
# 1. export: the checkpoint with the no-answer threshold chosen on all 3,284 held-out questions; its
#    score joins benchmarks/results/campaign_heldout_all.jsonl, and only a checkpoint whose held-out F1
#    beats the shipped reader's replaces qa/reader/weights-mpnet (otherwise the script stops there;
#    the hand-written MODEL_CARD.md is kept, rewrite its figures);
# 2. precision: the fastest within 0.5 held-out F1 of fp32, on 300 held-out questions;
# 3. calibrate: the held-out questions asked as the chat asks them, the map fitted on them written
#    into the folder (export leaves the old reader's map behind: it was fitted on that reader's
#    scores, so there is nothing to compare it with; benchmarks/results/calibration-open-mpnet.json
#    stays the record of the setting change, measured with the 6-layer reader);
# 4. choose: the default reader by the README's rule (benchmarks/results/default_reader_choice.json);
#    the MiniLM reader's reports in the scratch folder are reused, the MPNet reader's are redone;
# 5. evaluate: every README results row of the MPNet reader (benchmarks/evaluate_all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/campaign_recipe.sh
PY=.venv/bin/python
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
CACHE=${NEWSQA_CACHE_DIR:-$HOME/.cache/newsqa}
READER=qa/reader/weights-mpnet
STATE=${SHIP_STATE:-qa/reader/training/campaign}
SCORES=$CACHE/calibration-open-mpnet.jsonl
SCRATCH=$CACHE/reader-choice
STAGES=(export precision calibrate choose evaluate)
FROM=${1:-export}
[[ " ${STAGES[*]} " == *" $FROM "* ]] || { echo "usage: $0 [${STAGES[*]}]" >&2; exit 2; }
started=""
stage() { [[ -n "$started" || "$1" == "$FROM" ]] && started=1 && echo "== $1"; [[ -n "$started" ]]; }

if stage export; then
    CANDIDATE=$CACHE/ship-candidate
    rm -rf "$CANDIDATE" && mkdir -p "$CANDIDATE" && cp "$READER/MODEL_CARD.md" "$CANDIDATE/"
    # the campaign's local checkpoint wins over its committed state when further along; a given state
    # folder is exported as it is, so it gets an empty checkpoint folder (made here, only when exported)
    checkpoints=$CACHE/campaign
    [[ -z "${SHIP_STATE:-}" ]] || { checkpoints=$(mktemp -d); trap 'rm -rf "$checkpoints"' EXIT; }
    $PY -m qa.reader.training.train "${CAMPAIGN_RECIPE[@]}" --threads 2 \
        --checkpoints "$checkpoints" --resume-from "$STATE" \
        --heldout-eval-questions 0 --export-checkpoint --out "$CANDIDATE"
    # an averaged state's score has its own results file (benchmarks/results/campaign_averaged_heldout.jsonl)
    if [[ -z "${SHIP_STATE:-}" ]]; then
        revision=checkpoint  # the committed state's revision when the checkpoint is that state
        git diff --quiet HEAD -- "$STATE/state.json" && revision=$(git log -1 --format=%h -- "$STATE/state.json")
        $PY benchmarks/campaign_heldout_record.py --reader "$CANDIDATE" --state "$STATE/state.json" --revision "$revision"
    fi
    $PY - "$CANDIDATE" "$READER" <<'EOF'
import json, sys
from pathlib import Path

candidate, shipped = (json.loads((Path(d) / "reader_config.json").read_text())["heldout"] for d in sys.argv[1:3])
print(f"held-out F1 on {candidate['n']} questions: step {candidate['step']} {candidate['f1']:.2f}, "
      f"shipped step {shipped.get('step')} {shipped['f1']:.2f}")
if candidate["n"] != shipped["n"] or candidate["f1"] <= shipped["f1"]:
    sys.exit("the checkpoint does not beat the shipped reader, which stays")
EOF
    rm -rf "$READER" && mv "$CANDIDATE" "$READER"
fi
if stage precision; then
    $PY -m qa.reader.training.choose_precision --reader "$READER" --questions 300 --write
fi
if stage calibrate; then
    rm -f "$SCORES"
    NEWSQA_READER=mpnet $PY -m qa.reader.training.calibrate collect --scores "$SCORES" --max-minutes 600
    $PY -m qa.reader.training.calibrate fit --scores "$SCORES" --reader "$READER" --write
fi
if stage choose; then
    rm -rf "$SCRATCH/mpnet"
    $PY benchmarks/choose_default_reader.py --scratch "$SCRATCH"
fi
if stage evaluate; then
    bash benchmarks/evaluate_all.sh mpnet
fi
