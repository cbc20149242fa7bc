//! Verifying a received OCI-signed request, the way the service does (used by the emulator's
//! control plane). Every failure has a [`VerifyErrorKind`] with a stable code; mapping them to
//! `401 NotAuthenticated` is the server's business.

use std::fmt;
use std::time::Duration;

use base64ct::{Base64, Encoding};

use super::canonical::{BODY_HEADERS, REQUEST_TARGET, body_sha256, is_body_method};
use super::public_key::VerifyingKey;
use super::{date, private_key};
use crate::time::Timestamp;

/// The facts of a received request.
#[derive(Clone, Debug, Default)]
pub struct ReceivedRequest<'a> {
    /// HTTP method as received.
    pub method: &'a str,
    /// Path and query exactly as received in the request line.
    pub target: &'a str,
    /// All received headers (names case-insensitive; repeated names allowed).
    pub headers: Vec<(&'a str, &'a str)>,
    /// The received body.
    pub body: &'a [u8],
}

impl ReceivedRequest<'_> {
    fn values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_matches([' ', '\t']))
            .collect()
    }

    /// Repeated headers joined by `", "` (draft-cavage); `None` when absent.
    fn joined(&self, name: &str) -> Option<String> {
        let values = self.values(name);
        (!values.is_empty()).then(|| values.join(", "))
    }
}

/// What the verifier enforces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Largest accepted difference between the signed date and `now` (OCI: 5 minutes).
    pub max_clock_skew: Duration,
    /// Smallest accepted RSA key (OCI: 2048 bits; 1024 only to check the old docs sample).
    pub min_key_bits: usize,
    /// Require `content-length content-type x-content-sha256` to be signed on POST/PUT/PATCH
    /// (false only for Object Storage's PutObject style).
    pub require_body_headers: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            max_clock_skew: Duration::from_secs(300),
            min_key_bits: private_key::MIN_BITS,
            require_body_headers: true,
        }
    }
}

/// Why a request failed verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyErrorKind {
    /// No `Authorization` header.
    MissingAuthorization,
    /// `Authorization` is not a well-formed `Signature` header (or the signature is not base64).
    MalformedAuthorization,
    /// `algorithm` is missing or not `rsa-sha256`.
    UnsupportedAlgorithm,
    /// `version` is present and not `1`.
    UnsupportedVersion,
    /// A header the method requires is not in the signed list.
    MissingSignedHeader,
    /// A signed header is not in the request.
    HeaderNotPresent,
    /// The signed date is not an IMF-fixdate.
    BadDate,
    /// The signed date is too far from now.
    ClockSkew,
    /// `x-content-sha256` does not match the body.
    BodyHashMismatch,
    /// `content-length` does not match the body.
    ContentLengthMismatch,
    /// No key is known for the keyId.
    UnknownKey,
    /// The key is smaller than [`VerifyOptions::min_key_bits`].
    WeakKey,
    /// The RSA signature does not verify.
    BadSignature,
}

impl VerifyErrorKind {
    /// A stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingAuthorization => "missing_authorization",
            Self::MalformedAuthorization => "malformed_authorization",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UnsupportedVersion => "unsupported_version",
            Self::MissingSignedHeader => "missing_signed_header",
            Self::HeaderNotPresent => "header_not_present",
            Self::BadDate => "bad_date",
            Self::ClockSkew => "clock_skew",
            Self::BodyHashMismatch => "body_hash_mismatch",
            Self::ContentLengthMismatch => "content_length_mismatch",
            Self::UnknownKey => "unknown_key",
            Self::WeakKey => "weak_key",
            Self::BadSignature => "bad_signature",
        }
    }
}

/// A verification failure: a kind and a human-readable detail (no key material).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// What failed.
    pub kind: VerifyErrorKind,
    /// Details, e.g. which header is missing.
    pub detail: String,
}

impl VerifyError {
    fn new(kind: VerifyErrorKind, detail: impl Into<String>) -> Self {
        VerifyError {
            kind,
            detail: detail.into(),
        }
    }

