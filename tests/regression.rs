//! A regression fixture for the trainer: for every preset with SGD, momentum and Adam, and MSE
//! and cross-entropy, the first 20 training losses and a checksum of every parameter after them,
//! bit for bit. Recorded before the trainer was reshaped into phases; a change to the engine
//! that moves any of these numbers must say why.
//!
//! Regenerate (only when a change of numbers is intended and explained) with
//! `BACKPROP_LAB_BLESS=1 cargo test --test regression`.
//!
//! Floating-point results depend on which vector instructions the matrix products use, so the
//! fixture records the processor features it was made with. On a processor with other features
//! the same runs are compared within a tolerance instead of bit for bit.

use std::path::PathBuf;

use backprop_lab::nn::{Activation, LayerSpec, Loss, Optimizer, OptimizerSettings};
use backprop_lab::train::{Preset, RunConfig, Trainer, presets};
use serde::{Deserialize, Serialize};

const STEPS: usize = 20;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Run {
    name: String,
    /// The losses as f64 bit patterns (hex), exact.
    loss_bits: Vec<String>,
    /// The same losses, readable.
    losses: Vec<f64>,
    /// FNV-1a 64 of the bit patterns of every weight and bias, in layer order.
    weights_fnv: String,
    /// Sum of every weight and bias, as f64 (for the tolerant comparison).
    weights_sum: f64,
    /// Sum of the absolute values of every weight and bias.
    weights_abs_sum: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Fixture {
    cpu_features: String,
    runs: Vec<Run>,
}

fn cpu_features() -> String {
    let mut features = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            features.push("avx512f");
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            features.push("avx2");
        }
        if std::arch::is_x86_feature_detected!("fma") {
            features.push("fma");
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    features.push(std::env::consts::ARCH);
    features.join(",")
}

fn fnv1a(bits: impl Iterator<Item = u32>) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for word in bits {
        for byte in word.to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

fn record(name: String, mut trainer: Trainer) -> Run {
    let losses: Vec<f64> = (0..STEPS)
        .map(|_| trainer.train_batch().expect("trains").loss)
        .collect();
    let values = || {
        trainer
            .network()
            .params()
            .flat_map(|p| p.weight.iter().chain(p.bias.iter()).copied())
            .collect::<Vec<f32>>()
    };
    let values = values();
    Run {
        name,
        loss_bits: losses
            .iter()
            .map(|l| format!("{:016x}", l.to_bits()))
            .collect(),
        losses,
        weights_fnv: format!("{:016x}", fnv1a(values.iter().map(|v| v.to_bits()))),
        weights_sum: values.iter().map(|&v| f64::from(v)).sum(),
        weights_abs_sum: values.iter().map(|&v| f64::from(v.abs())).sum(),
    }
}

/// Every preset x {SGD, momentum, Adam} x {MSE, cross-entropy}, seed 42, the preset's learning
/// rate and batch size; plus a circle network with dropout and L2, which no preset has.
fn runs() -> Vec<Run> {
    let mut runs = Vec::new();
    let mut configs: Vec<(String, RunConfig)> = Vec::new();
    let mut mlp_dropout = RunConfig::from_preset(&Preset::named("circle").unwrap(), 42);
    mlp_dropout.preset = None;
    mlp_dropout.layers = vec![
        LayerSpec::Dense {
            units: 16,
            activation: Activation::Relu,
        },
        LayerSpec::Dropout { rate: 0.3 },
        LayerSpec::Dense {
            units: 1,
            activation: Activation::Sigmoid,
        },
    ];
    mlp_dropout.settings.optimizer.weight_decay = 0.01;
    for preset in presets() {
        configs.push((preset.name.to_string(), RunConfig::from_preset(&preset, 42)));
    }
    configs.push(("circle-dropout-l2".into(), mlp_dropout));
    for (name, base) in configs {
        let data = base.data.load().expect("data loads");
        for optimizer in [Optimizer::Sgd, Optimizer::MOMENTUM, Optimizer::ADAM] {
            for loss in Loss::ALL {
                let mut config = base.clone();
                config.settings.loss = loss;
                config.settings.optimizer = OptimizerSettings {
                    optimizer,
                    ..config.settings.optimizer
                };
                let trainer = config.build_on(data.clone()).expect("trainer builds");
                runs.push(record(
                    format!("{name}/{}/{}", optimizer.name(), loss.name()),
                    trainer,
                ));
            }
        }
    }
    runs
}

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regression_20_steps.json")
}

#[test]
fn the_first_20_steps_of_every_preset_optimizer_and_loss_are_unchanged() {
    let found = runs();
    if std::env::var_os("BACKPROP_LAB_BLESS").is_some() {
        let fixture = Fixture {
            cpu_features: cpu_features(),
            runs: found,
        };
        let text = serde_json::to_string_pretty(&fixture).unwrap();
        std::fs::write(fixture_path(), text + "\n").unwrap();
        return;
    }
    let text = std::fs::read_to_string(fixture_path()).expect("the committed fixture");
    let fixture: Fixture = serde_json::from_str(&text).expect("the fixture parses");
    assert_eq!(
        found.iter().map(|r| &r.name).collect::<Vec<_>>(),
        fixture.runs.iter().map(|r| &r.name).collect::<Vec<_>>()
    );
    let exact = fixture.cpu_features == cpu_features();
    if !exact {
        eprintln!(
            "the fixture was made on a processor with {}, this one has {}: comparing within a \
             tolerance instead of bit for bit",
            fixture.cpu_features,
            cpu_features()
        );
    }
    for (found, expected) in found.iter().zip(&fixture.runs) {
        if exact {
            assert_eq!(found.loss_bits, expected.loss_bits, "{}", found.name);
            assert_eq!(found.weights_fnv, expected.weights_fnv, "{}", found.name);
        } else {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1.0);
            for (step, (a, b)) in found.losses.iter().zip(&expected.losses).enumerate() {
                assert!(
                    close(*a, *b),
                    "{} step {}: {a} vs {b}",
                    found.name,
                    step + 1
                );
            }
            assert!(
                close(found.weights_abs_sum, expected.weights_abs_sum),
                "{}",
                found.name
            );
        }
    }
}
