//! `backprop-lab bench`: steady training throughput, the figures BENCHMARKS.md compares with
//! the reference frameworks.

use anyhow::{Result, bail};
use serde_json::json;

use super::BenchArgs;
use crate::train::{Preset, samples_per_second};

/// Samples per second of `name` at `batch_size` with its preset optimizer (Adam).
fn throughput(name: &str, batch_size: usize, epochs: usize, json: bool) -> Result<f64> {
    let Some(preset) = Preset::named(name) else {
        bail!("preset {name} is missing");
    };
    let rate = samples_per_second(&preset, batch_size, epochs)?;
    if !json {
        println!(
            "{name:<10} batch {batch_size:>3}, Adam: {rate:>9.0} samples/s ({epochs} epochs after 1 warm-up)"
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
