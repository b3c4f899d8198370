//! `backprop-lab step-through`: training steps recorded phase by phase, as JSON lines or as a
//! short table per step.

use anyhow::{Context, Result, bail};

use super::StepThroughArgs;
use crate::io::trace_json::trace_json;
use crate::train::{RunConfig, StepTrace, Trainer};

pub fn run(args: &StepThroughArgs) -> Result<()> {
    let preset = super::preset_named(&args.preset)?;
    if args.steps == 0 {
        bail!("--steps must be at least 1");
    }
    let mut config = RunConfig::from_preset(&preset, args.seed);
    config.settings = args.settings.apply(preset.settings);
    let mut trainer = config.build().context("building the run")?;
    if let Some(sample) = args.sample {
        let available = trainer.data().train.len();
        if sample >= available {
            bail!(
                "--sample {sample}: the training split of {} has samples 0 to {}",
                preset.name,
                available - 1
            );
        }
    }
    for _ in 0..args.steps {
        let trace = match args.sample {
            Some(sample) => {
                let train = &trainer.data().train;
                trainer.trace_sample(
                    train.inputs.row(sample),
                    train.labels[sample],
                    Some(sample),
                )?
            }
            None => trainer.trace_next_batch()?,
        };
        if args.json {
            println!("{}", trace_json(&trace));
        } else {
            print_summary(&trace);
        }
        apply(&mut trainer, args.sample)?;
    }
    Ok(())
}

/// Trains the step just traced on the run itself.
fn apply(trainer: &mut Trainer, sample: Option<usize>) -> Result<()> {
    match sample {
        Some(sample) => {
            let input = trainer.data().train.inputs.row(sample).to_owned();
            let label = trainer.data().train.labels[sample];
            trainer.train_sample(input.view(), label)?;
        }
        None => {
            trainer.train_batch()?;
        }
    }
    Ok(())
}

/// A line per layer: what it is, the size of its output and of its gradients and update.
fn print_summary(trace: &StepTrace) {
    let rms = |values: &mut dyn Iterator<Item = f32>| {
        let (sum, count) = values.fold((0.0f64, 0usize), |(s, n), v| {
            (s + f64::from(v) * f64::from(v), n + 1)
        });
        (sum / count.max(1) as f64).sqrt()
    };
    println!(
        "step {}: {} on {} sample(s), loss {:.6} -> {:.6} after the update",
        trace.step,
        trace.settings.loss.name(),
        trace.targets.nrows(),
        trace.loss,
        trace.loss_after
    );
    for (i, layer) in trace.layers.iter().enumerate() {
        let mut line = format!(
            "  {i}: {:<28} rms a {:.4e}",
            layer.spec.describe(),
            rms(&mut layer.a.iter().copied())
        );
        if let (Some(grad), Some(before), Some(after)) = (
            &layer.grad_weight,
            &layer.weight_before,
            &layer.weight_after,
        ) {
            line += &format!(
                "  rms dL/dW {:.4e}  rms delta W {:.4e}",
                rms(&mut grad.iter().copied()),
                rms(&mut after.iter().zip(before).map(|(a, b)| a - b))
            );
        }
        println!("{line}");
    }
}
