//! Ready-made experiments: a dataset, an architecture, settings and a length.

use super::{TrainError, TrainSettings, Trainer};
use crate::data::{DataSource, ToyKind, ToySpec};
use crate::nn::{
    Activation, LayerSpec, Loss, Network, Optimizer, OptimizerSettings, Padding, seeded_rng,
};

/// One experiment, ready to build.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    /// What it shows, in one sentence.
    pub description: &'static str,
    pub data: DataSource,
    pub layers: Vec<LayerSpec>,
    pub settings: TrainSettings,
    pub epochs: usize,
}

fn dense(units: usize, activation: Activation) -> LayerSpec {
    LayerSpec::Dense { units, activation }
}

fn adam(learning_rate: f32) -> OptimizerSettings {
    OptimizerSettings {
        optimizer: Optimizer::ADAM,
        learning_rate,
        weight_decay: 0.0,
    }
}

fn toy(kind: ToyKind, samples: usize, noise: f32) -> DataSource {
    DataSource::Toy(ToySpec {
        noise,
        ..ToySpec::new(kind, samples, 0)
    })
}

/// Every preset, in the order a lesson would take them.
pub fn presets() -> Vec<Preset> {
    let binary = |learning_rate, batch_size| TrainSettings {
        loss: Loss::CrossEntropy,
        optimizer: adam(learning_rate),
        batch_size,
    };
    let digits = |batch_size| TrainSettings {
        loss: Loss::CrossEntropy,
        optimizer: adam(1e-3),
        batch_size,
    };
    vec![
        Preset {
            name: "xor",
            description: "The classic XOR: four points no straight line separates; one hidden layer solves it.",
            data: toy(ToyKind::Xor, 4, 0.0),
            layers: vec![dense(4, Activation::Tanh), dense(1, Activation::Sigmoid)],
            settings: binary(0.05, 4),
            epochs: 300,
        },
        Preset {
            name: "circle",
            description: "A disc inside a ring: the hidden units learn to draw a closed boundary.",
            data: toy(ToyKind::Circle, 600, 0.05),
            layers: vec![
                dense(8, Activation::Tanh),
                dense(8, Activation::Tanh),
                dense(1, Activation::Sigmoid),
            ],
            settings: binary(0.02, 16),
            epochs: 40,
        },
        Preset {
            name: "spiral",
            description: "Two interleaved spirals: it takes depth and patience to untangle them.",
            data: toy(ToyKind::Spiral, 1000, 0.03),
            layers: vec![
                dense(32, Activation::Relu),
                dense(32, Activation::Relu),
                dense(32, Activation::Relu),
                dense(1, Activation::Sigmoid),
            ],
            settings: binary(0.01, 16),
            epochs: 200,
        },
        Preset {
            name: "mnist-mlp",
            description: "Handwritten digits with one hidden layer of 128 ReLU units.",
            data: DataSource::MnistSubset,
            layers: vec![
                LayerSpec::Flatten,
                dense(128, Activation::Relu),
                dense(10, Activation::Softmax),
            ],
            settings: digits(64),
            epochs: 5,
        },
        Preset {
            name: "mnist-cnn",
            description: "The reference CNN: Conv2D(32, 3x3) -> MaxPool(2x2) -> Dense(128) -> softmax.",
            data: DataSource::MnistSubset,
            layers: vec![
                LayerSpec::Conv2d {
                    filters: 32,
                    kernel: 3,
                    padding: Padding::Valid,
                    activation: Activation::Relu,
                },
                LayerSpec::MaxPool2d { size: 2 },
                LayerSpec::Flatten,
                dense(128, Activation::Relu),
                dense(10, Activation::Softmax),
            ],
            settings: digits(32),
            epochs: 5,
        },
    ]
}

impl Preset {
    /// The preset called `name`.
    pub fn named(name: &str) -> Option<Preset> {
        presets().into_iter().find(|p| p.name == name)
    }

    /// The data this preset trains on with `seed` (a toy set is generated from the seed).
    pub fn data_source(&self, seed: u64) -> DataSource {
        match &self.data {
            DataSource::Toy(spec) => DataSource::Toy(ToySpec { seed, ..*spec }),
            other => other.clone(),
        }
    }

    /// A trainer with weights initialised from `seed`, on `data` (loaded by the caller, so that
    /// a large folder is read once) with `settings`.
    pub fn build(
        &self,
        seed: u64,
        data: crate::data::Dataset,
        settings: TrainSettings,
    ) -> Result<Trainer, TrainError> {
        let network = Network::new(data.input_shape, &self.layers, &mut seeded_rng(seed))?;
        Trainer::new(network, data, settings, training_rng(seed))
    }
}

/// The generator a trainer started from `seed` shuffles and draws dropout with: the seed's
/// second ChaCha stream, independent of the one that initialised the weights.
pub fn training_rng(seed: u64) -> crate::nn::Rng {
    let mut rng = seeded_rng(seed);
    rng.set_stream(1);
    rng
}
