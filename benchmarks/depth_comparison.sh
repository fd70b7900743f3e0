#!/usr/bin/env bash
# How deep the MPNet reader should be, measured before a long training campaign: three LoRA-16
# recipes at equal CPU time (each budget is about 1 CPU-hour at the rate measured with one thread),
# each with its own warm-up-and-decay schedule of the same shape, one thread each, niced so that
# other work comes first. Held-out F1 on 300 held-out train questions every few hundred questions.
#
#   bash benchmarks/depth_comparison.sh l12    # all 12 layers               5,600 questions
#   bash benchmarks/depth_comparison.sh l8     # lowest 8 layers             8,000 questions
#   bash benchmarks/depth_comparison.sh l6c    # the shipped 6-layer reader continued on the
#                                              # 12,000 questions after the 38,400 it saw
#
# Each resumes from its checkpoint folder when run again. The comparison is over: its logs are kept in
# benchmarks/results/depth-comparison/, `python benchmarks/depth_choice.py` sets them side by side, and
# the campaign's state replaced the runs' committed states. Plot the curves with
#   python benchmarks/learning_curves.py "12 layers=$C/l12/log.jsonl" "8 layers=$C/l8/log.jsonl" "6 layers, continued=$C/l6c/log.jsonl"
set -euo pipefail
cd "$(dirname "$0")/.."
C=${NEWSQA_DEPTH_RUNS:-$HOME/.cache/newsqa/depth}
mkdir -p "$C"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
common=(--base mpnet --lora-rank 16 --max-length 256 --stride-tokens 96 --batch-size 16 --learning-rate 3e-4
        --heldout-eval-questions 300 --checkpoint-every 25 --threads 1)
train() {
    local name=$1; shift
    exec nice -n 19 .venv/bin/python -m qa.reader.training.train "${common[@]}" "$@" --checkpoints "$C/$name" \
        --resume-from "qa/reader/training/campaign/depth/$name" \
        --state-out "$C/$name/state" --out "$C/$name/out" > "$C/$name.out" 2>&1
}
case "${1:-}" in
    l12) train l12 --max-examples 5600 --eval-every 70 ;;
    l8) train l8 --keep-layers 8 --max-examples 8000 --eval-every 100 ;;
    l6c) train l6c --keep-layers 6 --init-from qa/reader/weights-mpnet --start-example 38400 --max-examples 12000 \
             --eval-every 125 ;;
    *) echo "usage: $0 l12|l8|l6c" >&2; exit 2 ;;
esac
