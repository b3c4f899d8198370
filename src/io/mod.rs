//! Files and exports: models as safetensors (PyTorch's layout) or older JSON, runs as
//! versioned JSON, step traces as JSON, the model as PyTorch or Keras code.

pub mod atomic;
pub mod lesson_file;
pub mod lessons;
pub mod model_file;
pub mod run_file;
pub mod safetensors_model;
pub mod torch;
pub mod trace_json;

pub use atomic::temporary_path;
pub use lesson_file::{Lesson, LessonFileError};
pub use model_file::{ModelFile, ModelFileError, TrainingRecord, load_any};
pub use run_file::{RunFile, RunFileError};
