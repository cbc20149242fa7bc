//! OCI request signing ("Signature version 1", `rsa-sha256`) and its verifier (feature `signer`).
//!
//! A [`Signer`] holds one parsed RSA private key and a keyId — `<tenancy>/<user>/<fingerprint>`
//! for a user principal, `ST$<token>` for a session token — and turns the facts of a request
//! ([`RequestParts`]) into the headers to add ([`SignedRequest`]). It performs no I/O except
//! reading the config, key and token files in [`Signer::from_config`]. Time is injected: the
//! `date` / `x-date` header it adds comes from the `now` argument.
//!
//! What is signed (reference `oci.md` 2.1–2.2):
//! - GET, HEAD, DELETE and every other method: `date (request-target) host`;
//! - POST, PUT, PATCH (empty body included): also `content-length content-type
//!   x-content-sha256`, unless [`SignOptions::exclude_body`] (Object Storage PutObject);
//! - with [`DateHeader::XDate`], the oci-common lists: `x-date (request-target) host` and
//!   `content-type content-length x-content-sha256`.
//!
//! The `(request-target)` rule is [`RequestParts`]'s URL rule; the signer returns the exact URL
//! to send ([`SignedRequest::url`]) so the transport sends what was signed.
//!
//! [`verify_request`] checks a received request the way OCI does (used by the emulator).

mod canonical;
mod config;
mod date;
mod legacy_pem;
mod pem;
mod private_key;
mod public_key;
mod request;
mod verify;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use config::OciProfile;
pub use date::{format_http_date, parse_http_date};
pub use pem::encode as pem_encode;
pub use private_key::{MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_BYTES, MAX_SCRYPT_PARALLELISM};
pub use public_key::VerifyingKey;
pub use request::RequestParts;
pub use verify::{
    ReceivedRequest, SignatureParams, Verified, VerifyError, VerifyErrorKind, VerifyOptions,
    verify_request,
};

use crate::error::{Error, Result};
use crate::time::Timestamp;
use private_key::PrivateKey;

/// Which date header is signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DateHeader {
    /// `date`, with the Go / Python SDK header lists (the default).
    #[default]
    Date,
    /// `x-date`, with the oci-common (Node / browser) header lists; browsers cannot set `Date`.
    XDate,
}

impl DateHeader {
    /// The header name: `date` or `x-date`.
    pub fn name(self) -> &'static str {
        match self {
            DateHeader::Date => "date",
            DateHeader::XDate => "x-date",
        }
    }
}

/// How to sign one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SignOptions {
    /// Sign `date` (default) or `x-date`.
    pub date_header: DateHeader,
    /// Sign only the generic headers even for POST/PUT/PATCH (Object Storage PutObject and
    /// UploadPart; the SDKs' `enforce_content_headers=False` / `forceExcludeBody`). No body
    /// headers are added then.
    pub exclude_body: bool,
}

impl SignOptions {
    /// Options signing `x-date` with the oci-common header lists.
    pub fn x_date() -> Self {
        SignOptions {
            date_header: DateHeader::XDate,
            exclude_body: false,
        }
    }
}

/// Everything about a signature except the RSA operation: what [`Signer::sign`] computes
/// before it signs. Returned by [`plan`] so that other RSA implementations (and vectors with
/// keys twinkey refuses, such as the 1024-bit OCI docs sample) can reuse the exact rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningPlan {
    /// The URL to send (normalized as described on [`RequestParts`]).
    pub url: String,
    /// The signed header names, in signing order (lowercase).
    pub signed_headers: Vec<&'static str>,
    /// The string to sign (lines joined by `\n`, no trailing newline).
    pub signing_string: String,
    /// Headers the request lacks and the transport must set (everything signed that was
    /// computed rather than taken from the request), in signing order.
    pub added_headers: Vec<(String, String)>,
}

impl SigningPlan {
    /// The `Authorization` header value for this plan, in the parameter order of the OCI docs
    /// and the Go SDK: `Signature version="1",headers="...",keyId="...",algorithm="rsa-sha256",
    /// signature="..."`. `signature` is the base64 RSA signature of [`Self::signing_string`].
    pub fn authorization(&self, key_id: &str, signature: &str) -> Result<String> {
        canonical::validate_key_id(key_id)?;
        Ok(canonical::authorization(
            &self.signed_headers,
            key_id,
            signature,
        ))
    }
}

/// Computes the [`SigningPlan`] of a request: the URL to send, the headers to add and the
/// signing string. [`Signer::sign`] is this plus the RSA signature.
pub fn plan(
    request: &RequestParts<'_>,
    options: &SignOptions,
    now: Timestamp,
) -> Result<SigningPlan> {
    canonical::plan(request, options, now)
}

