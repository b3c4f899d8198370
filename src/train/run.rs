//! What a run is made of: the data, the architecture, the settings and the seed. The app edits
//! one of these and starts a worker from it; the presets are ready-made ones.

use serde::{Deserialize, Serialize};

use super::{Preset, TrainError, TrainSettings, Trainer, presets::training_rng};
use crate::data::DataSource;
use crate::nn::{LayerSpec, Network, seeded_rng};

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

    /// Loads the data and initialises the weights from the seed: the same config always gives
    /// the same starting point.
    pub fn build(&self) -> Result<Trainer, TrainError> {
        self.build_on(self.data.load()?)
    }

    /// [`RunConfig::build`] on data already loaded from `self.data` (read a large set once).
    pub fn build_on(&self, data: crate::data::Dataset) -> Result<Trainer, TrainError> {
        let network = Network::new(data.input_shape, &self.layers, &mut seeded_rng(self.seed))?;
        Trainer::new(network, data, self.settings, training_rng(self.seed))
    }
}
