#!/usr/bin/env bash
# The reader campaign's committed states scored on every held-out question (the 3,284 questions of the
# held-out SQuAD train articles), not on the 300 that training scores on its way: the 300-question
# figure moves by about 2 F1 between neighbouring evaluations, too much to tell whether the last hours
# of training still paid. Each state is scored as export scores it (fp32, the no-answer threshold
# chosen on the same questions), so the shipped step-2,275 reader's 67.4 is the first point.
#
#   bash benchmarks/campaign_heldout.sh 1ff44b7 a39ecf1 667f738   # committed states, by revision
#   bash benchmarks/campaign_heldout.sh worktree                  # the state in the working tree
#
# A step already in the results file is not scored again. About 20 minutes per state on the 2-core
# AVX2 host in fp32; the campaign, if it runs at nice 19 meanwhile, nearly stops.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/campaign_recipe.sh
PY=.venv/bin/python
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
STATE=qa/reader/training/campaign
RESULTS=benchmarks/results/campaign_heldout_all.jsonl
[[ $# -gt 0 ]] || { echo "usage: $0 REVISION|worktree ..." >&2; exit 2; }
touch "$RESULTS"
for rev in "$@"; do
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/state"
    if [[ $rev == worktree ]]; then
        cp "$STATE/state.json" "$STATE/trainable.safetensors" "$work/state/"
    else
        for f in state.json trainable.safetensors; do git show "$rev:$STATE/$f" > "$work/state/$f"; done
    fi
    step=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$work/state/state.json")
    if grep -q "\"step\": $step," "$RESULTS"; then
        echo "step $step ($rev) is already scored"
    else
        echo "== step $step ($rev)"
        # an empty checkpoint folder makes the committed state the one exported
        $PY -m qa.reader.training.train "${CAMPAIGN_RECIPE[@]}" --threads 2 \
            --checkpoints "$work/run" --resume-from "$work/state" --heldout-eval-questions 0 \
            --export-checkpoint --out "$work/out"
        $PY benchmarks/campaign_heldout_record.py --reader "$work/out" --state "$work/state/state.json" \
            --revision "$rev"
    fi
    rm -rf "$work"
done
