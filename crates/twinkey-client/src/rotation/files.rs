//! The rotation's files: the state file (the checkpoint, no secret values) and the secret-out
//! file (a key document with the values a rotation renewed, mode 0600).

use std::path::Path;

use twinkey::rotation::Checkpoint;
use twinkey::{ApiKey, Error, Result};
use zeroize::Zeroize;

fn io(path: &Path, e: &std::io::Error) -> Error {
    Error::RotationState {
        reason: format!("{}: {e}", path.display()),
    }
}

/// Writes `text` to `path` atomically (a temporary file renamed over it), mode 0600.
pub(crate) fn write_private(path: &Path, text: &str) -> Result<()> {
    twinkey::files::write_private(path, text.as_bytes(), twinkey::files::Replace::Allow)
        .map_err(|e| io(path, &e))
}

/// The saved checkpoint, if the file exists.
pub(crate) fn load_state(path: &Path) -> Result<Option<Checkpoint>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Checkpoint::from_json(&text).map(Some).map_err(|e| match e {
            Error::RotationState { reason } => Error::RotationState {
                reason: format!("{}: {reason}", path.display()),
            },
            other => other,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path, &e)),
    }
}

/// Saves the checkpoint.
pub(crate) fn save_state(path: &Path, checkpoint: &Checkpoint) -> Result<()> {
    let mut text = checkpoint.to_json();
    text.push('\n');
    write_private(path, &text)
}

/// Removes the state file of a finished rotation.
pub(crate) fn remove_state(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(path, &e)),
    }
}

/// Writes a key document with its secret values (mode 0600, atomically).
pub(crate) fn write_key_document(path: &Path, key: &ApiKey) -> Result<()> {
    let mut text = key.to_json_exposing_secrets();
    text.push('\n');
    let out = write_private(path, &text);
    text.zeroize();
    out
}

/// Reads a key document written by [`write_key_document`], if the file exists.
pub(crate) fn read_key_document(path: &Path) -> Result<Option<ApiKey>> {
    if !path.exists() {
        return Ok(None);
    }
    ApiKey::load(path).map(Some)
}
