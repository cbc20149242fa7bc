//! The token cache and the relay URL helpers, as exported to JavaScript.

use std::time::Duration;

use js_sys::{Object, Reflect};
use twinkey::Timestamp;
use twinkey::token::{self, Step};
use wasm_bindgen::prelude::*;

use crate::errors::to_js;

/// `nowMs` as a core timestamp (`INVALID_OPTIONS` for NaN, an infinity or an absurd time).
fn at(now_ms: f64) -> Result<Timestamp, JsValue> {
    Timestamp::from_millis_f64(now_ms).map_err(|e| to_js(&e))
}

fn set(obj: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(obj, &key.into(), &value);
}

/// Caches one server token for a browser client (see `twinkey::token::TokenCache`).
#[wasm_bindgen]
pub struct TokenCache {
    inner: token::TokenCache,
}

#[wasm_bindgen]
impl TokenCache {
    /// A cache refreshing `refreshMarginMs` (default 30 000) before a token's end, at most half
    /// its lifetime.
    #[wasm_bindgen(constructor)]
    pub fn new(refresh_margin_ms: Option<f64>) -> TokenCache {
        let margin = refresh_margin_ms
            .filter(|m| m.is_finite() && *m >= 0.0)
            .map_or(token::DEFAULT_REFRESH_MARGIN, |m| {
                Duration::from_millis(m as u64)
            });
        TokenCache {
            inner: token::TokenCache::new(margin),
        }
    }

    /// The next step for a request at `nowMs`: `{step: "use", token, generation}`,
    /// `{step: "fetch", ticket}` or `{step: "wait"}`.
    pub fn next(&self, now_ms: f64) -> Result<Object, JsValue> {
        let out = Object::new();
        match self.inner.next(at(now_ms)?) {
            Step::Use { token, generation } => {
                set(&out, "step", "use".into());
                set(&out, "token", token.into());
                set(&out, "generation", (generation as f64).into());
            }
            Step::Fetch { ticket } => {
                set(&out, "step", "fetch".into());
                set(&out, "ticket", (ticket as f64).into());
            }
            Step::Wait => set(&out, "step", "wait".into()),
        }
        Ok(out)
    }

    /// Stores the provider's token for fetch `ticket`; returns its generation. Throws
    /// `TOKEN_PROVIDER` when it is not a server token.
    pub fn store(&self, ticket: f64, token: &str, now_ms: f64) -> Result<f64, JsValue> {
        self.inner
            .store(ticket as u64, token, at(now_ms)?)
            .map(|g| g as f64)
            .map_err(|e| to_js(&e))
    }

    /// The fetch `ticket` failed.
    #[wasm_bindgen(js_name = fetchFailed)]
    pub fn fetch_failed(&self, ticket: f64) {
        self.inner.fetch_failed(ticket as u64);
    }

    /// Judges the relay's answer to a request sent with token `generation`: `"deliver"` or
    /// `"refresh_and_replay"`. `relayCode` is the answer's `x-twinkey-error` header.
    pub fn judge(
        &self,
        generation: f64,
        replayed: bool,
        status: u16,
        relay_code: Option<String>,
    ) -> String {
        self.inner
            .judge(generation as u64, replayed, status, relay_code.as_deref())
            .as_str()
            .to_owned()
    }

    /// Forgets the cached token.
    pub fn clear(&self) {
        self.inner.clear();
    }
}

/// The header carrying the relay's error codes (`x-twinkey-error`).
#[wasm_bindgen(js_name = errorHeader)]
pub fn error_header() -> String {
    token::ERROR_HEADER.to_owned()
}

/// The OpenAI base URL of a relay: `<relayUrl>/v1`.
#[wasm_bindgen(js_name = relayBaseUrl)]
pub fn relay_base_url(relay_url: &str) -> String {
    token::relay_base_url(relay_url)
}

/// Whether `url` is on the relay (the token is only ever sent there).
#[wasm_bindgen(js_name = isRelayUrl)]
pub fn is_relay_url(relay_url: &str, url: &str) -> bool {
    token::is_relay_url(relay_url, url)
}
