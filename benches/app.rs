//! `cargo bench --bench app`: training speed with the app's logic running next to it, without
//! the window's pixels. The real app is driven through egui_kittest at 20 frames a second (the
//! rate it repaints at while training) for 25 s per preset, and its samples/s are compared with
//! the headless figure measured just before. Set apart from `scripts/app_perf.sh` (the real
//! window under Xvfb), this shows what the app itself costs training, and what is the price of
//! drawing every pixel on the CPU where there is no GPU. Each preset runs twice: with the curves
//! only, and with every view that applies to it open (graph, heatmaps, gallery, confusion
//! matrix, drawing canvas).

use std::time::{Duration, Instant};

use backprop_lab::train::{Preset, samples_per_second};
use backprop_lab::ui::{BackpropLab, Launch};
use egui_kittest::Harness;

const FRAME: Duration = Duration::from_millis(50);
const RUN: Duration = Duration::from_secs(25);
const SETTLE: Duration = Duration::from_secs(5);

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    for (name, batch) in [("mnist-mlp", 64), ("mnist-cnn", 32)] {
        let preset = Preset::named(name).expect("preset exists");
        let headless = samples_per_second(&preset, batch, 3).expect("trains");
        for (label, views) in [
            ("curves only", vec!["curves"]),
            ("all views", backprop_lab::ui::views::ids()),
        ] {
            let launch = Launch {
                preset: Some(name.into()),
                play: true,
                ..Launch::default()
            };
            let mut harness =
                Harness::builder()
                    .with_size([1440.0, 900.0])
                    .build_eframe(move |cc| {
                        let mut app = BackpropLab::new(cc, launch);
                        app.show_views(&views);
                        app
                    });
            let started = Instant::now();
            let mut next_frame = started;
            let mut rates = Vec::new();
            let mut frame_ms = Vec::new();
            let mut last_sample = started;
            while started.elapsed() < RUN {
                let frame_started = Instant::now();
                harness.step();
                frame_ms.push(frame_started.elapsed().as_secs_f64() * 1000.0);
                if started.elapsed() > SETTLE && last_sample.elapsed() >= Duration::from_secs(1) {
                    last_sample = Instant::now();
                    rates.push(harness.state().run_view().status.samples_per_second);
                }
                next_frame += FRAME;
                std::thread::sleep(next_frame.saturating_duration_since(Instant::now()));
            }
            let app = median(rates);
            println!(
                "{name} batch {batch}, {label}: app logic at 20 frames/s {app:.0} samples/s, headless {headless:.0} ({:.0}%); frame logic {:.1} ms median",
                100.0 * app / headless,
                median(frame_ms)
            );
        }
    }
}
