#!/usr/bin/env bash
# Screenshots of the real window under Xvfb, for the README: a run on MNIST and one on a 2-D set,
# each with setting changes made mid-run by clicking the side panel, so the curves show markers.
# Rerun after UI changes: bash scripts/screenshots.sh [NAME...]   (writes screenshots/*.png; all
# of them, or only those named)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null || ! command -v import >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq xvfb xdotool imagemagick libgl1-mesa-dri libegl1 libxkbcommon-x11-0 >/dev/null
fi
cargo build --release --quiet
mkdir -p screenshots

export DISPLAY=:97
# large enough for the 1920x1080 window; the app opens at 1440x900 in the top-left corner
Xvfb "$DISPLAY" -screen 0 1920x1080x24 >/dev/null 2>&1 &
xvfb=$!
app=""
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; true; }
trap cleanup EXIT
sleep 1
# fresh preferences, so the window has its default layout (the click positions below rely on it)
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME

click() { xdotool mousemove "$1" "$2" click 1; xdotool mousemove 1435 895; }

# wanted NAME: true when all screenshots are asked for, or this one
wanted() {
  [ ${#names[@]} -eq 0 ] && return 0
  for n in "${names[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}
names=("$@")

# start PRESET VIEWS [ARGS...]: open the app on a preset with those views
start() {
  local preset=$1 views=$2
  shift 2
  ./target/release/backprop-lab --preset "$preset" --views "$views" "$@" &
  app=$!
  sleep 4
}
window() { xdotool search --name "Backprop Lab" | head -1; }
# resize W H: the window's size (Xvfb has no window manager: it stays where it is)
resize() {
  xdotool windowsize --sync "$(window)" "$1" "$2"
  sleep 2
}
# open_lesson N [ARGS...]: built-in lesson N at 1920x1080, the pointer out of the way
open_lesson() {
  xdotool mousemove 1910 250
  ./target/release/backprop-lab --lesson "$@" &
  app=$!
  sleep 4
  resize 1920 1080
}
# snap NAME: screenshot the window, then close the app (the pointer parked at PARK, "X Y")
snap() {
  xdotool mousemove ${PARK:-1435 895}
  sleep 1
  import -window "$(window)" "screenshots/$1.png"
  kill "$app"
  wait "$app" 2>/dev/null || true
  app=""
  echo "screenshots/$1.png"
}
# keys KEY...: press keys in the app's window (focused first: Xvfb has no window manager)
keys() {
  xdotool windowfocus --sync "$(xdotool search --name "Backprop Lab" | head -1)"
  for key in "$@"; do
    xdotool key "$key"
    sleep 0.4
  done
}
# stroke X0 Y0 X1 Y1 ...: drag the mouse through the points, button held
stroke() {
  xdotool mousemove "$1" "$2" mousedown 1
  shift 2
  while [ $# -ge 2 ]; do
    xdotool mousemove "$1" "$2"
    sleep 0.03
    shift 2
  done
  xdotool mouseup 1
}

# (--epochs 1000: these runs go on while the script clicks, past the presets' own lengths)

# MNIST MLP: Adam -> SGD -> Adam (side panel: SGD at 122,423, Adam at 281,423), then the first
# layer's weights as 28x28 tiles (Tiles at 812,484)
if wanted mnist-mlp; then
  start mnist-mlp curves,network,weights,gallery --play --epochs 1000
  sleep 3; click 122 423
  sleep 3; click 281 423
  sleep 3; click 812 484
  sleep 2; snap mnist-mlp
fi

# spiral: cross-entropy -> MSE -> cross-entropy (MSE at 85,472, cross-entropy at 169,472)
if wanted spiral; then
  start spiral curves,network,weights,boundary --play --epochs 100000 --full-speed
  sleep 2; click 85 472
  sleep 2; click 169 472
  sleep 3; snap spiral
fi

# MNIST CNN: the graph and the conv filters' feature maps (Feature maps at 452,508)
if wanted mnist-cnn; then
  start mnist-cnn curves,network,weights,gallery --play --epochs 1000
  sleep 8; click 452 508
  sleep 2; snap mnist-cnn
fi

# the confusion matrix with the examples of one cell (true 4, predicted 9 at 848,403) and the gallery
if wanted confusion; then
  start mnist-mlp confusion,gallery --play --epochs 1000
  sleep 8; click 848 403
  sleep 2; snap confusion
fi

# a "2" drawn on the canvas (896..1128 x 463..695) while the CNN trains, made the probe
# ("Use as probe" at 1068,449) so the graph and the feature maps (452,473) show it
if wanted draw; then
  start mnist-cnn curves,network,weights,draw --play --epochs 1000
  sleep 10
  stroke 969 544 986 524 1010 518 1034 524 1046 544 1040 568 1020 591 994 615 969 641 1000 641 1030 641 1055 641
  sleep 1; click 1068 449
  sleep 1; click 452 473
  sleep 2; snap draw
fi

# the step-through on xor after two steps: layer 0's forward pass for row 0 of the batch, every
# number written out, the phase's layer highlighted in the graph
if wanted step-xor; then
  start xor network,step
  keys Right Right t Right
  sleep 1; snap step-xor
fi

# mnist-cnn: a conv phase (one output position as the 3x3 patch times the kernel plus b)...
if wanted step-cnn-conv; then
  start mnist-cnn network,step
  keys t Right
  sleep 2; snap step-cnn-conv
fi

# ...and Adam's update of the dense layer's chosen weight, with m as a heatmap beside it
if wanted step-cnn-adam; then
  start mnist-cnn weights,step
  keys t Right Right Right Right Right Right Right Right Right Right Right Right Right Right Right Right
  sleep 2; snap step-cnn-adam
fi

# every view at the smallest and the largest common window: nothing clipped or overlapping
ALL_VIEWS=curves,network,weights,boundary,confusion,gallery,draw,step
if wanted every-view-1024x700; then
  start mnist-cnn "$ALL_VIEWS" --play
  resize 1024 700
  sleep 8; snap every-view-1024x700
fi
if wanted every-view-1920x1080; then
  start mnist-cnn "$ALL_VIEWS" --play
  resize 1920 1080
  sleep 8; snap every-view-1920x1080
fi

# the spiral at SGD with a learning rate of 10: the loss blows up, training pauses and says why
if wanted blow-up; then
  start spiral curves,network,weights,boundary --optimizer sgd --lr 10 --play --full-speed
  sleep 4; snap blow-up
fi

# closing the window keeps the run (Ctrl+Q), and the next launch offers to continue it; the
# Code view shows the run as PyTorch code
if wanted continue; then
  start mnist-mlp curves,network,code --play --epochs 1000
  sleep 3
  keys ctrl+q
  sleep 3
  app=""
  ./target/release/backprop-lab --views curves,network,code &
  app=$!
  sleep 4; snap continue
fi

# spiral from one fork: SGD (0.03) for 60 epochs, Back to the fork, Adam at the same rate for 60
# epochs; the SGD branch is a pin (Fork here at 429,111 and Back to the fork at 565,200 in the
# curves view, below the run-finished banner; Adam at 281,496)
fork_sgd_adam() {
  start spiral curves,boundary --optimizer sgd --lr 0.03 --epochs 60 --full-speed
  click 429 111
  sleep 0.5; click 223 18
  sleep 5; click 565 200
  sleep 1; click 281 496
  sleep 1; click 223 18
  sleep 5
}
if wanted fork-sgd-adam; then
  fork_sgd_adam
  snap fork-sgd-adam
fi

# ...then the timeline's handle (866,652) dragged back to about step 400: the decision boundary
# as it was there
if wanted timeline-back; then
  fork_sgd_adam
  # slowly, a frame or more per move, so that the window sees a drag
  xdotool mousemove 866 652 mousedown 1
  for x in 800 700 600 520 460; do sleep 0.3; xdotool mousemove "$x" 652; done
  sleep 0.5; xdotool mouseup 1
  sleep 2; snap timeline-back
fi

# mnist-mlp's hidden layer: its weights' distribution over the run, TensorBoard-style
if wanted histograms; then
  start mnist-mlp curves,histograms --play --epochs 1000
  sleep 30; snap histograms
fi


# lesson 3 in Present mode on a 1920x1080 projector at 200% (Ctrl+= four times): the MSE branch
# pinned, the cross-entropy one trained from the same start (two Page Downs)
if wanted present-lesson3; then
  open_lesson 3 --present
  keys ctrl+equal ctrl+equal ctrl+equal ctrl+equal Next
  sleep 8; keys Next
  sleep 8; PARK="1910 250" snap present-lesson3
fi

# high contrast in Present mode at 200%: lesson 2's last step, four tanh units solving XOR
if wanted high-contrast; then
  open_lesson 2
  # View > High contrast, then the scale and Present
  click 78 17
  sleep 1
  click 115 211
  keys ctrl+equal ctrl+equal ctrl+equal ctrl+equal F5 Next
  sleep 5; keys Next
  sleep 6; keys Next
  sleep 2; PARK="1910 250" snap high-contrast
fi

# lesson 4 at a desk: the loss, the data, the layers and the seed hidden from students; its
# first step (SGD) under way
if wanted hidden-controls; then
  open_lesson 4
  keys Next
  sleep 6; PARK="1910 250" snap hidden-controls
fi
