//! What several test files share.

use backprop_lab::data::{DataSource, ToyKind, ToySpec};
use backprop_lab::nn::{Activation, LayerSpec, Loss, Optimizer, OptimizerSettings};
use backprop_lab::train::{RunConfig, TrainSettings};

/// A regression head with a far too large SGD step: the loss goes to infinity within a few batches.
pub fn diverging_run() -> RunConfig {
    RunConfig {
        preset: None,
        data: DataSource::Toy(ToySpec::new(ToyKind::Circle, 200, 1)),
        layers: vec![
            LayerSpec::Dense {
                units: 8,
                activation: Activation::Relu,
            },
            LayerSpec::Dense {
                units: 1,
                activation: Activation::Linear,
            },
        ],
        settings: TrainSettings {
            loss: Loss::Mse,
            optimizer: OptimizerSettings {
                optimizer: Optimizer::Sgd,
                learning_rate: 10.0,
                weight_decay: 0.0,
            },
            batch_size: 16,
        },
        seed: 2,
        epochs: None,
    }
}
