//! Writing a file so that a crash, a kill or a full disk never leaves half of it where a good
//! one was: a temporary file in the same folder, flushed to disk, then renamed over the target.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary file a save of `path` writes first (hidden, named after this process).
pub fn temporary_path(path: &Path) -> PathBuf {
    let file_name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()))
}

/// Writes `path` atomically with `write`; on any error the temporary file is removed and
/// `path` is as it was. The error names the file it happened to.
pub fn write(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), (PathBuf, std::io::Error)> {
    let temporary = temporary_path(path);
    let result = (|| {
        let file = File::create(&temporary).map_err(|e| (temporary.clone(), e))?;
        let mut writer = BufWriter::new(file);
        write(&mut writer).map_err(|e| (temporary.clone(), e))?;
        writer.flush().map_err(|e| (temporary.clone(), e))?;
        writer
            .into_inner()
            .map_err(|e| (temporary.clone(), e.into_error()))?
            .sync_all()
            .map_err(|e| (temporary.clone(), e))?;
        fs::rename(&temporary, path).map_err(|e| (path.to_path_buf(), e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}