    /// The kind's stable code.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "signature rejected ({}): {}",
            self.kind.code(),
            self.detail
        )
    }
}

impl std::error::Error for VerifyError {}

/// The parameters of an `Authorization: Signature ...` header, in any order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureParams {
    /// `keyId`.
    pub key_id: String,
    /// `algorithm`, if present.
    pub algorithm: Option<String>,
    /// `version`, if present.
    pub version: Option<String>,
    /// `headers`, lowercased, in order.
    pub headers: Vec<String>,
    /// `signature` (base64).
    pub signature: String,
}

impl SignatureParams {
    /// Parses an `Authorization` value (`Signature name="value",...`; any parameter order,
    /// unknown parameters ignored, duplicates rejected).
    pub fn parse(value: &str) -> Result<Self, VerifyError> {
        let malformed = |d: &str| VerifyError::new(VerifyErrorKind::MalformedAuthorization, d);
        let value = value.trim();
        let rest = value
            .get(..9)
            .filter(|s| s.eq_ignore_ascii_case("signature"))
            .and_then(|_| value.get(9..))
            .filter(|r| r.starts_with([' ', '\t']))
            .ok_or_else(|| malformed("not a Signature authorization"))?;
        let mut params: Vec<(String, String)> = Vec::new();
        let mut rest = rest.trim_start();
        while !rest.is_empty() {
            let (name, after) = rest
                .split_once('=')
                .ok_or_else(|| malformed("parameter without ="))?;
            let name = name.trim().to_ascii_lowercase();
            let after = after
                .trim_start()
                .strip_prefix('"')
                .ok_or_else(|| malformed("parameter value is not quoted"))?;
            let (val, after) = after
                .split_once('"')
                .ok_or_else(|| malformed("unterminated parameter value"))?;
            if params.iter().any(|(n, _)| *n == name) {
                return Err(malformed(&format!("parameter {name} given twice")));
            }
            params.push((name, val.to_string()));
            let after = after.trim_start();
            rest = match after.strip_prefix(',') {
                Some(r) => r.trim_start(),
                None if after.is_empty() => after,
                None => return Err(malformed("parameters must be separated by commas")),
            };
        }
        let mut take = |n: &str| {
            params
                .iter()
                .position(|(k, _)| k == n)
                .map(|i| params.swap_remove(i).1)
        };
        let key_id = take("keyid").ok_or_else(|| malformed("no keyId"))?;
        let signature = take("signature").ok_or_else(|| malformed("no signature"))?;
        let headers = take("headers").ok_or_else(|| malformed("no headers list"))?;
        let headers: Vec<String> = headers
            .split_ascii_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        if headers.is_empty() {
            return Err(malformed("empty headers list"));
        }
        if headers
            .iter()
            .enumerate()
            .any(|(i, h)| headers[..i].contains(h))
        {
            return Err(malformed("a header is listed twice"));
        }
        Ok(SignatureParams {
            key_id,
            algorithm: take("algorithm"),
            version: take("version"),
            headers,
            signature,
        })
    }
}

/// A request that passed verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The keyId that signed it.
    pub key_id: String,
    /// The signed headers, lowercase, in order.
    pub signed_headers: Vec<String>,
    /// The signed `x-date` / `date`.
    pub date: Timestamp,
}

