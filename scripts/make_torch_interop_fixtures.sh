#!/usr/bin/env bash
# Regenerates tests/fixtures/torch_interop/: mnist-mlp and mnist-cnn trained one epoch and
# exported by `backprop-lab train --save` (safetensors), then scripts/torch_interop.py builds the
# PyTorch model that `backprop-lab code` prints, loads each file with strict checking and
# records PyTorch's test loss and predictions; and it trains that mnist-mlp in PyTorch and saves
# its state dict for Backprop Lab to open. tests/torch_interop.rs compares against these.
# Needs the reference venv: bash ../shared/bench/setup.sh
#   bash scripts/make_torch_interop_fixtures.sh
# BACKPROP_LAB=path/to/backprop-lab uses that binary instead of a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${VENV:-$HOME/.cache/refbench-venv}/bin/python"
OUT=tests/fixtures/torch_interop
mkdir -p "$OUT"
if [[ -z "${BACKPROP_LAB:-}" ]]; then
    cargo build --release --quiet
    BACKPROP_LAB=target/release/backprop-lab
fi
for preset in mnist-mlp mnist-cnn; do
    "$BACKPROP_LAB" train --preset "$preset" --epochs 1 --json --save "$OUT/exported-$preset.safetensors" >/dev/null
done
"$PY" scripts/torch_interop.py "$BACKPROP_LAB" "$OUT"
