//! Run files: everything a run needs to go on exactly as if it had never stopped. The config
//! (data, layers, settings, seed, run length) rebuilds the data; the trainer's state (weights,
//! optimizer state, epoch order and position, the random generator, events) takes it from there.
//! Versioned JSON, saved atomically, every field checked on load.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::train::state::TrainerState;
use crate::train::{RunConfig, TrainError, Trainer};

/// The `format` field every run file carries.
pub const FORMAT: &str = "backprop-lab-run";
/// The version this program writes; it reads this version and older ones.
pub const VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum RunFileError {
    #[error("{path}: {}", super::atomic::explain(.cause))]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: not a valid run file: {cause}")]
    Json {
        path: PathBuf,
        cause: serde_json::Error,
    },
    #[error("{path}: the format is \"{found}\", expected \"{FORMAT}\"")]
    Format { path: PathBuf, found: String },
    #[error("{path}: run file version {found} is newer than this program reads ({VERSION})")]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: {cause}")]
    Run { path: PathBuf, cause: TrainError },
}

/// A curve as the app keeps it: (step, epochs, value) points, each the mean of `stride` raw
/// values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CurveRecord {
    pub points: Vec<(f64, f64, f64)>,
    pub stride: usize,
}

/// A labelled moment on the curves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkerRecord {
    pub step: u64,
    pub epochs: f64,
    pub label: String,
}

/// What the app showed of the run: its curves, their markers and the probe.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunHistory {
    pub train_loss: CurveRecord,
    #[serde(default)]
    pub train_accuracy: CurveRecord,
    pub test_loss: CurveRecord,
    pub test_accuracy: CurveRecord,
    pub markers: Vec<MarkerRecord>,
    /// The probe's input [input_len], its test index and label, and its name.
    pub probe: Option<ProbeRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub input: Vec<f32>,
    pub test_index: Option<usize>,
    pub label: Option<usize>,
    pub name: String,
}

/// The file's contents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    format: String,
    version: u32,
    pub config: RunConfig,
    pub trainer: TrainerState,
    /// The app's curves, markers and probe (none from the command line).
    #[serde(default)]
    pub history: Option<RunHistory>,
}

impl RunFile {
    /// The run `trainer` is at, started from `config`.
    pub fn new(config: &RunConfig, trainer: &Trainer) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            config: config.clone(),
            trainer: trainer.state(),
            history: None,
        }
    }

    /// A run from the parts the app holds: the config, the trainer's state it sent, the curves.
    pub fn from_parts(config: RunConfig, trainer: TrainerState, history: RunHistory) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            config,
            trainer,
            history: Some(history),
        }
    }

    /// Writes the file atomically: on any error the file on disk is as it was.
    pub fn save(&self, path: &Path) -> Result<(), RunFileError> {
        super::atomic::write(path, |writer| {
            serde_json::to_writer(writer, self).map_err(std::io::Error::from)
        })
        .map_err(|(path, cause)| RunFileError::Io { path, cause })
    }

    /// Reads a run file and checks its format and version (the state is checked when it is
    /// resumed, against the network and data it rebuilds).
    pub fn load(path: &Path) -> Result<Self, RunFileError> {
        let file = File::open(path).map_err(|cause| RunFileError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::checked(serde_json::from_reader(BufReader::new(file)), path)
    }

    /// [`RunFile::load`] of a file's `bytes` (named `path` in messages).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, RunFileError> {
        Self::checked(serde_json::from_slice(bytes), path)
    }

    fn checked(parsed: serde_json::Result<Self>, path: &Path) -> Result<Self, RunFileError> {
        let path_buf = || path.to_path_buf();
        let run = parsed.map_err(|cause| RunFileError::Json {
            path: path_buf(),
            cause,
        })?;
        if run.format != FORMAT {
            return Err(RunFileError::Format {
                path: path_buf(),
                found: run.format,
            });
        }
        if run.version > VERSION {
            return Err(RunFileError::Version {
                path: path_buf(),
                found: run.version,
            });
        }
        Ok(run)
    }

    /// The trainer this run file describes, exactly where it stopped.
    pub fn resume(self, path: &Path) -> Result<Trainer, RunFileError> {
        let run_error = |cause| RunFileError::Run {
            path: path.to_path_buf(),
            cause,
        };
        let mut trainer = self.config.build().map_err(run_error)?;
        trainer.restore(self.trainer).map_err(run_error)?;
        Ok(trainer)
    }
}
