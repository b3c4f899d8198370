//! The IDX format of MNIST-style files: a big-endian magic (two zero bytes, the element type,
//! the number of dimensions), each dimension as a big-endian u32, then the raw values.
//!
//! Everything the header claims is checked before memory is reserved for it, so a corrupt or
//! lying header gives an error, never a panic or a huge allocation.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;
use thiserror::Error;

/// Magic number of an image file: unsigned bytes, 3 dimensions (count, rows, columns).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of a label file: unsigned bytes, 1 dimension (count).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// The most values a file may declare (1 GiB), far above any MNIST-format set.
pub const MAX_VALUES: usize = 1 << 30;

#[derive(Debug, Error)]
pub enum IdxError {
    #[error("file ends inside the IDX header ({0} bytes read)")]
    TruncatedHeader(usize),
    #[error("not an IDX file: magic 0x{0:08x} should start with two zero bytes")]
    NotIdx(u32),
    #[error("IDX magic 0x{found:08x} is {}; expected {} (0x{expected:08x})", describe(*found), describe(*expected))]
    WrongKind { found: u32, expected: u32 },
    #[error("the header declares {dims:?} = {values} values, more than the limit of {MAX_VALUES}")]
    TooLarge { dims: Vec<usize>, values: u128 },
    #[error(
        "truncated: the header declares {expected} data bytes ({dims:?}) but only {found} follow"
    )]
    Truncated {
        dims: Vec<usize>,
        expected: usize,
        found: usize,
    },
    #[error("{extra} unexpected bytes follow the {expected} data bytes the header declares")]
    TrailingBytes { expected: usize, extra: u64 },
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn describe(magic: u32) -> &'static str {
    match magic {
        IMAGES_MAGIC => "an image file",
        LABELS_MAGIC => "a label file",
        _ => "another kind of IDX file",
    }
}

/// The contents of an IDX file of unsigned bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

fn read_u32(reader: &mut impl Read, read_so_far: &mut usize) -> Result<u32, IdxError> {
    let mut bytes = [0u8; 4];
    reader.read_exact(&mut bytes).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => IdxError::TruncatedHeader(*read_so_far),
        _ => IdxError::Io(e),
    })?;
    *read_so_far += 4;
    Ok(u32::from_be_bytes(bytes))
}

/// Reads an IDX stream whose magic must be `expected_magic`.
pub fn read(mut reader: impl Read, expected_magic: u32) -> Result<IdxArray, IdxError> {
    let dims = read_dims(&mut reader, expected_magic)?;
    let values: u128 = dims.iter().map(|&d| d as u128).product();
    if values > MAX_VALUES as u128 {
        return Err(IdxError::TooLarge { dims, values });
    }
    let expected = values as usize;
    let mut data = Vec::new();
    (&mut reader).take(expected as u64).read_to_end(&mut data)?;
    if data.len() < expected {
        return Err(IdxError::Truncated {
            dims,
            expected,
            found: data.len(),
        });
    }
    let extra = io::copy(&mut reader.take(MAX_VALUES as u64), &mut io::sink())?;
    if extra > 0 {
        return Err(IdxError::TrailingBytes { expected, extra });
    }
    Ok(IdxArray { dims, data })
}

/// Reads the header of an IDX stream whose magic must be `expected_magic`: its dimensions.
fn read_dims(mut reader: impl Read, expected_magic: u32) -> Result<Vec<usize>, IdxError> {
    let mut header_bytes = 0;
    let magic = read_u32(&mut reader, &mut header_bytes)?;
    if magic >> 16 != 0 {
        return Err(IdxError::NotIdx(magic));
    }
    if magic != expected_magic {
        return Err(IdxError::WrongKind {
            found: magic,
            expected: expected_magic,
        });
    }
    let rank = (magic & 0xff) as usize;
    let mut dims = Vec::with_capacity(rank);
    for _ in 0..rank {
        dims.push(read_u32(&mut reader, &mut header_bytes)? as usize);
    }
    Ok(dims)
}

/// Reads IDX bytes, gzip-compressed or raw (told apart by the gzip magic 1f 8b).
pub fn read_bytes(bytes: &[u8], expected_magic: u32) -> Result<IdxArray, IdxError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        read(GzDecoder::new(bytes), expected_magic)
    } else {
        read(bytes, expected_magic)
    }
}

/// Reads an IDX file, gzip-compressed or raw.
pub fn read_file(path: &Path, expected_magic: u32) -> Result<IdxArray, IdxError> {
    open_file(path, |reader| read(reader, expected_magic))
}

/// The dimensions an IDX file's header declares, its data left unread.
pub fn read_file_dims(path: &Path, expected_magic: u32) -> Result<Vec<usize>, IdxError> {
    open_file(path, |reader| read_dims(reader, expected_magic))
}

/// Opens an IDX file, gzip-compressed or raw, and reads it with `read`.
fn open_file<T>(
    path: &Path,
    read: impl FnOnce(&mut dyn Read) -> Result<T, IdxError>,
) -> Result<T, IdxError> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut first = [0u8; 2];
    let gzip = match reader.read_exact(&mut first) {
        Ok(()) => first == [0x1f, 0x8b],
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return Err(IdxError::TruncatedHeader(0));
        }
        Err(e) => return Err(e.into()),
    };
    let mut reader = first.as_slice().chain(reader);
    if gzip {
        read(&mut GzDecoder::new(reader))
    } else {
        read(&mut reader)
    }
}
