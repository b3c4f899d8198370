#!/usr/bin/env bash
# Training speed with the window open (under Xvfb) next to the headless `bench`, in one sitting,
# and the window's frame times: what BENCHMARKS.md reports for the app.
#   bash scripts/app_perf.sh      (needs Xvfb; scripts/screenshots.sh installs it)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=${OUT:-/tmp/backprop-app-perf}
mkdir -p "$out"
export DISPLAY=:96
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
sleep 1
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
# headless before and after the app runs; the figure compared is their mean
./target/release/backprop-lab bench --epochs 3 --json > "$out/headless.json"
# each preset twice: the curves only, and every view open
for preset in mnist-mlp mnist-cnn; do
  for views in curves curves,network,weights,confusion,gallery,draw; do
    log="$out/$preset-${views//,/-}.jsonl"
    rm -f "$log"
    ./target/release/backprop-lab --preset "$preset" --play --views "$views" --perf-log "$log" &
    app=$!
    sleep 25
    kill "$app"
    wait "$app" 2>/dev/null || true
  done
done
./target/release/backprop-lab bench --epochs 3 --json >> "$out/headless.json"
python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
runs = [json.loads(l) for l in open(f"{out}/headless.json")]
headless = {k: sum(r[k] for r in runs) / len(runs) for k in ("mlp_samples_per_s", "cnn_samples_per_s")}
import glob, os
for preset, key in [("mnist-mlp", "mlp_samples_per_s"), ("mnist-cnn", "cnn_samples_per_s")]:
  for log in sorted(glob.glob(f"{out}/{preset}-*.jsonl")):
    views = "curves only" if log.endswith("-curves.jsonl") else "all views"
    # skip the first 5 seconds (start-up, first evaluations)
    lines = [json.loads(l) for l in open(log)][5:]
    running = [l for l in lines if l["running"] and l["samples_per_s"] > 0]
    app = statistics.median(l["samples_per_s"] for l in running)
    frame = statistics.median(l["frame_ms_mean"] for l in running)
    worst = max(l["frame_ms_max"] for l in running)
    fps = statistics.median(l["frames"] for l in running)
    print(f"{preset}, {views}: app {app:,.0f} samples/s, headless {headless[key]:,.0f} ({100 * app / headless[key]:.0f}%); "
          f"frames {fps:.0f}/s, {frame:.1f} ms median, {worst:.1f} ms worst")
PY
