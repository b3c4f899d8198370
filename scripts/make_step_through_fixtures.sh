#!/usr/bin/env bash
# Regenerates tests/fixtures/step_through/*.json: each case is traced by
# `backprop-lab step-through --json`, then replayed independently in PyTorch by
# scripts/torch_step_through.py, which writes what torch computed (and, with --check, says how
# far the trace is from it). Needs the reference venv: bash ../shared/bench/setup.sh
#   bash scripts/make_step_through_fixtures.sh
# BACKPROP_LAB=path/to/backprop-lab uses that binary instead of `cargo run --release`.
# xor: SGD and momentum use --lr 0.5 instead of the preset's 0.05 (an Adam rate): at 0.05 their
# weights move by ~1e-3 per step, too little for a wrong update rule to stand out in later steps.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${VENV:-$HOME/.cache/refbench-venv}/bin/python"
OUT=tests/fixtures/step_through
TRACE="${TMPDIR:-/tmp}/step_through_trace.jsonl"
mkdir -p "$OUT"
failed=()

backprop_lab() {
    if [[ -n "${BACKPROP_LAB:-}" ]]; then
        "$BACKPROP_LAB" "$@"
    else
        cargo run --release --quiet -- "$@"
    fi
}

# case PRESET SAMPLE LOSS OPTIMIZER STEPS [extra step-through flags...]
case_() {
    local preset=$1 sample=$2 loss=$3 opt=$4 steps=$5
    shift 5
    local out="$OUT/$preset-s$sample-$loss-$opt.json"
    [[ " $* " == *" --l2 "* ]] && out="$OUT/$preset-s$sample-$loss-$opt-l2.json"
    echo "== $out" >&2
    backprop_lab step-through --preset "$preset" --seed 42 --loss "$loss" \
        --optimizer "$opt" --sample "$sample" --steps "$steps" "$@" --json >"$TRACE"
    "$PY" scripts/torch_step_through.py "$TRACE" "$out" --check || failed+=("$out")
}

# xor: every training sample alone, both losses, every optimizer, 3 steps each; SGD and momentum
# at lr 0.5 (see above)
for sample in 0 1 2 3; do
    for loss in mse cross-entropy; do
        case_ xor "$sample" "$loss" sgd 3 --lr 0.5
        case_ xor "$sample" "$loss" momentum 3 --lr 0.5
        case_ xor "$sample" "$loss" adam 3
    done
done
# L2 on the weights and not on the biases
case_ xor 1 cross-entropy adam 3 --l2 0.01
case_ mnist-cnn 0 cross-entropy adam 2
rm -f "$TRACE"

if ((${#failed[@]})); then
    echo "torch disagrees with the trace for: ${failed[*]} (the fixtures were written)" >&2
    exit 1
fi
