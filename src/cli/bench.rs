//! `backprop-lab bench`: steady training throughput, the figures BENCHMARKS.md compares with
//! the reference frameworks.

use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::json;

use super::BenchArgs;
use crate::train::Preset;

/// Trains one warm-up epoch, then `epochs` measured ones; returns samples per second.
fn throughput(preset_name: &str, batch_size: usize, epochs: usize, json: bool) -> Result<f64> {
    let Some(preset) = Preset::named(preset_name) else {
        bail!("preset {preset_name} is missing");
    };
    let data = preset.data_source(0).load()?;
    let settings = crate::train::TrainSettings {
        batch_size,
        ..preset.settings
    };
    let mut trainer = preset.build(0, data, settings)?;
    trainer.train_epoch(|_| {})?;
    let started = Instant::now();
    let mut samples = 0;
    for _ in 0..epochs {
        samples += trainer.train_epoch(|_| {})?.train.samples;
    }
    let rate = samples as f64 / started.elapsed().as_secs_f64();
    if !json {
        println!(
            "{preset_name:<10} batch {batch_size:>3}, Adam: {rate:>9.0} samples/s ({epochs} epochs after 1 warm-up)"
        );
    }
    Ok(rate)
}

pub fn run(args: &BenchArgs) -> Result<()> {
    if args.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let mlp = throughput("mnist-mlp", 64, args.epochs, args.json)?;
    let cnn = throughput("mnist-cnn", 32, args.epochs, args.json)?;
    if args.json {
        println!(
            "{}",
            json!({
                "mlp_samples_per_s": mlp,
                "cnn_samples_per_s": cnn,
                "epochs_measured": args.epochs,
                "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
            })
        );
    }
    Ok(())
}
