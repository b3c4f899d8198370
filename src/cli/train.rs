//! `backprop-lab train`: a preset, trained epoch by epoch, reported as Keras prints it.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::TrainArgs;
use crate::data::DataSource;
use crate::io::{ModelFile, TrainingRecord};

pub fn run(args: &TrainArgs) -> Result<()> {
    let preset = super::preset_named(&args.preset)?;
    let source = match &args.data {
        Some(path) if matches!(preset.data, DataSource::Toy(_)) => {
            bail!(
                "--data {} applies to the MNIST presets; {} generates its own data",
                path.display(),
                preset.name
            )
        }
        Some(path) => DataSource::IdxFolder { path: path.clone() },
        None => preset.data_source(args.seed),
    };
    let data = source.load().context("loading the data")?;
    let settings = args.settings.apply(preset.settings);
    let epochs = args.epochs.unwrap_or(preset.epochs);
    if epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let mut trainer = preset.build(args.seed, data, settings)?;
    if !args.json {
        println!(
            "{} on {} ({} train, {} test samples)",
            preset.name,
            trainer.data().name,
            trainer.data().train.len(),
            trainer.data().test.len()
        );
        println!("{}", trainer.network().summary());
        let s = trainer.settings();
        println!(
            "{} with {}, learning rate {}, batch size {}, seed {}\n",
            s.loss.name(),
            s.optimizer.optimizer.name(),
            s.optimizer.learning_rate,
            s.batch_size,
            args.seed
        );
    }

    for epoch in 1..=epochs {
        let progress = if args.json {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(trainer.batches_per_epoch() as u64).with_style(
                ProgressStyle::with_template("{pos:>5}/{len} [{bar:30}] {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            )
        };
        let started = Instant::now();
        let report = trainer.train_epoch(|batch| {
            progress.inc(1);
            if batch.step % 16 == 0 {
                progress.set_message(format!("loss {:.4}", batch.loss));
            }
        })?;
        let seconds = started.elapsed().as_secs_f64();
        progress.finish_and_clear();
        let test = trainer.evaluate_test()?;
        let samples_per_s = report.train.samples as f64 / seconds;
        if args.json {
            println!(
                "{}",
                json!({
                    "epoch": epoch,
                    "epochs": epochs,
                    "steps": trainer.step(),
                    "loss": report.train.loss,
                    "accuracy": report.train.accuracy,
                    "test_loss": test.loss,
                    "test_accuracy": test.accuracy,
                    "seconds": seconds,
                    "samples_per_s": samples_per_s,
                })
            );
        } else {
            println!(
                "Epoch {epoch}/{epochs} - {} steps - {seconds:.2}s - loss: {:.4} - accuracy: {:.4} - test_loss: {:.4} - test_accuracy: {:.4} - {samples_per_s:.0} samples/s",
                report.steps, report.train.loss, report.train.accuracy, test.loss, test.accuracy
            );
        }
    }

    if let Some(path) = &args.save {
        let record = TrainingRecord {
            preset: Some(preset.name.to_string()),
            data: source,
            settings: *trainer.settings(),
            seed: args.seed,
            epochs: trainer.epoch(),
            steps: trainer.step(),
        };
        ModelFile::new(trainer.network(), record).save(path)?;
        if !args.json {
            println!("saved {}", path.display());
        }
    }
    Ok(())
}
