//! Steady training throughput, measured the way the reference benchmarks measure it.

use std::time::Instant;

use super::{Preset, TrainError, TrainSettings};

/// Trains `preset` (seed 0) at `batch_size` for one warm-up epoch, then `epochs` measured ones;
/// returns training samples per second over the measured epochs.
pub fn samples_per_second(
    preset: &Preset,
    batch_size: usize,
    epochs: usize,
) -> Result<f64, TrainError> {
    let data = preset.data_source(0).load()?;
    let settings = TrainSettings {
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
    Ok(samples as f64 / started.elapsed().as_secs_f64())
}
