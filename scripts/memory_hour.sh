#!/usr/bin/env bash
# The app's memory over a long run: mnist-cnn at full speed in the real window (under Xvfb) with
# the timeline and histograms recording, the curves, histograms, network and weights open; the
# resident memory (VmRSS) and the step sampled every minute. What BENCHMARKS.md reports.
#   bash scripts/memory_hour.sh            (MINUTES=60 by default; writes $OUT/memory.csv)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${MINUTES:-60}
out=${OUT:-/tmp/backprop-memory}
mkdir -p "$out"
cargo build --release --quiet
export DISPLAY=:94
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
app=""
trap 'kill $app $xvfb 2>/dev/null; true' EXIT
sleep 1
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
log="$out/perf.jsonl"
rm -f "$log"
./target/release/backprop-lab --preset mnist-cnn --epochs 1000000 --play \
  --views curves,histograms,network,weights --perf-log "$log" &
app=$!
echo "minute,rss_mib,step" > "$out/memory.csv"
for minute in $(seq 0 "$minutes"); do
  [ "$minute" -gt 0 ] && sleep 60
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$app/status")
  # the perf log has a line a second once the window draws (none yet at minute 0)
  step=$( (tail -1 "$log" 2>/dev/null || true) | python3 -c 'import json,sys; print(json.loads(sys.stdin.read() or "{}").get("step", 0))')
  echo "$minute,$((rss / 1024)),$step" | tee -a "$out/memory.csv"
done
