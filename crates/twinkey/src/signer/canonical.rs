//! The signing rules shared by the signer and the verifier: header lists, the signing string,
//! the body hash and the `Authorization` value.

use aws_lc_rs::digest;
use base64ct::{Base64, Encoding};

use super::request::{self, RequestParts};
use super::{DateHeader, SignOptions, SigningPlan, date};
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// `(request-target)` pseudo-header.
pub(crate) const REQUEST_TARGET: &str = "(request-target)";

const DATE_GENERIC: &[&str] = &["date", REQUEST_TARGET, "host"];
const DATE_BODY: &[&str] = &[
    "date",
    REQUEST_TARGET,
    "host",
    "content-length",
    "content-type",
    "x-content-sha256",
];
const XDATE_GENERIC: &[&str] = &["x-date", REQUEST_TARGET, "host"];
const XDATE_BODY: &[&str] = &[
    "x-date",
    REQUEST_TARGET,
    "host",
    "content-type",
    "content-length",
    "x-content-sha256",
];

/// The body headers every POST/PUT/PATCH must sign.
pub(crate) const BODY_HEADERS: &[&str] = &["content-length", "content-type", "x-content-sha256"];

/// The header list the SDKs use: Go/Python for `date`, oci-common for `x-date`.
pub(crate) fn header_list(date: DateHeader, body: bool) -> &'static [&'static str] {
    match (date, body) {
        (DateHeader::Date, false) => DATE_GENERIC,
        (DateHeader::Date, true) => DATE_BODY,
        (DateHeader::XDate, false) => XDATE_GENERIC,
        (DateHeader::XDate, true) => XDATE_BODY,
    }
}

/// POST, PUT and PATCH sign the body headers (GO `defaultBodyHashPredicate`, PY `sign_body`,
/// TS `methodsThatRequireExtraHeaders`).
pub(crate) fn is_body_method(method: &str) -> bool {
    ["POST", "PUT", "PATCH"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// base64(SHA-256(body)), the `x-content-sha256` value.
pub(crate) fn body_sha256(body: &[u8]) -> String {
    Base64::encode_string(digest::digest(&digest::SHA256, body).as_ref())
}

/// The `Authorization` value in the OCI docs / Go SDK parameter order.
pub(crate) fn authorization(signed_headers: &[&str], key_id: &str, signature: &str) -> String {
    format!(
        "Signature version=\"1\",headers=\"{}\",keyId=\"{key_id}\",algorithm=\"rsa-sha256\",signature=\"{signature}\"",
        signed_headers.join(" ")
    )
}

/// A keyId goes inside a quoted parameter: printable ASCII without `"`, `\` or spaces.
pub(crate) fn validate_key_id(key_id: &str) -> Result<()> {
    let ok = !key_id.is_empty()
        && key_id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            reason: "keyId must be non-empty printable ASCII without quotes, backslashes or \
                     whitespace"
                .into(),
        })
    }
}

/// The one value of a header the request carries (case-insensitive name, surrounding
/// whitespace removed), `None` when absent, an error when it is given more than once.
fn single<'a>(request: &'a RequestParts<'_>, name: &str) -> Result<Option<&'a str>> {
    let mut found = None;
    for (n, v) in &request.headers {
        if n.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(Error::InvalidRequest {
                    reason: format!("header {name} is given more than once"),
                });
            }
            found = Some(v.trim_matches([' ', '\t']));
        }
    }
    Ok(found)
}

/// See [`super::plan`].
pub(crate) fn plan(
    request: &RequestParts<'_>,
    options: &SignOptions,
    now: Timestamp,
) -> Result<SigningPlan> {
    request::validate_method(request.method)?;
    for (name, value) in &request.headers {
        request::validate_header(name, value)?;
    }
    let url = request::parse_url(request.url)?;
    let body = request.body.unwrap_or_default();
    let body_signed = is_body_method(request.method) && !options.exclude_body;
    let signed_headers = header_list(options.date_header, body_signed);
    if options.date_header == DateHeader::Date && single(request, "x-date")?.is_some() {
        // OCI prefers x-date when present, so it must be the signed one.
        return Err(Error::InvalidRequest {
            reason: "the request carries x-date but date is to be signed; sign with \
                     DateHeader::XDate"
                .into(),
        });
    }

    let mut added = Vec::new();
    let mut signing_string = String::with_capacity(256);
    for &name in signed_headers {
        let given = if name == REQUEST_TARGET {
            None
        } else {
            single(request, name)?
        };
        let value = match (name, given) {
            (REQUEST_TARGET, _) => {
                format!("{} {}", request.method.to_ascii_lowercase(), url.target)
            }
            ("content-length", Some(v)) if v != body.len().to_string() => {
                return Err(Error::InvalidRequest {
                    reason: format!(
                        "content-length {v:?} does not match the body ({} bytes)",
                        body.len()
                    ),
                });
            }
            ("x-content-sha256", Some(v)) if v != body_sha256(body) => {
                return Err(Error::InvalidRequest {
                    reason: "x-content-sha256 does not match the body".into(),
                });
            }
            (_, Some("")) => {
                return Err(Error::InvalidRequest {
                    reason: format!("header {name} is empty"),
                });
            }
            (_, Some(v)) => v.to_string(),
            (_, None) => {
                let v = match name {
                    "date" | "x-date" => date::format_http_date(now),
                    "host" => url.host.clone(),
                    "content-length" => body.len().to_string(),
                    "content-type" => "application/json".to_string(),
                    _ => body_sha256(body),
                };
                added.push((name.to_string(), v.clone()));
                v
            }
        };
        if !signing_string.is_empty() {
            signing_string.push('\n');
        }
        signing_string.push_str(name);
        signing_string.push_str(": ");
        signing_string.push_str(&value);
    }
    Ok(SigningPlan {
        url: url.url,
        signed_headers: signed_headers.to_vec(),
        signing_string,
        added_headers: added,
    })
}
