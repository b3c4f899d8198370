//! What a run is made of: the data, the architecture, the settings and the seed. The app edits
//! one of these and starts a worker from it; the presets are ready-made ones.

use serde::{Deserialize, Serialize};

use super::cost::{Cost, memory_limit};
use super::{Preset, TrainError, TrainSettings, Trainer, presets::training_rng};
use crate::data::DataSource;
use crate::nn::{LayerSpec, Network, Shape, seeded_rng};

/// Everything needed to start (or restart) a run from scratch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The preset this came from, if it is still unchanged in architecture and data.
    pub preset: Option<String>,
    pub data: DataSource,
    pub layers: Vec<LayerSpec>,
    pub settings: TrainSettings,
    pub seed: u64,
    /// Epochs after which training pauses on its own (the preset's; `None`: never).
    #[serde(default)]
    pub epochs: Option<usize>,
}

impl RunConfig {
    /// The preset's run with `seed` (its toy data is generated from the seed too).
    pub fn from_preset(preset: &Preset, seed: u64) -> Self {
        Self {
            preset: Some(preset.name.to_string()),
            data: preset.data_source(seed),
            layers: preset.layers.clone(),
            settings: preset.settings,
            seed,
            epochs: Some(preset.epochs),
        }
    }

    /// Refused, with the figure, if training this run would take more memory than this
    /// machine allows one: checked before the data is loaded or a weight allocated. (Shapes
    /// that do not chain are left to the network to report, layer by layer.)
    pub fn check_size(&self) -> Result<(), TrainError> {
        self.check_size_on(self.data.shape().0, None)
    }

    /// [`RunConfig::check_size`] on inputs of `input`, with the data's own memory when the
    /// number of `samples` is known.
    fn check_size_on(&self, input: Shape, samples: Option<usize>) -> Result<(), TrainError> {
        match Cost::estimate(input, &self.layers, self.settings.batch_size) {
            Ok(cost) => cost
                .with_data(input, samples.unwrap_or(0))
                .check_fits(memory_limit())
                .map_err(TrainError::TooLarge),
            Err(_) => Ok(()),
        }
    }

    /// Loads the data and initialises the weights from the seed: the same config always gives
    /// the same starting point. Refused before the data is read if the data and the network
    /// would not fit (an IDX folder's size is read from its headers).
    pub fn build(&self) -> Result<Trainer, TrainError> {
        self.settings.validate().map_err(TrainError::Settings)?;
        let (input, samples) = self.data.extent()?;
        self.check_size_on(input, Some(samples))?;
        self.build_on(self.data.load()?)
    }

    /// [`RunConfig::build`] on data already loaded from `self.data` (read a large set once).
    pub fn build_on(&self, data: crate::data::Dataset) -> Result<Trainer, TrainError> {
        // refused before anything is allocated
        self.check_size_on(data.input_shape, Some(data.train.len() + data.test.len()))?;
        let network = Network::new(data.input_shape, &self.layers, &mut seeded_rng(self.seed))?;
        Trainer::new(network, data, self.settings, training_rng(self.seed))
    }
}
