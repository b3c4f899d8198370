#!/usr/bin/env bash
# Screenshots of the real window under Xvfb, for the README: a run on MNIST and one on a 2-D set,
# each with setting changes made mid-run by clicking the side panel, so the curves show markers.
# Rerun after UI changes: bash scripts/screenshots.sh   (writes screenshots/*.png)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null || ! command -v import >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq xvfb xdotool imagemagick libgl1-mesa-dri libegl1 libxkbcommon-x11-0 >/dev/null
fi
cargo build --release --quiet
mkdir -p screenshots

export DISPLAY=:97
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
app=""
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; true; }
trap cleanup EXIT
sleep 1
# fresh preferences, so the window has its default layout (the click positions below rely on it)
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME

click() { xdotool mousemove "$1" "$2" click 1; xdotool mousemove 1435 895; }

# shoot NAME PRESET SECONDS-BEFORE-EACH-CLICK "X Y" ... : play the preset, click, screenshot
shoot() {
  local name=$1 preset=$2 wait=$3
  shift 3
  ./target/release/backprop-lab --preset "$preset" --play &
  app=$!
  sleep 4
  for position in "$@"; do
    sleep "$wait"
    # shellcheck disable=SC2086
    click $position
  done
  sleep "$wait"
  import -window root "screenshots/$name.png"
  kill "$app"
  wait "$app" 2>/dev/null || true
  app=""
  echo "screenshots/$name.png"
}

# MNIST MLP: Adam -> SGD -> Adam (side panel: SGD at 122,423, Adam at 281,423)
shoot mnist-mlp mnist-mlp 3 "122 423" "281 423"
# spiral: cross-entropy -> MSE -> cross-entropy (MSE at 85,472, cross-entropy at 169,472)
shoot spiral spiral 2 "85 472" "169 472"
