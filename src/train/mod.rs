//! Training: the synchronous trainer (one batch at a time, settings changeable between any two
//! batches, every change recorded as an event), and the presets.

pub mod controls;
pub mod cost;
pub mod health;
pub mod histogram;
mod phases;
mod presets;
pub mod protocol;
mod run;
mod settings;
mod snapshots;
pub mod state;
mod step_trace;
mod throughput;
pub mod timeline;
mod trainer;
pub mod worker;

pub use phases::{Phase, StepPhases};
pub use presets::{Preset, presets, training_rng};
pub use run::RunConfig;
pub use settings::{Event, SettingChange, TrainSettings};
pub use step_trace::{LayerTrace, StepTrace};
pub use throughput::samples_per_second;
pub use trainer::{
    BatchReport, EpochReport, Evaluation, TrainError, Trainer, check_fits, evaluate,
};
