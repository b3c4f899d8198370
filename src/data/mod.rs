//! Data: the 2-D toy sets, MNIST-format IDX files (the embedded subset or a folder), and the
//! preprocessing that turns any picture of a digit into an MNIST-style input.

pub mod digit_image;
pub mod idx;
pub mod mnist;
pub mod toy;

use std::path::PathBuf;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::nn::Shape;
pub use toy::{ToyKind, ToySpec};

#[derive(Debug, Error)]
pub enum DataError {
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: {cause}")]
    Idx { path: PathBuf, cause: idx::IdxError },
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: cannot read the image: {reason}")]
    Image { path: PathBuf, reason: String },
    #[error("the picture is blank: no ink stands out from the background")]
    Blank,
}

/// One split: inputs [samples, features] and a class label per row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Split {
    pub inputs: Array2<f32>,
    pub labels: Vec<usize>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Training targets for a network with `outputs` units (see [`targets_for`]).
    pub fn targets(&self, outputs: usize, classes: usize) -> Result<Array2<f32>, DataError> {
        targets_for(&self.labels, outputs, classes)
    }
}

/// Targets for `labels` and a network with `outputs` units: one-hot rows [labels, classes]
/// when outputs == classes, or the label itself [labels, 1] for one unit on two classes.
pub fn targets_for(
    labels: &[usize],
    outputs: usize,
    classes: usize,
) -> Result<Array2<f32>, DataError> {
    if outputs == 1 && classes == 2 {
        Ok(Array2::from_shape_fn((labels.len(), 1), |(i, _)| {
            labels[i] as f32
        }))
    } else if outputs == classes {
        Ok(Array2::from_shape_fn((labels.len(), classes), |(i, c)| {
            f32::from(u8::from(labels[i] == c))
        }))
    } else {
        Err(DataError::Invalid(format!(
            "the network has {outputs} outputs but the data has {classes} classes: \
             use {classes} outputs{}",
            if classes == 2 {
                " (or 1 sigmoid output)"
            } else {
                ""
            }
        )))
    }
}

/// A labelled dataset with its train and test splits.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    /// The shape of one sample (28x28x1 for MNIST, 2 for the toy sets).
    pub input_shape: Shape,
    pub classes: usize,
    pub train: Split,
    pub test: Split,
}

/// Where a dataset comes from; model files record it so `eval` can rebuild the same data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DataSource {
    /// A generated 2-D set.
    Toy(ToySpec),
    /// The 9,000-digit MNIST subset compiled into the program.
    MnistSubset,
    /// A folder with the four standard MNIST-format IDX files (MNIST, Fashion-MNIST, ...).
    IdxFolder { path: PathBuf },
}

impl DataSource {
    /// The input shape and class count it will have, without loading it (an MNIST-format
    /// folder is assumed to hold 28x28 digits of 10 classes until it is read).
    pub fn shape(&self) -> (Shape, usize) {
        match self {
            DataSource::Toy(_) => (Shape::flat(2), 2),
            DataSource::MnistSubset | DataSource::IdxFolder { .. } => (Shape::image(28, 28, 1), 10),
        }
    }

    /// The input shape and the number of samples (training and test) it holds, known without
    /// reading the data: generated and embedded sets know theirs, an IDX folder's headers say.
    pub fn extent(&self) -> Result<(Shape, usize), DataError> {
        match self {
            DataSource::Toy(spec) => Ok((Shape::flat(2), spec.samples)),
            DataSource::MnistSubset => Ok((Shape::image(28, 28, 1), mnist::EMBEDDED_SAMPLES)),
            DataSource::IdxFolder { path } => mnist::folder_extent(path),
        }
    }

    pub fn load(&self) -> Result<Dataset, DataError> {
        match self {
            DataSource::Toy(spec) => toy::generate(spec),
            DataSource::MnistSubset => mnist::embedded_subset(),
            DataSource::IdxFolder { path } => mnist::load_folder(path),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            DataSource::Toy(spec) => spec.kind.name().to_string(),
            DataSource::MnistSubset => "MNIST subset (embedded)".into(),
            DataSource::IdxFolder { path } => format!("IDX folder {}", path.display()),
        }
    }
}
