//! `Signer`: OCI request signing ("Signature version 1", rsa-sha256) with the core's signer,
//! for control-plane calls and IAM-authenticated inference.

use std::collections::HashMap;

use napi::bindgen_prelude::{AsyncTask, Either, Uint8Array};
use napi::{Env, Result, Task};
use napi_derive::napi;
use serde_json::{Value, json};
use twinkey::signer::{DateHeader, RequestParts};

use crate::errors::{OrThrow, to_js};
use crate::time::{instant, now};

/// The facts of a request to sign.
#[napi(object)]
pub struct SignRequest {
    /// HTTP method (`GET`, `POST`, ...).
    pub method: String,
    /// Absolute `http(s)://` URL.
    pub url: String,
    /// Headers the request already carries.
    pub headers: Option<HashMap<String, String>>,
    /// The body (POST/PUT/PATCH sign its length and SHA-256; absent = empty).
    pub body: Option<Either<String, Uint8Array>>,
}

/// How to sign.
#[napi(object)]
#[derive(Default)]
pub struct SignOptions {
    /// Sign `date` (default; Go/Python SDK header lists) or `x-date` (oci-common's lists).
    #[napi(ts_type = "'date' | 'x-date'")]
    pub date_header: Option<String>,
    /// Sign only the generic headers even for POST/PUT/PATCH (Object Storage uploads).
    pub exclude_body: Option<bool>,
    /// The signing time (RFC 3339 or epoch milliseconds; default: now).
    pub now: Option<Either<String, f64>>,
}

/// The result of signing: send `url` with `headers` set (replacing existing values).
#[napi(object)]
pub struct SignedRequest {
    /// The exact URL to send (what was signed).
    pub url: String,
    /// Headers to set, lowercase names: the computed ones the request lacked, and
    /// `authorization`.
    pub headers: HashMap<String, String>,
    /// The string that was signed (no secret; useful to debug a rejected signature).
    pub signing_string: String,
}

/// An OCI request signer: one RSA private key (parsed once) and its keyId. Shows the keyId
/// (a session token only by its length) and the key's fingerprint, never key material.
#[napi]
pub struct Signer {
    pub(crate) inner: twinkey::Signer,
}

#[napi]
impl Signer {
    /// Loads `profile` (default `DEFAULT`) of an OCI config file (`~/.oci/config` format) off
    /// the event loop: a session-token signer when the profile has `security_token_file`, else a
    /// user-principal signer.
    #[napi(ts_return_type = "Promise<Signer>")]
    pub fn from_config(path: String, profile: Option<String>) -> AsyncTask<LoadSigner> {
        AsyncTask::new(LoadSigner { path, profile })
    }

    /// `fromConfig` on the calling thread (for start-up code).
    #[napi(factory)]
    pub fn from_config_sync(env: Env, path: String, profile: Option<String>) -> Result<Self> {
        let inner = twinkey::Signer::from_config(&path, profile.as_deref().unwrap_or("DEFAULT"))
            .or_throw(&env)?;
        Ok(Signer { inner })
    }

    /// A user-principal signer: `keyId` is `<tenancy>/<user>/<fingerprint>`; `pem` a PKCS#1 or
    /// PKCS#8 RSA private key of at least 2048 bits (encrypted when `passphrase` is given).
    #[napi(factory)]
    pub fn from_pem(
        env: Env,
        key_id: String,
        pem: String,
        passphrase: Option<String>,
    ) -> Result<Self> {
        let inner =
            twinkey::Signer::from_pem(&key_id, &pem, passphrase.as_deref()).or_throw(&env)?;
        Ok(Signer { inner })
    }

    /// A session-token signer (keyId `ST$<token>`).
    #[napi(factory)]
    pub fn session(
        env: Env,
        token: String,
        pem: String,
        passphrase: Option<String>,
    ) -> Result<Self> {
        let inner = twinkey::Signer::session(&token, &pem, passphrase.as_deref()).or_throw(&env)?;
        Ok(Signer { inner })
    }

