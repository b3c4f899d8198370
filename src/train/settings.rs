//! What a user can change while training runs, and the record of each change.

use serde::{Deserialize, Serialize};

use crate::nn::{Loss, Optimizer, OptimizerSettings};

/// The settings that apply from the next batch on, without touching the weights.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    pub loss: Loss,
    pub optimizer: OptimizerSettings,
    pub batch_size: usize,
}

/// The largest batch a trainer accepts.
pub const MAX_BATCH_SIZE: usize = 65_536;

impl TrainSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            return Err(format!(
                "batch size must be 1 to {MAX_BATCH_SIZE}, found {}",
                self.batch_size
            ));
        }
        self.optimizer.validate()
    }

    /// These settings with `change` applied.
    pub fn with(mut self, change: SettingChange) -> Self {
        match change {
            SettingChange::Loss(loss) => self.loss = loss,
            SettingChange::Optimizer(optimizer) => self.optimizer.optimizer = optimizer,
            SettingChange::LearningRate(lr) => self.optimizer.learning_rate = lr,
            SettingChange::BatchSize(size) => self.batch_size = size,
            SettingChange::WeightDecay(decay) => self.optimizer.weight_decay = decay,
        }
        self
    }
}

/// One change of one setting.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "setting", content = "value", rename_all = "snake_case")]
pub enum SettingChange {
    Loss(Loss),
    /// A different kind of optimizer starts with fresh state (recorded in the [`Event`]); the
    /// same kind keeps its state.
    Optimizer(Optimizer),
    LearningRate(f32),
    BatchSize(usize),
    WeightDecay(f32),
}

impl SettingChange {
    /// A short label for a marker on the loss curve: "Adam", "MSE", "lr 0.01".
    pub fn label(&self) -> String {
        match self {
            SettingChange::Loss(loss) => loss.name().to_string(),
            SettingChange::Optimizer(optimizer) => optimizer.name().to_string(),
            SettingChange::LearningRate(lr) => format!("lr {lr}"),
            SettingChange::BatchSize(size) => format!("batch {size}"),
            SettingChange::WeightDecay(decay) => format!("L2 {decay}"),
        }
    }
}

/// A change as it happened: it applies from batch `step + 1` on (`step` batches were done).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub step: u64,
    pub epoch: usize,
    pub change: SettingChange,
    /// The change started a new kind of optimizer: its state (velocity, moments, t) began at zero.
    #[serde(default)]
    pub optimizer_state_reset: bool,
}