/// The result of signing: the URL to send and the headers to set on the request. `Debug`
/// leaves out the `authorization` value (a session-token keyId carries the token).
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The exact URL to send (what `(request-target)` and `host` were computed from).
    pub url: String,
    /// Headers to set, replacing any existing value of the same name: the ones the request
    /// lacked (date or x-date, host, content-length, content-type, x-content-sha256) and,
    /// last, `authorization`.
    pub headers: Vec<(String, String)>,
    /// The string that was signed (not secret; useful to debug a rejected signature).
    pub signing_string: String,
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let shown = if n.eq_ignore_ascii_case("authorization") {
                    "(redacted)"
                } else {
                    v.as_str()
                };
                (n.as_str(), shown)
            })
            .collect();
        f.debug_struct("SignedRequest")
            .field("url", &self.url)
            .field("headers", &headers)
            .field("signing_string", &self.signing_string)
            .finish()
    }
}

impl SignedRequest {
    /// The value of a returned header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Authorization` header value.
    pub fn authorization(&self) -> &str {
        self.header("authorization").unwrap_or_default()
    }
}

/// An OCI request signer: one RSA private key (parsed once) and its keyId.
///
/// Cheap to clone and to share across threads (`Send + Sync`). `Debug` shows the keyId (a
/// session token only by its length) and the key's fingerprint, never key material.
#[derive(Clone)]
pub struct Signer {
    inner: Arc<Inner>,
}

struct Inner {
    key_id: String,
    session: bool,
    key: PrivateKey,
    region: Option<String>,
    fingerprint_mismatch: Option<(String, String)>,
}

impl Signer {
    /// A user-principal signer: `key_id` is `<tenancy OCID>/<user OCID>/<fingerprint>`, sent
    /// verbatim. `pem` is a PKCS#1 or PKCS#8 PEM RSA private key (at least 2048 bits), encrypted
    /// (PKCS#8, or OpenSSL's traditional AES-CBC PEM) when `passphrase` is given. A passphrase
    /// given for an unencrypted key is ignored, as the SDKs do.
    ///
    /// When the keyId's fingerprint differs from the key's, a warning is logged and
    /// [`Signer::fingerprint_mismatch`] reports it; signing continues with the given keyId.
    pub fn from_pem(key_id: &str, pem: &str, passphrase: Option<&str>) -> Result<Self> {
        canonical::validate_key_id(key_id)?;
        let key = PrivateKey::from_pem(pem, passphrase)?;
        let configured = user_key_id_fingerprint(key_id);
        Ok(Self::build(
            key_id.to_string(),
            false,
            key,
            configured,
            None,
        ))
    }

    /// A session-token signer (`security_token_file`, instance / resource principals): keyId
    /// `ST$<token>`, signed with the session's private key.
    pub fn session(token: &str, pem: &str, passphrase: Option<&str>) -> Result<Self> {
        let key_id = session_key_id(token)?;
        let key = PrivateKey::from_pem(pem, passphrase)?;
        Ok(Self::build(key_id, true, key, None, None))
    }

    /// Loads `profile` of an OCI config file (`~/.oci/config` format; `~` is expanded) and
    /// builds its signer: a session-token signer when the profile has `security_token_file`,
    /// otherwise a user-principal signer from `tenancy`, `user` and `fingerprint`. The key is
    /// read from `key_file` and decrypted with `pass_phrase` when set.
    pub fn from_config(path: impl AsRef<Path>, profile: &str) -> Result<Self> {
        let profile = OciProfile::load(path.as_ref(), profile)?;
        Self::from_profile(&profile)
    }

    /// Builds the signer of an already-loaded profile (reads `key_file` and
    /// `security_token_file`).
    pub fn from_profile(profile: &OciProfile) -> Result<Self> {
        let pem = profile.read_key_file()?;
        let passphrase = profile.pass_phrase();
        let region = profile.region.clone();
        if let Some(token) = profile.read_security_token()? {
            let key_id = session_key_id(&token)?;
            let key = PrivateKey::from_pem(&pem, passphrase)?;
            return Ok(Self::build(key_id, true, key, None, region));
        }
        let key_id = profile.user_key_id()?;
        canonical::validate_key_id(&key_id)?;
        let key = PrivateKey::from_pem(&pem, passphrase)?;
        let configured = profile.fingerprint.clone();
        Ok(Self::build(key_id, false, key, configured, region))
    }

