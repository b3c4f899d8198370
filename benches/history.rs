//! `cargo bench --bench history`: what recording the timeline and the histograms costs training.
//! The real app (driven through egui_kittest at 20 frames a second, the curves and histograms
//! open) trains mnist-cnn at full speed while the Record switch is turned on and off every
//! 30 s, four times each way, so that a drift of the machine's speed falls on both alike; the
//! steps trained per second of each half are compared, with the timeline's memory at the end.

use std::time::{Duration, Instant};

use backprop_lab::train::{Preset, RunConfig};
use backprop_lab::ui::{BackpropLab, Launch};
use egui_kittest::Harness;

const FRAME: Duration = Duration::from_millis(50);
const SETTLE: Duration = Duration::from_secs(10);
const SEGMENT: Duration = Duration::from_secs(30);
const ROUNDS: usize = 4;

type App = Harness<'static, BackpropLab>;

/// Runs the app's frames for `length`; the steps trained per second of training time in it.
fn segment(harness: &mut App, length: Duration) -> f64 {
    let status = |h: &App| {
        let s = h.state().run_view().status;
        (s.step, s.training_secs)
    };
    let (step, secs) = status(harness);
    let started = Instant::now();
    let mut next_frame = started;
    while started.elapsed() < length {
        harness.step();
        next_frame += FRAME;
        std::thread::sleep(next_frame.saturating_duration_since(Instant::now()));
    }
    let (end_step, end_secs) = status(harness);
    (end_step - step) as f64 / (end_secs - secs).max(1e-9)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn main() {
    // the preset's five epochs would end the run within the measurement: no run length
    let preset = Preset::named("mnist-cnn").expect("the preset exists");
    let mut config = RunConfig::from_preset(&preset, 42);
    config.epochs = None;
    let launch = Launch {
        config: Some(config),
        play: true,
        views: Some(vec!["curves".into(), "histograms".into()]),
        ..Launch::default()
    };
    let mut harness = Harness::builder()
        .with_size([1440.0, 900.0])
        .build_eframe(move |cc| BackpropLab::new(cc, launch));
    harness.state_mut().set_recording(true);
    segment(&mut harness, SETTLE);
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        harness.state_mut().set_recording(false);
        off.push(segment(&mut harness, SEGMENT));
        harness.state_mut().set_recording(true);
        on.push(segment(&mut harness, SEGMENT));
    }
    let timeline = &harness.state().run_view().timeline;
    println!(
        "mnist-cnn, full speed, curves and histograms open: recording on {:.1} steps/s {on:.1?}, off {:.1} steps/s {off:.1?}: on is {:+.1}% of off; timeline {} states, {:.0} MiB of {:.0} MiB; {} histogram frames",
        mean(&on),
        mean(&off),
        100.0 * (mean(&on) / mean(&off) - 1.0),
        timeline.kept.len(),
        timeline.bytes as f64 / f64::from(1u32 << 20),
        timeline.budget as f64 / f64::from(1u32 << 20),
        harness.state().run_view().histograms.frames().len()
    );
}
