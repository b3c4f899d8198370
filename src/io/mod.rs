//! Files and exports: trained models and runs as versioned JSON, step traces as JSON.

mod atomic;
pub mod model_file;
pub mod run_file;
pub mod trace_json;

pub use atomic::temporary_path;
pub use model_file::{ModelFile, ModelFileError, TrainingRecord};
pub use run_file::{RunFile, RunFileError};
