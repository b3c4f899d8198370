//! Files: trained models as versioned JSON.

pub mod model_file;

pub use model_file::{ModelFile, ModelFileError, TrainingRecord};
