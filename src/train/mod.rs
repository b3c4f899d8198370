//! Training: the synchronous trainer (one batch at a time, settings changeable between any two
//! batches, every change recorded as an event), and the presets.

mod presets;
mod run;
mod settings;
mod throughput;
mod trainer;
pub mod worker;

pub use presets::{Preset, presets};
pub use run::RunConfig;
pub use settings::{Event, SettingChange, TrainSettings};
pub use throughput::samples_per_second;
pub use trainer::{
    BatchReport, EpochReport, Evaluation, TrainError, Trainer, check_fits, evaluate,
};