    /// Signs a request. Throws `InvalidRequestError` for a request that cannot be signed as
    /// given (no host, CR/LF in a header, ...), `SigningError` if the RSA operation fails.
    #[napi]
    pub fn sign(
        &self,
        env: Env,
        request: SignRequest,
        options: Option<SignOptions>,
    ) -> Result<SignedRequest> {
        let options = options.unwrap_or_default();
        let at = match &options.now {
            Some(t) => instant(t).or_throw(&env)?,
            None => now(),
        };
        let date_header = match options.date_header.as_deref() {
            None | Some("date") => DateHeader::Date,
            Some("x-date") => DateHeader::XDate,
            Some(other) => {
                return Err(to_js(
                    &env,
                    &twinkey::Error::InvalidRequest {
                        reason: format!("dateHeader must be 'date' or 'x-date', not {other:?}"),
                    },
                ));
            }
        };
        let sign_options = twinkey::SignOptions {
            date_header,
            exclude_body: options.exclude_body.unwrap_or(false),
        };
        let body: Option<&[u8]> = match &request.body {
            Some(Either::A(text)) => Some(text.as_bytes()),
            Some(Either::B(bytes)) => Some(bytes),
            None => None,
        };
        let parts = RequestParts {
            method: &request.method,
            url: &request.url,
            headers: request
                .headers
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            body,
        };
        let signed = self.inner.sign(&parts, &sign_options, at).or_throw(&env)?;
        Ok(SignedRequest {
            url: signed.url,
            headers: signed.headers.into_iter().collect(),
            signing_string: signed.signing_string,
        })
    }

    /// The keyId sent in `Authorization`. For a session signer it contains the session token:
    /// do not log it (`toString()` and `util.inspect` show it by length only).
    #[napi(getter)]
    pub fn key_id(&self) -> String {
        self.inner.key_id().to_string()
    }

    /// Whether this is a session-token (`ST$`) signer.
    #[napi(getter)]
    pub fn is_session(&self) -> bool {
        self.inner.is_session()
    }

    /// The private key's fingerprint (colon-hex MD5 of the public key, as the Console shows).
    #[napi(getter)]
    pub fn fingerprint(&self) -> String {
        self.inner.fingerprint().to_string()
    }

    /// The profile's region, when the signer came from a config file.
    #[napi(getter)]
    pub fn region(&self) -> Option<String> {
        self.inner.region().map(str::to_string)
    }

    /// The RSA modulus size in bits.
    #[napi(getter)]
    pub fn key_bits(&self) -> u32 {
        u32::try_from(self.inner.key_bits()).unwrap_or(u32::MAX)
    }

    /// `[configured, actual]` when the configured fingerprint is not the key's own.
    #[napi(getter)]
    pub fn fingerprint_mismatch(&self) -> Option<Vec<String>> {
        self.inner
            .fingerprint_mismatch()
            .map(|(c, a)| vec![c.to_string(), a.to_string()])
    }

    /// The public key as a `PUBLIC KEY` PEM.
    #[napi]
    pub fn public_key_pem(&self) -> String {
        self.inner.public_key_pem()
    }

    /// `{ fingerprint, session, keyBits, region }` (no keyId: it may hold a session token).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> Value {
        json!({
            "fingerprint": self.inner.fingerprint(),
            "session": self.inner.is_session(),
            "keyBits": self.inner.key_bits(),
            "region": self.inner.region(),
        })
    }

    /// The core's description: keyId (a session token only by its length) and fingerprint.
    #[napi(js_name = "toString")]
    pub fn to_display(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// Loads a signer from an OCI config file on the libuv thread pool (`Signer.fromConfig`).
pub struct LoadSigner {
    path: String,
    profile: Option<String>,
}

impl Task for LoadSigner {
    type Output = twinkey::Result<twinkey::Signer>;
    type JsValue = Signer;

    fn compute(&mut self) -> Result<Self::Output> {
        let profile = self.profile.as_deref().unwrap_or("DEFAULT");
        Ok(twinkey::Signer::from_config(&self.path, profile))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Signer> {
        output
            .map(|inner| Signer { inner })
            .map_err(|e| to_js(&env, &e))
    }
}
