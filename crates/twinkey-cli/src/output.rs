//! Human output by default, one JSON document per line with `--json`; errors with a code.

use std::fmt;

use serde_json::{Value, json};

/// A failed command: a stable code (twinkey's error codes, plus `IO` and
/// `INVALID_ARGUMENT` for the CLI's own failures) and a message without secrets.
#[derive(Debug)]
pub struct Failure {
    /// Stable code, e.g. `NO_USABLE_SECRET`, `IO`.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

impl Failure {
    /// A failure with a code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Failure {
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// An I/O failure on `what`.
    pub fn io(what: impl fmt::Display, e: &std::io::Error) -> Self {
        Self::new("IO", format!("{what}: {e}"))
    }
}

impl From<twinkey::Error> for Failure {
    fn from(e: twinkey::Error) -> Self {
        Failure::new(e.code(), e.to_string())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

/// Where a command writes its results.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// `--json` was given.
    pub json: bool,
}

impl Output {
    /// Prints a JSON document on one line (only in JSON mode).
    pub fn json_line(&self, value: &Value) {
        if self.json {
            println!("{value}");
        }
    }

    /// Prints human text (only in human mode).
    pub fn human(&self, text: impl fmt::Display) {
        if !self.json {
            println!("{text}");
        }
    }

    /// Reports a failure: `{"error": {"code", "message"}}` on stdout, or `error: ...` on
    /// stderr.
    pub fn failure(&self, f: &Failure) {
        if self.json {
            println!(
                "{}",
                json!({"error": {"code": f.code, "message": f.message}})
            );
        } else {
            eprintln!("error: {f}");
        }
    }
}
