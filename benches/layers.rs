//! `cargo bench`: where a training step's time goes, layer by layer, for both MNIST models,
//! what recording a step for the step-through costs, then the steady throughput that
//! `backprop-lab bench` reports.

use std::time::Instant;

use backprop_lab::nn::{Network, OptimizerState, seeded_rng};
use backprop_lab::train::{Phase, Preset, RunConfig, samples_per_second};
use backprop_lab::ui::views::{Selection, explain};
use ndarray::s;

const WARM_UP: usize = 20;
const MEASURED: usize = 200;

/// Seconds since `started` for a measured round, nothing for a warm-up round.
fn elapsed_if(counted: bool, started: Instant) -> f64 {
    if counted {
        started.elapsed().as_secs_f64()
    } else {
        0.0
    }
}

fn layer_times(name: &str, batch: usize) {
    let preset = Preset::named(name).expect("preset exists");
    let data = preset.data_source(0).load().expect("embedded data");
    let mut network =
        Network::new(data.input_shape, &preset.layers, &mut seeded_rng(0)).expect("valid");
    let x = data.train.inputs.slice(s![0..batch, ..]).to_owned();
    let targets = data.train.targets(10, 10).expect("one-hot");
    let y = targets.slice(s![0..batch, ..]);
    let settings = preset.settings;
    let mut state = OptimizerState::new(settings.optimizer.optimizer, &network);
    let layers = network.layers().len();
    let (mut forward, mut backward, mut update) = (vec![0.0; layers], vec![0.0; layers], 0.0);
    for round in 0..WARM_UP + MEASURED {
        let counted = round >= WARM_UP;
        network.set_input(x.view()).expect("input fits");
        for (i, seconds) in forward.iter_mut().enumerate() {
            let started = Instant::now();
            network.forward_layer(i, None);
            *seconds += elapsed_if(counted, started);
        }
        network
            .start_backward(settings.loss, y)
            .expect("targets fit");
        for (i, seconds) in backward.iter_mut().enumerate().rev() {
            let started = Instant::now();
            network.backward_layer(i);
            *seconds += elapsed_if(counted, started);
        }
        let started = Instant::now();
        state.step(&settings.optimizer, &mut network);
        update += elapsed_if(counted, started);
    }
    let ms = |seconds: f64| 1000.0 * seconds / MEASURED as f64;
    println!("{name}, batch {batch} (ms per step, mean of {MEASURED})");
    for (i, layer) in network.layers().iter().enumerate() {
        println!(
            "  {:<36} forward {:>7.3}  backward {:>7.3}",
            layer.spec().describe(),
            ms(forward[i]),
            ms(backward[i])
        );
    }
    let total = forward.iter().sum::<f64>() + backward.iter().sum::<f64>() + update;
    println!(
        "  {:<36} {:>7.3}\n  total {:>38.3}\n",
        settings.optimizer.optimizer.name(),
        ms(update),
        ms(total)
    );
}

/// Median milliseconds of recording the next batch's step phase by phase, and of writing every
/// phase's text, for the step-through.
fn step_through_times(name: &str) {
    let preset = Preset::named(name).expect("preset exists");
    let trainer = RunConfig::from_preset(&preset, 0).build().expect("builds");
    let (mut record, mut text) = (Vec::new(), Vec::new());
    for round in 0..13 {
        let started = Instant::now();
        let trace = trainer.trace_next_batch().expect("records");
        let recorded = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let selection = Selection::default();
        let blocks: usize = Phase::all(trace.layers.len())
            .into_iter()
            .map(|phase| explain(&trace, phase, &selection).len())
            .sum();
        let written = started.elapsed().as_secs_f64() * 1000.0;
        assert!(blocks > 0);
        if round >= 3 {
            record.push(recorded);
            text.push(written);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{name}, batch {}: step-through record {:.1} ms, every phase's text {:.1} ms (medians of 10)",
        preset.settings.batch_size,
        median(&mut record),
        median(&mut text)
    );
}

fn main() {
    // inside the thread pool, as the trainer runs its steps
    rayon::scope(|_| {
        layer_times("mnist-mlp", 64);
        layer_times("mnist-cnn", 32);
    });
    rayon::scope(|_| {
        step_through_times("mnist-mlp");
        step_through_times("mnist-cnn");
    });
    for (name, batch) in [("mnist-mlp", 64), ("mnist-cnn", 32)] {
        let preset = Preset::named(name).expect("preset exists");
        let rate = samples_per_second(&preset, batch, 2).expect("trains");
        println!("{name} batch {batch}: {rate:.0} training samples/s (2 epochs after 1 warm-up)");
    }
}
