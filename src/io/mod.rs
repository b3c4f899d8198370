//! Files and exports: trained models as versioned JSON, step traces as JSON.

pub mod model_file;
pub mod trace_json;

pub use model_file::{ModelFile, ModelFileError, TrainingRecord};
