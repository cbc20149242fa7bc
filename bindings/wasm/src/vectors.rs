//! Minting, verification and the relay gate over JSON strings, for running the shared token
//! vectors under wasm (feature `vectors`; not in the browser build).

use std::sync::Mutex;

use js_sys::Reflect;
use serde_json::Value;
use twinkey::Timestamp;
use twinkey::token::{self, FixedRandom, Gate, KeyRing, RelayRequest, TokenKey, wire};
use wasm_bindgen::prelude::*;

use crate::errors::to_js;

fn parse(text: &str) -> Result<Value, JsValue> {
    serde_json::from_str(text).map_err(|e| JsValue::from_str(&format!("bad JSON input: {e}")))
}

fn ring(json: &str) -> Result<KeyRing, JsValue> {
    KeyRing::from_json(json).map_err(|e| to_js(&e))
}

/// `nowMs` as a core timestamp (`INVALID_OPTIONS` for NaN, an infinity or an absurd time).
fn at(now_ms: f64) -> Result<Timestamp, JsValue> {
    Timestamp::from_millis_f64(now_ms).map_err(|e| to_js(&e))
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// Checks one JWK (throws `INVALID_TOKEN_KEY`).
#[wasm_bindgen(js_name = checkTokenKey)]
pub fn check_token_key(jwk_json: &str) -> Result<(), JsValue> {
    TokenKey::from_jwk(&parse(jwk_json)?)
        .map(|_| ())
        .map_err(|e| to_js(&e))
}

/// The signing kid of a key set.
#[wasm_bindgen(js_name = signingKid)]
pub fn signing_kid(ring_json: &str) -> Result<Option<String>, JsValue> {
    Ok(ring(ring_json)?.signing_kid().map(str::to_owned))
}

/// Mints: returns `{"token", "claims"}` as JSON.
#[wasm_bindgen(js_name = mintToken)]
pub fn mint_token(
    ring_json: &str,
    request_json: &str,
    now_ms: f64,
    rng_hex: &str,
    signing_kid: Option<String>,
) -> Result<String, JsValue> {
    let mut ring = ring(ring_json)?;
    if let Some(kid) = signing_kid {
        ring.set_signing_kid(&kid).map_err(|e| to_js(&e))?;
    }
    let request = wire::request_from_json(&parse(request_json)?).map_err(|e| to_js(&e))?;
    let minted = ring
        .mint(&request, at(now_ms)?, &FixedRandom::new(hex(rng_hex)))
        .map_err(|e| to_js(&e))?;
    Ok(wire::minted_to_json(&minted).to_string())
}

/// Verifies: returns `{"kid", "alg", "claims"}` as JSON.
#[wasm_bindgen(js_name = verifyToken)]
pub fn verify_token(
    ring_json: &str,
    token: &str,
    options_json: &str,
    now_ms: f64,
) -> Result<String, JsValue> {
    let options = wire::verify_options_from_json(&parse(options_json)?).map_err(|e| to_js(&e))?;
    let verified = ring(ring_json)?
        .verify(token, &options, at(now_ms)?)
        .map_err(|e| to_js(&e))?;
    Ok(wire::verified_to_json(&verified).to_string())
}

/// The relay gate; errors carry `status` (the relay's HTTP status) besides `code`.
#[wasm_bindgen]
pub struct RelayGate {
    gate: Gate,
    last: Mutex<Option<token::Admission>>,
}

#[wasm_bindgen]
impl RelayGate {
    /// A gate over a key set and verify options (JSON).
    #[wasm_bindgen(constructor)]
    pub fn new(ring_json: &str, options_json: &str) -> Result<RelayGate, JsValue> {
        let options =
            wire::verify_options_from_json(&parse(options_json)?).map_err(|e| to_js(&e))?;
        Ok(RelayGate {
            gate: Gate::new(ring(ring_json)?, options),
            last: Mutex::new(None),
        })
    }

    /// Admits a request: the admission as JSON, or throws.
    pub fn admit(
        &self,
        method: &str,
        path: &str,
        authorization: Option<String>,
        body: Option<String>,
        now_ms: f64,
    ) -> Result<String, JsValue> {
        let body = body.unwrap_or_default();
        let request = RelayRequest {
            method,
            path,
            query: None,
            authorization: authorization.as_deref(),
            body: body.as_bytes(),
        };
        match self.gate.admit(&request, at(now_ms)?) {
            Ok(a) => {
                let json = wire::admission_to_json(&a).to_string();
                *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(a);
                Ok(json)
            }
            Err(e) => {
                let js = to_js(&e);
                let _ = Reflect::set(&js, &"status".into(), &token::http_status(&e).into());
                Err(js)
            }
        }
    }

    /// Gives the last admission back to its token's budget.
    pub fn release(&self) {
        if let Some(a) = self.last.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            self.gate.release(a);
        }
    }
}
