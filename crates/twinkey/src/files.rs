//! Writing files that hold secrets: readable by the owner only (mode 0600 on Unix), written
//! atomically (a temporary file in the same folder, then moved into place), so a reader never
//! sees half a key and a crash never leaves one behind.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether [`write_private`] may replace an existing file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    /// Replace it (state files, a key file being updated).
    Allow,
    /// Never: fail with `AlreadyExists` (a secret shown once must not clobber anything).
    Never,
}

fn temp_path(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `bytes` to `path`, mode 0600, atomically.
pub fn write_private(path: &Path, bytes: &[u8], replace: Replace) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let _ = std::fs::remove_file(&tmp); // a stale one from a crashed run of this process id
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| match replace {
            Replace::Allow => std::fs::rename(&tmp, path),
            // A hard link fails when `path` exists: atomic and never overwriting.
            Replace::Never => {
                std::fs::hard_link(&tmp, path).and_then(|()| std::fs::remove_file(&tmp))
            }
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Checks that a file holding secrets is readable by its owner only: on Unix, a file whose
/// mode lets group or others read or write it is refused (`INVALID_KEY`, with the mode and the
/// `chmod` that fixes it). Elsewhere it passes.
pub fn check_private(path: &Path) -> crate::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| crate::Error::InvalidKey {
            reason: format!("{}: {e}", path.display()),
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(crate::Error::InvalidKey {
                reason: format!(
                    "{} holds secrets but is readable by others (mode {mode:04o}); \
                     run: chmod 600 {}",
                    path.display(),
                    path.display()
                ),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Creates `dir` (and its parents), mode 0700 on Unix.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_owner_only_files_pass_the_check() {
        let dir = std::env::temp_dir().join(format!("twinkey-check-{}", std::process::id()));
        create_private_dir(&dir).unwrap();
        let path = dir.join("key.json");
        write_private(&path, b"{}", Replace::Allow).unwrap();
        check_private(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = check_private(&path).unwrap_err();
        assert_eq!(e.code(), "INVALID_KEY");
        let text = e.to_string();
        assert!(
            text.contains("0644") && text.contains("chmod 600"),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn private_atomic_and_no_clobber_when_asked() {
        let dir = std::env::temp_dir().join(format!("twinkey-files-{}", std::process::id()));
        create_private_dir(&dir).unwrap();
        let p = dir.join("secret.json");
        write_private(&p, b"one", Replace::Never).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let e = write_private(&p, b"two", Replace::Never).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_private(&p, b"three", Replace::Allow).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