    fn build(
        key_id: String,
        session: bool,
        key: PrivateKey,
        configured_fingerprint: Option<String>,
        region: Option<String>,
    ) -> Self {
        let fingerprint_mismatch = configured_fingerprint.and_then(|configured| {
            let configured = configured.trim().to_string();
            if configured.eq_ignore_ascii_case(key.fingerprint()) {
                None
            } else {
                tracing::warn!(
                    target: "twinkey",
                    configured = %configured,
                    actual = %key.fingerprint(),
                    "the configured OCI fingerprint does not match the private key; \
                     OCI will reject the signature unless the keyId names this key"
                );
                Some((configured, key.fingerprint().to_string()))
            }
        });
        Signer {
            inner: Arc::new(Inner {
                key_id,
                session,
                key,
                region,
                fingerprint_mismatch,
            }),
        }
    }

    /// Signs a request at time `now`; see the module documentation for what is signed.
    ///
    /// Errors: `INVALID_REQUEST` for a URL without a host, a bad method, CR/LF/NUL in a header,
    /// a duplicated signed header or a `content-length` / `x-content-sha256` that does not match
    /// the body; `SIGNING_FAILED` if the RSA operation fails.
    pub fn sign(
        &self,
        request: &RequestParts<'_>,
        options: &SignOptions,
        now: Timestamp,
    ) -> Result<SignedRequest> {
        let plan = canonical::plan(request, options, now)?;
        let signature = self.inner.key.sign(plan.signing_string.as_bytes())?;
        let authorization = canonical::authorization(
            &plan.signed_headers,
            &self.inner.key_id,
            &<base64ct::Base64 as base64ct::Encoding>::encode_string(&signature),
        );
        let mut headers = plan.added_headers;
        headers.push(("authorization".to_string(), authorization));
        Ok(SignedRequest {
            url: plan.url,
            headers,
            signing_string: plan.signing_string,
        })
    }

    /// The keyId sent in `Authorization` (for a session signer this contains the token).
    pub fn key_id(&self) -> &str {
        &self.inner.key_id
    }

    /// Whether this is a session-token (`ST$`) signer.
    pub fn is_session(&self) -> bool {
        self.inner.session
    }

    /// The private key's fingerprint: colon-hex MD5 of its public key (SubjectPublicKeyInfo
    /// DER), as the OCI Console shows it.
    pub fn fingerprint(&self) -> &str {
        self.inner.key.fingerprint()
    }

    /// `(configured, actual)` when the configured fingerprint (config `fingerprint`, or the last
    /// part of a user keyId) is not the key's own.
    pub fn fingerprint_mismatch(&self) -> Option<(&str, &str)> {
        self.inner
            .fingerprint_mismatch
            .as_ref()
            .map(|(c, a)| (c.as_str(), a.as_str()))
    }

    /// The profile's `region`, when the signer came from a config file.
    pub fn region(&self) -> Option<&str> {
        self.inner.region.as_deref()
    }

    /// The RSA modulus size in bits.
    pub fn key_bits(&self) -> usize {
        self.inner.key.bits()
    }

    /// The public key as a `PUBLIC KEY` (SubjectPublicKeyInfo) PEM, e.g. to register it with
    /// a verifier.
    pub fn public_key_pem(&self) -> String {
        pem::encode("PUBLIC KEY", self.inner.key.public_key_der())
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Signer");
        if self.inner.session {
            let len = self.inner.key_id.len().saturating_sub(3);
            d.field("key_id", &format_args!("ST$<session token, {len} chars>"));
        } else {
            d.field("key_id", &self.inner.key_id);
        }
        d.field("fingerprint", &self.inner.key.fingerprint())
            .finish()
    }
}

/// `ST$<token>` for a session token (surrounding whitespace of a token file removed).
fn session_key_id(token: &str) -> Result<String> {
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::InvalidConfig {
            reason: "the session token is empty".into(),
        });
    }
    let key_id = format!("ST${token}");
    canonical::validate_key_id(&key_id).map_err(|_| Error::InvalidConfig {
        reason: "the session token contains characters that cannot appear in a keyId \
                 (quotes, backslashes, whitespace or control characters)"
            .into(),
    })?;
    Ok(key_id)
}

/// The fingerprint part of a user-principal keyId (`tenancy/user/fingerprint`), if any.
fn user_key_id_fingerprint(key_id: &str) -> Option<String> {
    let mut parts = key_id.split('/');
    let (_, _, fp, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next());
    let looks_like_md5 = fp.len() == 47 && fp.split(':').all(|b| b.len() == 2);
    (rest.is_none() && looks_like_md5).then(|| fp.to_string())
}

#[cfg(test)]
mod tests;
