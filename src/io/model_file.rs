//! Model files: versioned JSON with the architecture, the weights and the training settings.
//! Saved atomically (a temporary file in the same folder, then a rename), so a crash or a full
//! disk never leaves half a model where a good one was. Loading checks every shape.

use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::DataSource;
use crate::nn::{LayerSpec, Network, NetworkError, Shape};
use crate::train::{RunConfig, TrainSettings, Trainer};

/// The `format` field every model file carries.
pub const FORMAT: &str = "backprop-lab-model";
/// The version this program writes; it reads this version and older ones.
pub const VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum ModelFileError {
    #[error("{path}: {}", super::atomic::explain(.cause))]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: not a valid model file: {cause}")]
    Json {
        path: PathBuf,
        cause: serde_json::Error,
    },
    #[error("{path}: the format is \"{found}\", expected \"{FORMAT}\"")]
    Format { path: PathBuf, found: String },
    #[error("{path}: model file version {found} is newer than this program reads ({VERSION})")]
    Version { path: PathBuf, found: u32 },
    #[error(
        "{path}: parameter tensor {index}: weight declared {rows}x{cols} but holds {values} values"
    )]
    TensorLength {
        path: PathBuf,
        index: usize,
        rows: usize,
        cols: usize,
        values: usize,
    },
    #[error("{path}: the weights do not fit the architecture: {cause}")]
    Shape { path: PathBuf, cause: NetworkError },
    #[error("{path}: the weights of layer tensor {index} contain NaN or infinite values")]
    NotFinite { path: PathBuf, index: usize },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// Reads a model in either format, told apart by content: safetensors (the architecture from
/// its metadata, else `fallback`) or the JSON model files of earlier versions.
pub fn load_any(
    path: &Path,
    fallback: Option<(Shape, &[LayerSpec])>,
) -> Result<(Network, Option<TrainingRecord>), ModelFileError> {
    let bytes = fs::read(path).map_err(io_error(path))?;
    from_bytes(&bytes, path, fallback)
}

/// [`load_any`] of a file's `bytes` (named `path` in messages).
pub fn from_bytes(
    bytes: &[u8],
    path: &Path,
    fallback: Option<(Shape, &[LayerSpec])>,
) -> Result<(Network, Option<TrainingRecord>), ModelFileError> {
    if super::safetensors_model::looks_like(bytes, bytes.len() as u64) {
        return super::safetensors_model::load(path, bytes, fallback);
    }
    let model: ModelFile = serde_json::from_slice(bytes).map_err(|cause| ModelFileError::Json {
        path: path.to_path_buf(),
        cause,
    })?;
    model
        .into_network(path)
        .map(|(network, training)| (network, Some(training)))
}

/// How the model was trained: enough to rebuild its data and go on training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub preset: Option<String>,
    pub data: DataSource,
    pub settings: TrainSettings,
    pub seed: u64,
    pub epochs: usize,
    pub steps: u64,
}

impl TrainingRecord {
    /// The record of `trainer`, started from `config`, where it is now.
    pub fn of(config: &RunConfig, trainer: &Trainer) -> Self {
        Self {
            preset: config.preset.clone(),
            data: config.data.clone(),
            settings: *trainer.settings(),
            seed: config.seed,
            epochs: trainer.epoch(),
            steps: trainer.step(),
        }
    }
}

/// One layer's parameters: weight [rows, cols] row-major, bias [rows].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TensorRecord {
    rows: usize,
    cols: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// The file's contents.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelFile {
    format: String,
    version: u32,
    input_shape: Shape,
    layers: Vec<LayerSpec>,
    parameters: Vec<TensorRecord>,
    pub training: TrainingRecord,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ModelFileError + '_ {
    move |cause| ModelFileError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

impl ModelFile {
    /// The record of `network` trained as `training` says.
    pub fn new(network: &Network, training: TrainingRecord) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            input_shape: network.input_shape(),
            layers: network.specs(),
            parameters: network
                .params()
                .map(|p| TensorRecord {
                    rows: p.weight.nrows(),
                    cols: p.weight.ncols(),
                    weight: p.weight.iter().copied().collect(),
                    bias: p.bias.to_vec(),
                })
                .collect(),
            training,
        }
    }

    /// Writes the file atomically. Weights that are NaN or infinite are refused (JSON cannot
    /// hold them, and such a model is of no use): the file on disk is left as it was.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        if let Some(index) = self
            .parameters
            .iter()
            .position(|t| t.weight.iter().chain(&t.bias).any(|v| !v.is_finite()))
        {
            return Err(ModelFileError::NotFinite {
                path: path.to_path_buf(),
                index,
            });
        }
        super::atomic::write(path, |writer| {
            serde_json::to_writer(writer, self).map_err(std::io::Error::from)
        })
        .map_err(|(path, cause)| ModelFileError::Io { path, cause })
    }

    /// Reads and checks a model file: format, version, and every tensor against the architecture.
    pub fn load(path: &Path) -> Result<(Network, TrainingRecord), ModelFileError> {
        let file = File::open(path).map_err(io_error(path))?;
        let model: ModelFile = serde_json::from_reader(BufReader::new(file)).map_err(|cause| {
            ModelFileError::Json {
                path: path.to_path_buf(),
                cause,
            }
        })?;
        model.into_network(path)
    }

    fn into_network(self, path: &Path) -> Result<(Network, TrainingRecord), ModelFileError> {
        let path_buf = || path.to_path_buf();
        if self.format != FORMAT {
            return Err(ModelFileError::Format {
                path: path_buf(),
                found: self.format,
            });
        }
        if self.version > VERSION {
            return Err(ModelFileError::Version {
                path: path_buf(),
                found: self.version,
            });
        }
        let mut tensors = Vec::with_capacity(self.parameters.len());
        for (index, t) in self.parameters.into_iter().enumerate() {
            if t.weight.iter().chain(&t.bias).any(|v| !v.is_finite()) {
                return Err(ModelFileError::NotFinite {
                    path: path_buf(),
                    index,
                });
            }
            let values = t.weight.len();
            let weight = Array2::from_shape_vec((t.rows, t.cols), t.weight).map_err(|_| {
                ModelFileError::TensorLength {
                    path: path_buf(),
                    index,
                    rows: t.rows,
                    cols: t.cols,
                    values,
                }
            })?;
            tensors.push((weight, Array1::from_vec(t.bias)));
        }
        let network = Network::with_params(self.input_shape, &self.layers, tensors.into_iter())
            .map_err(|cause| ModelFileError::Shape {
                path: path_buf(),
                cause,
            })?;
        Ok((network, self.training))
    }
}
