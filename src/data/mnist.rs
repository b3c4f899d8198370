//! MNIST-format datasets: the embedded subset, or a folder of the four standard IDX files.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::idx::{self, IMAGES_MAGIC, IdxArray, LABELS_MAGIC};
use super::{DataError, Dataset, Split};
use crate::nn::Shape;

/// The standard file names (each may also end in `.gz`).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// How many digits the embedded subset holds.
pub const EMBEDDED_SAMPLES: usize = 9_000;

/// The 9,000-digit subset (7,500 train, 1,500 test) shipped in `assets/mnist`.
const EMBEDDED: [(&str, &[u8]); 4] = [
    (
        TRAIN_IMAGES,
        include_bytes!("../../assets/mnist/train-images-idx3-ubyte.gz"),
    ),
    (
        TRAIN_LABELS,
        include_bytes!("../../assets/mnist/train-labels-idx1-ubyte.gz"),
    ),
    (
        TEST_IMAGES,
        include_bytes!("../../assets/mnist/t10k-images-idx3-ubyte.gz"),
    ),
    (
        TEST_LABELS,
        include_bytes!("../../assets/mnist/t10k-labels-idx1-ubyte.gz"),
    ),
];

/// The embedded MNIST subset; works offline, with no files.
pub fn embedded_subset() -> Result<Dataset, DataError> {
    from_idx_bytes("MNIST subset", EMBEDDED)
}

/// A dataset from the four IDX files' (names, bytes): training images and labels, test images
/// and labels, each gzipped or raw.
pub fn from_idx_bytes(name: &str, files: [(&str, &[u8]); 4]) -> Result<Dataset, DataError> {
    let read = |(file, bytes): (&str, &[u8]), magic| {
        idx::read_bytes(bytes, magic).map_err(|cause| DataError::Idx {
            path: PathBuf::from(file),
            cause,
        })
    };
    let [train_images, train_labels, test_images, test_labels] = files;
    assemble(
        name.into(),
        [
            read(train_images, IMAGES_MAGIC)?,
            read(train_labels, LABELS_MAGIC)?,
            read(test_images, IMAGES_MAGIC)?,
            read(test_labels, LABELS_MAGIC)?,
        ],
    )
}

/// Finds `name` or `name.gz` in `dir`.
fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    [dir.join(name), dir.join(format!("{name}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            DataError::Invalid(format!(
                "{} has no {name} or {name}.gz (an MNIST-format folder holds {TRAIN_IMAGES}, \
                 {TRAIN_LABELS}, {TEST_IMAGES} and {TEST_LABELS}, optionally gzipped)",
                dir.display()
            ))
        })
}

/// A folder with the four standard MNIST-format files (MNIST, Fashion-MNIST, ...).
pub fn load_folder(dir: &Path) -> Result<Dataset, DataError> {
    if !dir.is_dir() {
        return Err(DataError::Invalid(format!(
            "{} is not a folder",
            dir.display()
        )));
    }
    let read = |name, magic| {
        let path = find(dir, name)?;
        idx::read_file(&path, magic).map_err(|cause| DataError::Idx { path, cause })
    };
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    assemble(
        name,
        [
            read(TRAIN_IMAGES, IMAGES_MAGIC)?,
            read(TRAIN_LABELS, LABELS_MAGIC)?,
            read(TEST_IMAGES, IMAGES_MAGIC)?,
            read(TEST_LABELS, LABELS_MAGIC)?,
        ],
    )
}

/// The image shape and the number of images (training and test) of an MNIST-format folder,
/// from the files' headers alone.
pub fn folder_extent(dir: &Path) -> Result<(Shape, usize), DataError> {
    let dims = |name| {
        let path = find(dir, name)?;
        idx::read_file_dims(&path, IMAGES_MAGIC).map_err(|cause| DataError::Idx { path, cause })
    };
    let (train, test) = (dims(TRAIN_IMAGES)?, dims(TEST_IMAGES)?);
    Ok((
        Shape::image(train[1], train[2], 1),
        train[0].saturating_add(test[0]),
    ))
}

/// Checks that the four files agree and builds the dataset, pixels scaled to [0, 1].
fn assemble(
    name: String,
    [train_images, train_labels, test_images, test_labels]: [IdxArray; 4],
) -> Result<Dataset, DataError> {
    let (rows, cols) = (train_images.dims[1], train_images.dims[2]);
    if rows == 0 || cols == 0 {
        return Err(DataError::Invalid(format!(
            "{name}: images of {rows}x{cols} pixels"
        )));
    }
    if test_images.dims[1..] != train_images.dims[1..] {
        return Err(DataError::Invalid(format!(
            "{name}: training images are {rows}x{cols} but test images are {}x{}",
            test_images.dims[1], test_images.dims[2]
        )));
    }
    let split = |images: IdxArray, labels: IdxArray, which: &str| {
        if images.dims[0] != labels.dims[0] {
            return Err(DataError::Invalid(format!(
                "{name}: {} {which} images but {} {which} labels",
                images.dims[0], labels.dims[0]
            )));
        }
        if images.dims[0] == 0 {
            return Err(DataError::Invalid(format!(
                "{name}: the {which} split is empty"
            )));
        }
        let inputs = Array2::from_shape_vec(
            (images.dims[0], rows * cols),
            images.data.iter().map(|&p| f32::from(p) / 255.0).collect(),
        )
        .map_err(|e| DataError::Invalid(format!("{name}: {e}")))?;
        Ok(Split {
            inputs,
            labels: labels.data.iter().map(|&l| usize::from(l)).collect(),
        })
    };
    let train = split(train_images, train_labels, "training")?;
    let test = split(test_images, test_labels, "test")?;
    let classes = train
        .labels
        .iter()
        .chain(&test.labels)
        .max()
        .map_or(0, |&m| m + 1);
    if classes < 2 {
        return Err(DataError::Invalid(format!(
            "{name}: the labels name fewer than two classes"
        )));
    }
    Ok(Dataset {
        name,
        input_shape: Shape::image(rows, cols, 1),
        classes,
        train,
        test,
    })
}
