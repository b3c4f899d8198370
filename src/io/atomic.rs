//! Writing a file so that a crash, a kill or a full disk never leaves half of it where a good
//! one was: a temporary file in the same folder, flushed to disk, then renamed over the target.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary file a save of `path` writes first (hidden, named after this process).
pub fn temporary_path(path: &Path) -> PathBuf {
    let file_name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()))
}

/// Writes `path` atomically with `write`; on any error the temporary file is removed and
/// `path` is as it was. The error names `path` (not the temporary file).
pub fn write(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<(), (PathBuf, io::Error)> {
    let temporary = temporary_path(path);
    let result = (|| {
        let mut writer = BufWriter::new(File::create(&temporary)?);
        write(&mut writer)?;
        writer.flush()?;
        writer
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result.map_err(|e| (path.to_path_buf(), e))
}

/// [`write`] of `bytes`.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), (PathBuf, io::Error)> {
    write(path, |writer| writer.write_all(bytes))
}

/// An input/output error in plain words first (for the errors saving meets), then the system's.
pub fn explain(error: &io::Error) -> String {
    let plain = match error.kind() {
        io::ErrorKind::ReadOnlyFilesystem => "the disk is read-only",
        io::ErrorKind::StorageFull => "the disk is full",
        io::ErrorKind::QuotaExceeded => "the disk quota is used up",
        io::ErrorKind::IsADirectory => "that is a folder, not a file",
        io::ErrorKind::PermissionDenied => "no permission to write there",
        _ => return error.to_string(),
    };
    format!("{plain} ({error})")
}

/// What a file was when it was last read or written here: another program replacing or
/// changing it since changes this.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl FileStamp {
    /// The stamp of the file at `path` now (none if it cannot be read).
    pub fn of(path: &Path) -> Option<Self> {
        let metadata = fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            inode,
        })
    }
}
