//! Secret hygiene helpers shared by the classes that hold a secret (or a private key).

use pyo3::PyErr;
use pyo3::exceptions::PyTypeError;

/// The error raised when something tries to pickle (or copy through pickling) an object that
/// holds a secret: pickles are routinely written to disk, caches and queues.
pub fn refuse_pickle(class: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "cannot pickle a twinkey {class}: it holds a secret (keep secrets in their source, e.g. \
         an env: or file: reference in the key document, and rebuild the object where it is needed)"
    ))
}

/// A string as Python's `repr` writes it (single quotes; backslash, quote and control
/// characters escaped), for the `__repr__` of the classes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An optional string as Python's `repr` writes it (`None` or a quoted string).
pub fn quote_opt(s: Option<&str>) -> String {
    s.map_or_else(|| "None".to_string(), quote)
}

/// A bool as Python writes it.
pub fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}
