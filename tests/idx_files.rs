//! IDX and MNIST-folder reading: good files load, every kind of bad file gives a clear error.

use std::io::Write;
use std::path::Path;

use backprop_lab::data::idx::{self, IMAGES_MAGIC, IdxError, LABELS_MAGIC};
use backprop_lab::data::{DataError, DataSource, ToyKind, ToySpec, mnist};
use backprop_lab::nn::Shape;
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
fn the_extent_read_from_the_headers_is_what_loads() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), (4, &[0, 1, 2, 9]), (2, &[3, 4]));
    let folder = DataSource::IdxFolder {
        path: dir.path().to_path_buf(),
    };
    let toy = DataSource::Toy(ToySpec::new(ToyKind::Spiral, 300, 1));
    for source in [folder, DataSource::MnistSubset, toy] {
        let data = source.load().unwrap();
        assert_eq!(
            source.extent().unwrap(),
            (data.input_shape, data.train.len() + data.test.len()),
            "{}",
            source.describe()
        );
    }
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
    assert_eq!(data.input_shape, Shape::image(28, 28, 1));
}

/// An image file of `count` images of `rows` x `cols` pixels; pixel (image, row, column) is
/// `pixel(n, r, c)`, written row by row as the format says.
fn image_file(count: u32, rows: u32, cols: u32, pixel: impl Fn(u32, u32, u32) -> u8) -> Vec<u8> {
    let mut bytes = header(IMAGES_MAGIC, &[count, rows, cols]);
    for n in 0..count {
        for r in 0..rows {
            for c in 0..cols {
                bytes.push(pixel(n, r, c));
            }
        }
    }
    bytes
}

/// A folder with the four standard files holding exactly these bytes.
fn write_files(
    dir: &Path,
    train_images: &[u8],
    train_labels: &[u8],
    test_images: &[u8],
    test_labels: &[u8],
) {
    for (name, bytes) in [
        (mnist::TRAIN_IMAGES, train_images),
        (mnist::TRAIN_LABELS, train_labels),
        (mnist::TEST_IMAGES, test_images),
        (mnist::TEST_LABELS, test_labels),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn a_single_bright_pixel_lands_at_row_times_28_plus_column() {
    // image 0: one white pixel at row 3, column 20; image 1: at row 20, column 3 (its transpose)
    let spots: [(usize, usize); 2] = [(3, 20), (20, 3)];
    let file = image_file(2, 28, 28, |n: u32, r: u32, c: u32| {
        if (r as usize, c as usize) == spots[n as usize] {
            255
        } else {
            0
        }
    });
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &gzip(&file),
        &labels(&[0, 1]),
        &file,
        &labels(&[1, 0]),
    );
    let data = mnist::load_folder(dir.path()).unwrap();
    assert_eq!(data.input_shape, Shape::image(28, 28, 1));
    for split in [&data.train, &data.test] {
        for (n, &(r, c)) in spots.iter().enumerate() {
            let lit: Vec<usize> = split
                .inputs
                .row(n)
                .iter()
                .enumerate()
                .filter(|&(_, &v)| v != 0.0)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(
                lit,
                vec![r * 28 + c],
                "image {n}: the pixel at row {r}, column {c}"
            );
            assert_eq!(split.inputs[[n, r * 28 + c]], 1.0);
        }
    }
}

#[test]
fn every_pixel_of_an_asymmetric_pattern_lands_at_its_row_and_column() {
    // (n * 784 + r * 28 + c) mod 256: pixel (r, c) and its transpose (c, r) differ by
    // 27 * (r - c) mod 256, never 0 for r != c, so a transposed read changes every off-diagonal
    // pixel.
    let pattern = |n: u32, r: u32, c: u32| ((n * 784 + r * 28 + c) % 256) as u8;
    let train = image_file(3, 28, 28, pattern);
    let test = image_file(2, 28, 28, |n, r, c| pattern(n + 3, r, c));
    let array = idx::read_bytes(&train, IMAGES_MAGIC).unwrap();
    assert_eq!(array.dims, vec![3, 28, 28]);
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &train,
        &labels(&[0, 1, 2]),
        &gzip(&test),
        &labels(&[3, 4]),
    );
    let data = mnist::load_folder(dir.path()).unwrap();
    for (split, first) in [(&data.train, 0), (&data.test, 3)] {
        for n in 0..split.len() {
            for r in 0..28 {
                for c in 0..28 {
                    let byte = pattern(first + n as u32, r as u32, c as u32);
                    if first == 0 {
                        assert_eq!(array.data[(n * 28 + r) * 28 + c], byte);
                    }
                    assert_eq!(
                        split.inputs[[n, r * 28 + c]],
                        f32::from(byte) / 255.0,
                        "image {n}, row {r}, column {c}"
                    );
                }
            }
        }
    }
}

