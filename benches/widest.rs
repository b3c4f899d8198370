//! `cargo bench --bench widest`: the frame budget with the largest networks the settings panel
//! accepts (4,096 units a layer, 256 filters a convolution), training, with every view open. The
//! real app is driven through egui_kittest for 20 s per network; every frame's time (the app's
//! logic, layout and tessellation, not the rasterising) is kept and its median, 99th percentile
//! and worst frames are printed, with the time the UI thread spent on a core and waiting for one
//! (the trainer's threads take both cores); then each view is timed alone.
//! `cargo bench --bench widest -- curves network` times those views alone only.

use std::time::{Duration, Instant};

use backprop_lab::nn::{Activation, LayerSpec, Padding};
use backprop_lab::train::cost::{Cost, format_size, memory_limit};
use backprop_lab::train::{Preset, RunConfig};
use backprop_lab::ui::{BackpropLab, Launch};
use egui_kittest::Harness;

const RUN: Duration = Duration::from_secs(20);
const ALONE: Duration = Duration::from_secs(6);

fn dense(units: usize) -> LayerSpec {
    LayerSpec::Dense {
        units,
        activation: Activation::Relu,
    }
}

/// The widest convolution the panel takes: 256 filters (of 3x3).
fn conv256() -> LayerSpec {
    LayerSpec::Conv2d {
        filters: 256,
        kernel: 3,
        padding: Padding::Valid,
        activation: Activation::Relu,
    }
}

fn output() -> LayerSpec {
    LayerSpec::Dense {
        units: 10,
        activation: Activation::Softmax,
    }
}

/// mnist-mlp's data with `layers`.
fn on_mnist(preset: &str, layers: Vec<LayerSpec>) -> RunConfig {
    let mut config = RunConfig::from_preset(&Preset::named(preset).expect("a preset"), 42);
    config.layers = layers;
    config
}

fn networks() -> Vec<(&'static str, RunConfig)> {
    vec![
        (
            "two dense layers of 4,096",
            on_mnist(
                "mnist-mlp",
                vec![LayerSpec::Flatten, dense(4096), dense(4096), output()],
            ),
        ),
        (
            "conv 256 filters 3x3 twice, dense 4,096",
            on_mnist(
                "mnist-cnn",
                vec![
                    conv256(),
                    LayerSpec::MaxPool2d { size: 2 },
                    conv256(),
                    LayerSpec::MaxPool2d { size: 2 },
                    LayerSpec::Flatten,
                    dense(4096),
                    output(),
                ],
            ),
        ),
    ]
}

/// This thread's time on a core and waiting for one, in ms, from the scheduler's own count
/// (zero where there is no /proc/thread-self/schedstat).
fn scheduled_ms() -> [f64; 2] {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<f64>().unwrap_or(0.0) / 1e6);
    [fields.next().unwrap_or(0.0), fields.next().unwrap_or(0.0)]
}

/// One frame: wall time, of it on a core, and waiting for a core (ms).
#[derive(Clone, Copy)]
struct Frame {
    wall: f64,
    running: f64,
    waiting: f64,
}

/// Frames of the app training `config` with `views` open, for `run`.
fn frame_times(config: &RunConfig, views: Vec<&'static str>, run: Duration) -> Vec<Frame> {
    let launch = Launch {
        config: Some(config.clone()),
        play: true,
        ..Launch::default()
    };
    let mut harness = Harness::builder()
        .with_size([1440.0, 900.0])
        .build_eframe(move |cc| {
            let mut app = BackpropLab::new(cc, launch);
            app.show_views(&views);
            app
        });
    let started = Instant::now();
    let mut times = Vec::new();
    // `run` of training: the time from launch to the first step (the data loads, the weights
    // are made) comes on top
    let mut first_step = None;
    while first_step.is_none_or(|first: Instant| first.elapsed() < run) {
        let (frame, [running, waiting]) = (Instant::now(), scheduled_ms());
        harness.step();
        let [running_after, waiting_after] = scheduled_ms();
        times.push(Frame {
            wall: frame.elapsed().as_secs_f64() * 1000.0,
            running: running_after - running,
            waiting: waiting_after - waiting,
        });
        if first_step.is_none() && harness.state().run_view().status.step > 0 {
            first_step = Some(Instant::now());
        }
        assert!(
            started.elapsed() < run + Duration::from_secs(120),
            "no training step within two minutes"
        );
    }
    times
}

fn quantile(sorted: &[f64], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn summary(frames: Vec<Frame>) -> String {
    let mut worst = frames.clone();
    worst.sort_by(|a, b| b.wall.total_cmp(&a.wall));
    let worst: Vec<String> = worst[..3.min(worst.len())]
        .iter()
        .map(|f| {
            format!(
                "{:.0} ms ({:.0} on a core, {:.0} waiting for one)",
                f.wall, f.running, f.waiting
            )
        })
        .collect();
    let mut sorted: Vec<f64> = frames.iter().map(|f| f.wall).collect();
    sorted.sort_by(f64::total_cmp);
    let mut running: Vec<f64> = frames.iter().map(|f| f.running).collect();
    running.sort_by(f64::total_cmp);
    format!(
        "{} frames, median {:.1} ms, p99 {:.1} ms (on a core: p99 {:.1} ms, most {:.1} ms); \
         worst: {}",
        sorted.len(),
        quantile(&sorted, 0.5),
        quantile(&sorted, 0.99),
        quantile(&running, 0.99),
        running.last().copied().unwrap_or(0.0),
        worst.join(", ")
    )
}

fn main() {
    for (name, config) in networks() {
        let cost = Cost::estimate(
            config.data.shape().0,
            &config.layers,
            config.settings.batch_size,
        )
        .expect("the layers chain");
        assert!(
            cost.check_fits(memory_limit()).is_ok(),
            "{name} is accepted on this machine"
        );
        println!(
            "{name}: {} parameters, about {} to train",
            cost.parameters,
            format_size(cost.training_bytes)
        );
        let views = backprop_lab::ui::views::ids();
        // `cargo bench --bench widest -- VIEW...`: those views alone
        let chosen: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        if chosen.is_empty() {
            println!(
                "  every view: {}",
                summary(frame_times(&config, views.clone(), RUN))
            );
        }
        for view in views
            .into_iter()
            .filter(|v| chosen.is_empty() || chosen.iter().any(|c| c == v))
        {
            println!(
                "  {view:>10} alone: {}",
                summary(frame_times(&config, vec![view], ALONE))
            );
        }
    }
}
