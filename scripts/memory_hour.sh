#!/usr/bin/env bash
# The app's memory and frame time over a long run: mnist-cnn at full speed in the real window
# (under Xvfb) with the timeline and histograms recording and the views in VIEWS open (by default
# curves, histograms, network and weights; VIEWS=all opens every view). The resident memory
# (VmRSS), the step and the frame time's median and 99th percentile since launch are sampled every
# minute. What BENCHMARKS.md reports.
#   VIEWS=all bash scripts/memory_hour.sh   (MINUTES=60 by default; writes $OUT/memory.csv)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${MINUTES:-60}
out=${OUT:-/tmp/backprop-memory}
mkdir -p "$out"
views=${VIEWS:-curves,histograms,network,weights}
[ "$views" = all ] && views=curves,network,weights,boundary,confusion,gallery,draw,step,histograms,code
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
  --views "$views" --perf-log "$log" &
app=$!
echo "minute,rss_mib,step,frame_ms_p50,frame_ms_p99" > "$out/memory.csv"
for minute in $(seq 0 "$minutes"); do
  [ "$minute" -gt 0 ] && sleep 60
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$app/status")
  # the perf log has a line a second once the window draws (none yet at minute 0)
  figures=$( (tail -1 "$log" 2>/dev/null || true) | python3 -c 'import json,sys
line = json.loads(sys.stdin.read() or "{}")
print(",".join(str(line.get(k, 0)) for k in ("step", "frame_ms_p50_total", "frame_ms_p99_total")))')
  echo "$minute,$((rss / 1024)),$figures" | tee -a "$out/memory.csv"
done
