#!/usr/bin/env bash
# Backprop Lab's `bench` next to the reference frameworks (../shared/bench), in one sitting:
# ours, the references, ours again. Needs the reference venv (bash ../shared/bench/setup.sh).
# Run nothing else meanwhile. Results: $OUT/ours.jsonl, $OUT/raw.jsonl, $OUT/summary.md
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-$HOME/.cache/refbench-venv}
OUT=${OUT:-/tmp/backprop-bench}
REPS=${REPS:-2}
mkdir -p "$OUT"
cargo build --release --quiet
lscpu | grep -E 'Model name|^CPU\(s\)' > "$OUT/machine.txt"
ours() { for _ in $(seq "$REPS"); do ./target/release/backprop-lab bench --epochs 3 --json >> "$OUT/ours.jsonl"; done; }
: > "$OUT/ours.jsonl"
ours
BENCH_OUT="$OUT" "$VENV/bin/python" ../shared/bench/run_all.py --reps "$REPS" \
  --only peak,numpy_mlp_sgd,torch_mlp_adam,torch_mlp_adam_ftz,keras_mlp_adam,torch_cnn_adam,torch_cnn_adam_ftz,keras_cnn_adam
ours
"$VENV/bin/python" ../shared/bench/summarize.py "$OUT/raw.jsonl" > "$OUT/summary.md"
cat "$OUT/ours.jsonl" "$OUT/summary.md"
