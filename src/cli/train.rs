//! `backprop-lab train`: a preset (or a saved run, resumed), trained epoch by epoch, reported as
//! Keras prints it; optionally a CSV row per step, the model and the whole run saved at the end.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::TrainArgs;
use crate::data::DataSource;
use crate::io::{RunFile, TrainingRecord};
use crate::train::{RunConfig, Trainer, training_rng};

/// The CSV's first line.
pub const CSV_HEADER: &str = "step,epoch,loss,test_loss,test_accuracy,event";

/// The run to train: a preset with the command line's settings, or a saved run where it stopped.
fn start(args: &TrainArgs) -> Result<(RunConfig, Trainer)> {
    if let Some(path) = &args.resume {
        let run = RunFile::load(path)?;
        let config = run.config.clone();
        let trainer = run.resume(path)?;
        return Ok((config, trainer));
    }
    let name = args.preset.as_deref().unwrap_or_default();
    let preset = super::preset_named(name)?;
    let data = match &args.data {
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
    let config = RunConfig {
        preset: Some(preset.name.to_string()),
        data,
        layers: preset.layers.clone(),
        settings: args.settings.apply(preset.settings),
        seed: args.seed,
        epochs: Some(preset.epochs),
    };
    let data = config.data.load().context("loading the data")?;
    let trainer = match &args.init {
        Some(path) => {
            let fallback = (data.input_shape, config.layers.as_slice());
            let (network, _) = crate::io::load_any(path, Some(fallback))?;
            if network.specs() != config.layers {
                bail!(
                    "{}: its layers are not {}'s: {}",
                    path.display(),
                    preset.name,
                    network.summary()
                );
            }
            Trainer::new(network, data, config.settings, training_rng(config.seed))?
        }
        None => config.build_on(data)?,
    };
    Ok((config, trainer))
}

pub fn run(args: &TrainArgs) -> Result<()> {
    let (mut config, mut trainer) = start(args)?;
    let epochs = args.epochs.or(config.epochs).unwrap_or(1);
    if epochs == 0 && args.resume.is_none() {
        bail!("--epochs must be at least 1");
    }
    if args.resume.is_some() && epochs < trainer.epoch() {
        bail!(
            "the run has already trained {} epochs; --epochs {epochs} counts the epochs in total",
            trainer.epoch()
        );
    }
    config.epochs = Some(epochs);
    let name = config.preset.clone().unwrap_or_else(|| "the run".into());
    if !args.json {
        let resumed = if args.resume.is_some() {
            format!(", resumed at step {}", trainer.step())
        } else {
            String::new()
        };
        println!(
            "{name} on {} ({} train, {} test samples){resumed}",
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
            config.seed
        );
    }
    let mut csv = match &args.csv {
        Some(path) => Some(Csv::create(path)?),
        None => None,
    };

    // a run saved mid-epoch finishes that epoch first
    while trainer.epoch() < epochs {
        let epoch = trainer.epoch() + 1;
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
        let mut rows = Vec::new();
        let report = trainer.train_epoch(|batch| {
            progress.inc(1);
            if batch.step % 16 == 0 {
                progress.set_message(format!("loss {:.4}", batch.loss));
            }
            rows.push((batch.step, batch.epoch, batch.loss));
        })?;
        let seconds = started.elapsed().as_secs_f64();
        progress.finish_and_clear();
        let test = trainer.evaluate_test()?;
        if let Some(csv) = &mut csv {
            csv.rows(&rows, &trainer, (test.loss, test.accuracy))?;
        }
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
    if let Some(csv) = csv {
        csv.finish()?;
    }

    if let Some(path) = &args.save {
        let record = TrainingRecord::of(&config, &trainer);
        crate::io::safetensors_model::save(trainer.network(), Some(&record), path)?;
        if !args.json {
            println!("saved {}", path.display());
        }
    }
    if let Some(path) = &args.save_run {
        RunFile::new(&config, &trainer).save(path)?;
        if !args.json {
            println!("saved the run to {}", path.display());
        }
    }
    Ok(())
}

/// The per-step CSV, written as the epochs finish.
struct Csv {
    writer: BufWriter<File>,
    path: std::path::PathBuf,
}

impl Csv {
    fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).with_context(|| format!("{}", path.display()))?;
        let mut csv = Self {
            writer: BufWriter::new(file),
            path: path.to_path_buf(),
        };
        writeln!(csv.writer, "{CSV_HEADER}").with_context(|| csv.path.display().to_string())?;
        Ok(csv)
    }

    /// One epoch's rows (step, epoch, loss); its last row gets the test loss and accuracy.
    fn rows(
        &mut self,
        rows: &[(u64, usize, f64)],
        trainer: &Trainer,
        test: (f64, f64),
    ) -> Result<()> {
        for (k, &(step, epoch, loss)) in rows.iter().enumerate() {
            let (test_loss, test_accuracy) = if k + 1 == rows.len() {
                (test.0.to_string(), test.1.to_string())
            } else {
                (String::new(), String::new())
            };
            // a change recorded after step - 1 batches applied from this step on
            let event = trainer
                .events()
                .iter()
                .filter(|e| e.step + 1 == step)
                .map(|e| e.change.label())
                .collect::<Vec<_>>()
                .join("; ");
            writeln!(
                self.writer,
                "{step},{epoch},{loss},{test_loss},{test_accuracy},{}",
                quoted(&event)
            )
            .with_context(|| self.path.display().to_string())?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.writer
            .flush()
            .with_context(|| self.path.display().to_string())
    }
}

/// A CSV field: as it is, or in quotes (doubled inside) when it holds a comma, a quote or a
/// line break.
fn quoted(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