/// Verifies a received request at time `now`. `lookup` returns the public key of a keyId
/// (`tenancy/user/fingerprint` or `ST$<token>`), or `None` when unknown.
///
/// Checks, in order: the `Authorization` header and its parameters; `algorithm="rsa-sha256"`
/// and `version` `1` if present; the required signed set — `(request-target)`, `host`, the date
/// header (`x-date` when the request carries one, else `date`) and, for POST/PUT/PATCH,
/// `content-length content-type x-content-sha256`; every signed header present; the date
/// within `max_clock_skew`; `x-content-sha256` and `content-length` against the body; the key;
/// the RSA signature over the rebuilt signing string.
pub fn verify_request(
    request: &ReceivedRequest<'_>,
    options: &VerifyOptions,
    now: Timestamp,
    lookup: impl FnOnce(&str) -> Option<VerifyingKey>,
) -> Result<Verified, VerifyError> {
    use VerifyErrorKind as K;
    let authorization = request
        .joined("authorization")
        .ok_or_else(|| VerifyError::new(K::MissingAuthorization, "no Authorization header"))?;
    let params = SignatureParams::parse(&authorization)?;
    if params.algorithm.as_deref() != Some("rsa-sha256") {
        return Err(VerifyError::new(
            K::UnsupportedAlgorithm,
            format!("algorithm {:?}, expected \"rsa-sha256\"", params.algorithm),
        ));
    }
    if params.version.as_deref().is_some_and(|v| v != "1") {
        return Err(VerifyError::new(
            K::UnsupportedVersion,
            "version must be \"1\"",
        ));
    }

    let date_name = if request.joined("x-date").is_some() {
        "x-date"
    } else {
        "date"
    };
    let mut required = vec![REQUEST_TARGET, "host", date_name];
    if options.require_body_headers && is_body_method(request.method) {
        required.extend_from_slice(BODY_HEADERS);
    }
    let signed = |h: &str| params.headers.iter().any(|s| s == h);
    if let Some(missing) = required.iter().find(|h| !signed(h)) {
        return Err(VerifyError::new(
            K::MissingSignedHeader,
            format!("{missing} must be signed for {}", request.method),
        ));
    }

    let mut lines = Vec::with_capacity(params.headers.len());
    for name in &params.headers {
        let value = if name == REQUEST_TARGET {
            format!("{} {}", request.method.to_ascii_lowercase(), request.target)
        } else {
            request.joined(name).ok_or_else(|| {
                VerifyError::new(
                    K::HeaderNotPresent,
                    format!("signed header {name} is not in the request"),
                )
            })?
        };
        lines.push(format!("{name}: {value}"));
    }

    let date_text = request.joined(date_name).unwrap_or_default();
    let date = date::parse_http_date(&date_text).ok_or_else(|| {
        VerifyError::new(K::BadDate, format!("{date_name} is not an IMF-fixdate"))
    })?;
    let skew = now.since(date).max(date.since(now));
    if skew > options.max_clock_skew {
        return Err(VerifyError::new(
            K::ClockSkew,
            format!(
                "{date_name} is {}s away from the server clock",
                skew.as_secs()
            ),
        ));
    }
    if signed("x-content-sha256")
        && request.joined("x-content-sha256").as_deref() != Some(body_sha256(request.body).as_str())
    {
        return Err(VerifyError::new(
            K::BodyHashMismatch,
            "x-content-sha256 does not match the body",
        ));
    }
    if signed("content-length")
        && request.joined("content-length").as_deref()
            != Some(request.body.len().to_string().as_str())
    {
        return Err(VerifyError::new(
            K::ContentLengthMismatch,
            format!(
                "content-length does not match the body ({} bytes)",
                request.body.len()
            ),
        ));
    }

    let key = lookup(&params.key_id)
        .ok_or_else(|| VerifyError::new(K::UnknownKey, "no key is registered for this keyId"))?;
    if key.bits() < options.min_key_bits {
        return Err(VerifyError::new(
            K::WeakKey,
            format!(
                "{}-bit key; at least {} bits required",
                key.bits(),
                options.min_key_bits
            ),
        ));
    }
    let signature = Base64::decode_vec(&params.signature)
        .map_err(|_| VerifyError::new(K::MalformedAuthorization, "signature is not base64"))?;
    if !key.verify_raw(lines.join("\n").as_bytes(), &signature) {
        return Err(VerifyError::new(
            K::BadSignature,
            "the signature does not match the request",
        ));
    }
    Ok(Verified {
        key_id: params.key_id,
        signed_headers: params.headers,
        date,
    })
}
