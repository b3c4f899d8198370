//! IDX and MNIST-folder reading: good files load, every kind of bad file gives a clear error.

use std::io::Write;
use std::path::Path;

use backprop_lab::data::idx::{self, IMAGES_MAGIC, IdxError, LABELS_MAGIC};
use backprop_lab::data::{DataError, mnist};
use flate2::{Compression, write::GzEncoder};

fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes
}

fn images(count: u32, side: u32) -> Vec<u8> {
    let mut bytes = header(IMAGES_MAGIC, &[count, side, side]);
    bytes.extend((0..count * side * side).map(|i| (i % 256) as u8));
    bytes
}

fn labels(values: &[u8]) -> Vec<u8> {
    let mut bytes = header(LABELS_MAGIC, &[values.len() as u32]);
    bytes.extend(values);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn raw_and_gzipped_files_read_the_same() {
    let raw = images(3, 4);
    let plain = idx::read_bytes(&raw, IMAGES_MAGIC).unwrap();
    let zipped = idx::read_bytes(&gzip(&raw), IMAGES_MAGIC).unwrap();
    assert_eq!(plain.dims, vec![3, 4, 4]);
    assert_eq!(plain, zipped);
    assert_eq!(plain.data[17], 17);
}

#[test]
fn a_label_file_where_images_are_expected_says_so() {
    let error = idx::read_bytes(&labels(&[1, 2]), IMAGES_MAGIC).unwrap_err();
    assert!(matches!(error, IdxError::WrongKind { .. }));
    assert_eq!(
        error.to_string(),
        "IDX magic 0x00000801 is a label file; expected an image file (0x00000803)"
    );
}

#[test]
fn not_an_idx_file() {
    let error = idx::read_bytes(b"PK\x03\x04 a zip file, not IDX", IMAGES_MAGIC).unwrap_err();
    assert!(matches!(error, IdxError::NotIdx(_)), "{error}");
}

#[test]
fn truncated_header_and_truncated_data() {
    let full = images(2, 3);
    let error = idx::read_bytes(&full[..6], IMAGES_MAGIC).unwrap_err();
    assert!(matches!(error, IdxError::TruncatedHeader(4)), "{error}");
    let error = idx::read_bytes(&full[..full.len() - 5], IMAGES_MAGIC).unwrap_err();
    assert!(
        matches!(
            error,
            IdxError::Truncated {
                expected: 18,
                found: 13,
                ..
            }
        ),
        "{error}"
    );
    // the same, cut inside a gzip stream
    let zipped = gzip(&full);
    assert!(idx::read_bytes(&zipped[..zipped.len() / 2], IMAGES_MAGIC).is_err());
}

#[test]
fn a_lying_header_is_refused_before_any_allocation() {
    let mut bytes = header(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX]);
    bytes.extend([0u8; 16]);
    let error = idx::read_bytes(&bytes, IMAGES_MAGIC).unwrap_err();
    assert!(matches!(error, IdxError::TooLarge { .. }), "{error}");
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut bytes = labels(&[1, 2, 3]);
    bytes.extend([9, 9]);
    let error = idx::read_bytes(&bytes, LABELS_MAGIC).unwrap_err();
    assert!(
        matches!(
            error,
            IdxError::TrailingBytes {
                expected: 3,
                extra: 2
            }
        ),
        "{error}"
    );
}

fn write_folder(dir: &Path, train: (u32, &[u8]), test: (u32, &[u8])) {
    std::fs::write(
        dir.join("train-images-idx3-ubyte.gz"),
        gzip(&images(train.0, 28)),
    )
    .unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), labels(train.1)).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), images(test.0, 28)).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), gzip(&labels(test.1))).unwrap();
}

#[test]
fn a_folder_with_the_standard_names_loads_gzipped_or_not() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), (4, &[0, 1, 2, 9]), (2, &[3, 4]));
    let data = mnist::load_folder(dir.path()).unwrap();
    assert_eq!(
        (data.train.len(), data.test.len(), data.classes),
        (4, 2, 10)
    );
    assert_eq!(data.input_shape.len(), 784);
    assert!(data.train.inputs.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn a_folder_with_a_missing_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), (4, &[0, 1, 2, 9]), (2, &[3, 4]));
    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let error = mnist::load_folder(dir.path()).unwrap_err().to_string();
    assert!(error.contains("t10k-labels-idx1-ubyte"), "{error}");
}

#[test]
fn images_and_labels_that_disagree_in_count() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), (4, &[0, 1, 2]), (2, &[3, 4]));
    let error = mnist::load_folder(dir.path()).unwrap_err();
    assert!(matches!(error, DataError::Invalid(_)));
    assert!(
        error
            .to_string()
            .contains("4 training images but 3 training labels"),
        "{error}"
    );
}

#[test]
fn a_corrupt_file_in_a_folder_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), (4, &[0, 1, 2, 3]), (2, &[3, 4]));
    std::fs::write(
        dir.path().join("t10k-images-idx3-ubyte"),
        &images(2, 28)[..100],
    )
    .unwrap();
    let error = mnist::load_folder(dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("t10k-images-idx3-ubyte") && error.contains("truncated"),
        "{error}"
    );
}

#[test]
fn the_embedded_subset_has_its_documented_sizes() {
    let data = mnist::embedded_subset().unwrap();
    assert_eq!(
        (data.train.len(), data.test.len(), data.classes),
        (7500, 1500, 10)
    );
    let mut counts = [0usize; 10];
    data.test.labels.iter().for_each(|&l| counts[l] += 1);
    assert_eq!(counts, [155, 191, 163, 142, 152, 116, 154, 156, 142, 129]);
}
