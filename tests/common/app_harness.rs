//! The app driven headless through egui_kittest: launched at 1440x900 and waited for, frames
//! run until a condition holds (never a sleep). Shared by the test files that drive the app.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use backprop_lab::ui::{BackpropLab, Launch};
use egui_kittest::Harness;

pub const TIMEOUT: Duration = Duration::from_secs(60);

pub type App = Harness<'static, BackpropLab>;

/// The app as `launch` says, once its trainer is ready and has sent a snapshot.
pub fn launch(launch: Launch) -> App {
    launch_from(None, launch, [1440.0, 900.0])
}

/// The app launched as eframe would, with `storage` as its saved state, in a window of `size`
/// points, once its trainer is ready and has sent a snapshot.
pub fn launch_from(
    storage: Option<&'static dyn eframe::Storage>,
    launch: Launch,
    size: [f32; 2],
) -> App {
    let mut harness = Harness::builder().with_size(size).build_eframe(move |cc| {
        cc.storage = storage;
        BackpropLab::new(cc, launch)
    });
    step_until(&mut harness, "the trainer is ready", |app| {
        app.run_view().info.is_some() && snapshot_step(app).is_some()
    });
    harness
}

/// The step of the latest snapshot, if there is one.
pub fn snapshot_step(app: &BackpropLab) -> Option<u64> {
    app.worker().and_then(|w| w.snapshot()).map(|s| s.step)
}

/// Runs frames until `done` holds; fails after TIMEOUT. Always runs one frame first.
pub fn step_until(harness: &mut App, what: &str, done: impl Fn(&BackpropLab) -> bool) {
    let started = Instant::now();
    harness.step();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < TIMEOUT,
            "timed out waiting until {what}"
        );
        harness.step();
    }
}
