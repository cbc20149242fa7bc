//! `Attempt`: one try of a request with one secret, handed out by the engine.

use napi_derive::napi;
use serde_json::{Value, json};

/// One attempt to send a request with one secret (from `engine.begin()` or a `replay`
/// verdict). Shows its secret's name and fingerprint; only `authorization()` returns the value,
/// for the transport.
#[napi]
pub struct Attempt {
    pub(crate) inner: twinkey::Attempt,
}

#[napi]
impl Attempt {
    /// The name of the secret to send.
    #[napi(getter)]
    pub fn secret(&self) -> String {
        self.inner.secret_name().to_string()
    }

    /// Its safe fingerprint.
    #[napi(getter)]
    pub fn fingerprint(&self) -> String {
        self.inner.fingerprint().to_string()
    }

    /// Whether this is the single replay of a rejected request.
    #[napi(getter)]
    pub fn replay(&self) -> bool {
        self.inner.is_replay()
    }

    /// Whether this attempt probes a secret whose pause after a rejection ended (half-open).
    #[napi(getter)]
    pub fn probe(&self) -> bool {
        self.inner.is_probe()
    }

    /// The `Authorization` header value, `Bearer <secret>`: for the transport only.
    #[napi]
    pub fn authorization(&self) -> String {
        self.inner.authorization()
    }

    /// `{ secret, fingerprint, replay, probe }` (no secret value).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> Value {
        json!({
            "secret": self.inner.secret_name(),
            "fingerprint": self.inner.fingerprint(),
            "replay": self.inner.is_replay(),
            "probe": self.inner.is_probe(),
        })
    }

    /// `Attempt key-one (fp 1a2b3c4d)`.
    #[napi(js_name = "toString")]
    pub fn to_display(&self) -> String {
        format!(
            "Attempt {} (fp {})",
            self.inner.secret_name(),
            self.inner.fingerprint()
        )
    }
}