#[test]
fn non_square_images_keep_their_rows_and_columns() {
    // 5 rows of 7 columns; the value spells out (image, row, column) in decimal
    let pixel = |n: u32, r: u32, c: u32| (n * 100 + r * 10 + c) as u8;
    let file = image_file(2, 5, 7, pixel);
    let array = idx::read_bytes(&file, IMAGES_MAGIC).unwrap();
    assert_eq!(array.dims, vec![2, 5, 7]);
    assert_eq!(array.data[35 + 2 * 7 + 6], 126);

    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &file,
        &labels(&[0, 1]),
        &gzip(&file),
        &labels(&[1, 1]),
    );
    let data = mnist::load_folder(dir.path()).unwrap();
    assert_eq!(data.input_shape, Shape::image(5, 7, 1));
    assert_eq!((data.input_shape.height, data.input_shape.width), (5, 7));
    assert_eq!(data.train.inputs.dim(), (2, 35));
    for n in 0..2 {
        for r in 0..5 {
            for c in 0..7 {
                assert_eq!(
                    data.train.inputs[[n, r * 7 + c]],
                    f32::from(pixel(n as u32, r as u32, c as u32)) / 255.0,
                    "image {n}, row {r}, column {c}"
                );
            }
        }
    }
}

#[test]
fn training_and_test_images_of_transposed_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &image_file(2, 5, 7, |_, _, _| 0),
        &labels(&[0, 1]),
        &image_file(2, 7, 5, |_, _, _| 0),
        &labels(&[0, 1]),
    );
    let error = mnist::load_folder(dir.path()).unwrap_err();
    assert!(matches!(error, DataError::Invalid(_)), "{error}");
    assert!(
        error
            .to_string()
            .contains("training images are 5x7 but test images are 7x5"),
        "{error}"
    );
}

#[test]
fn images_with_no_rows_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &header(IMAGES_MAGIC, &[2, 0, 28]),
        &labels(&[0, 1]),
        &images(2, 28),
        &labels(&[0, 1]),
    );
    let error = mnist::load_folder(dir.path()).unwrap_err();
    assert!(
        matches!(&error, DataError::Invalid(m) if m.contains("images of 0x28 pixels")),
        "{error}"
    );
}

#[test]
fn every_byte_value_scales_to_exactly_itself_over_255() {
    // image 0 holds the bytes 0..=255 in order (8 rows of 32), image 1 the same reversed
    let file = image_file(2, 8, 32, |n: u32, r: u32, c: u32| {
        let b = (r * 32 + c) as u8;
        if n == 0 { b } else { 255 - b }
    });
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &file, &labels(&[0, 1]), &file, &labels(&[1, 0]));
    let data = mnist::load_folder(dir.path()).unwrap();
    let (forward, reversed) = (data.train.inputs.row(0), data.train.inputs.row(1));
    for b in 0..=255u8 {
        let i = usize::from(b);
        // the documented formula, compared bit for bit
        assert_eq!(
            forward[i].to_bits(),
            (f32::from(b) / 255.0).to_bits(),
            "byte {b}"
        );
        assert_eq!(reversed[255 - i], forward[i], "byte {b}");
    }
    // values whose quotient is known independently of that formula
    for (b, exact) in [
        (0usize, 0.0f32),
        (51, 0.2),
        (85, 1.0 / 3.0),
        (102, 0.4),
        (153, 0.6),
        (170, 2.0 / 3.0),
        (204, 0.8),
        (255, 1.0),
    ] {
        assert_eq!(forward[b], exact, "byte {b}");
    }
    assert!(
        forward
            .iter()
            .zip(forward.iter().skip(1))
            .all(|(a, b)| a < b)
    );
}
