//! `Signer`: OCI request signing ("Signature version 1", rsa-sha256) in Python.
//!
//! Signing releases the GIL for the RSA operation, so threads sign in parallel. The private key
//! never leaves Rust: `repr` shows the keyId (a session token only by its length) and the key's
//! fingerprint, and a signer refuses to be pickled.

use std::borrow::Cow;
use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use twinkey::signer::{self, OciProfile, SigningPlan};
use twinkey::{DateHeader, RequestParts, SignOptions, SignedRequest, Signer, Timestamp};
use zeroize::Zeroize;

use crate::errors::IntoPyResult;
use crate::hygiene::{quote, refuse_pickle};
use crate::time::from_python_opt;

/// A request body given as `bytes` (borrowed) or `str` (UTF-8 encoded).
fn body_bytes<'a>(body: Option<&'a Bound<'_, PyAny>>) -> PyResult<Option<Cow<'a, [u8]>>> {
    let Some(body) = body.filter(|b| !b.is_none()) else {
        return Ok(None);
    };
    if let Ok(b) = body.cast::<PyBytes>() {
        return Ok(Some(Cow::Borrowed(b.as_bytes())));
    }
    if let Ok(s) = body.cast::<PyString>() {
        return Ok(Some(Cow::Owned(s.to_cow()?.as_bytes().to_vec())));
    }
    Err(PyTypeError::new_err("body must be bytes, str or None"))
}

/// Request headers from a mapping or an iterable of `(name, value)` pairs.
fn header_pairs(headers: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(headers) = headers.filter(|h| !h.is_none()) else {
        return Ok(Vec::new());
    };
    let pairs = if headers.hasattr("items")? {
        headers.call_method0("items")?
    } else {
        headers.clone()
    };
    pairs
        .try_iter()?
        .map(|pair| pair?.extract::<(String, String)>())
        .collect()
}

fn options(x_date: bool, exclude_body: bool) -> SignOptions {
    SignOptions {
        date_header: if x_date {
            DateHeader::XDate
        } else {
            DateHeader::Date
        },
        exclude_body,
    }
}

/// The facts of a request, owned so that signing can run without the GIL.
struct Request<'a> {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Cow<'a, [u8]>>,
}

impl<'a> Request<'a> {
    fn new(
        method: String,
        url: String,
        headers: Option<&Bound<'_, PyAny>>,
        body: Option<&'a Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(Request {
            method,
            url,
            headers: header_pairs(headers)?,
            body: body_bytes(body)?,
        })
    }

    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            url: &self.url,
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            body: self.body.as_deref(),
        }
    }
}

/// What signing produced: the URL to send (what was signed), the headers to set (replacing
/// any of the same name) and the signing string (not secret; for debugging).
#[pyclass(module = "twinkey._native", name = "SignedRequest", frozen)]
pub struct PySignedRequest {
    inner: SignedRequest,
}

#[pymethods]
impl PySignedRequest {
    /// The exact URL to send.
    #[getter]
    fn url(&self) -> &str {
        &self.inner.url
    }

    /// Headers to set: the computed ones (date, host, content-*) and, last, authorization.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        pairs_to_dict(py, &self.inner.headers)
    }

    /// The `Authorization` header value.
    #[getter]
    fn authorization(&self) -> &str {
        self.inner.authorization()
    }

    /// The string that was signed.
    #[getter]
    fn signing_string(&self) -> &str {
        &self.inner.signing_string
    }

    fn __repr__(&self) -> String {
        format!("SignedRequest(url={})", quote(&self.inner.url))
    }
}

fn pairs_to_dict<'py>(py: Python<'py>, pairs: &[(String, String)]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in pairs {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// Everything about a signature except the RSA operation (see `signing_plan`).
#[pyclass(module = "twinkey._native", name = "SigningPlan", frozen)]
pub struct PySigningPlan {
    inner: SigningPlan,
}

#[pymethods]
impl PySigningPlan {
    /// The URL to send.
    #[getter]
    fn url(&self) -> &str {
        &self.inner.url
    }

    /// The signed header names, in signing order.
    #[getter]
    fn signed_headers(&self) -> Vec<&'static str> {
        self.inner.signed_headers.clone()
    }

    /// The string to sign.
    #[getter]
    fn signing_string(&self) -> &str {
        &self.inner.signing_string
    }

    /// Headers the transport must set (computed, not taken from the request).
    #[getter]
    fn added_headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        pairs_to_dict(py, &self.inner.added_headers)
    }

    /// The `Authorization` header value for `key_id` and a base64 RSA signature of
    /// `signing_string` made elsewhere.
    fn authorization(&self, key_id: String, signature: String) -> PyResult<String> {
        self.inner.authorization(&key_id, &signature).py()
    }

    fn __repr__(&self) -> String {
        let headers: Vec<String> = self.inner.signed_headers.iter().map(|h| quote(h)).collect();
        format!(
            "SigningPlan(url={}, signed_headers=[{}])",
            quote(&self.inner.url),
            headers.join(", ")
        )
    }
}

/// The signing plan of a request (URL to send, headers to add, signing string) without
/// signing it: the exact rules `Signer.sign` applies.
#[pyfunction]
#[pyo3(signature = (method, url, headers = None, body = None, *, now = None, x_date = false, exclude_body = false))]
#[allow(clippy::too_many_arguments)]
pub fn signing_plan(
    method: String,
    url: String,
    headers: Option<&Bound<'_, PyAny>>,
    body: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
    x_date: bool,
    exclude_body: bool,
) -> PyResult<PySigningPlan> {
    let now = from_python_opt(now)?.unwrap_or_else(crate::time::now);
    let request = Request::new(method, url, headers, body)?;
    let plan = signer::plan(&request.parts(), &options(x_date, exclude_body), now).py()?;
    Ok(PySigningPlan { inner: plan })
}

/// An OCI request signer: one RSA private key (parsed once) and its keyId.
#[pyclass(module = "twinkey._native", name = "Signer", frozen)]
pub struct PySigner {
    pub(crate) inner: Signer,
}

impl PySigner {
    fn sign_inner(
        &self,
        py: Python<'_>,
        request: &Request<'_>,
        now: Option<Timestamp>,
        x_date: bool,
        exclude_body: bool,
    ) -> PyResult<SignedRequest> {
        let now = now.unwrap_or_else(crate::time::now);
        let options = options(x_date, exclude_body);
        let signer = &self.inner;
        py.detach(|| signer.sign(&request.parts(), &options, now))
            .py()
    }
}

#[pymethods]
impl PySigner {
    /// Loads `profile` of an OCI config file (`~` expanded): a session-token signer when the
    /// profile has `security_token_file`, otherwise a user-principal signer.
    #[staticmethod]
    #[pyo3(
        signature = (path = None, profile = "DEFAULT".to_string()),
        text_signature = "(path=None, profile='DEFAULT')"
    )]
    fn from_config(py: Python<'_>, path: Option<PathBuf>, profile: String) -> PyResult<Self> {
        let path = path.unwrap_or_else(OciProfile::default_path);
        let inner = py
            .detach(move || Signer::from_config(&path, &profile))
            .py()?;
        Ok(PySigner { inner })
    }

    /// A user-principal signer: `key_id` is `<tenancy>/<user>/<fingerprint>`; `pem` a PKCS#1
    /// or PKCS#8 RSA private key (at least 2048 bits), encrypted when `passphrase` is given.
    #[staticmethod]
    #[pyo3(signature = (key_id, pem, passphrase = None))]
    fn from_pem(key_id: String, mut pem: String, mut passphrase: Option<String>) -> PyResult<Self> {
        let inner = Signer::from_pem(&key_id, &pem, passphrase.as_deref());
        pem.zeroize();
        passphrase.zeroize();
        Ok(PySigner { inner: inner.py()? })
    }

    /// A session-token signer (keyId `ST$<token>`).
    #[staticmethod]
    #[pyo3(signature = (token, pem, passphrase = None))]
    fn session(
        mut token: String,
        mut pem: String,
        mut passphrase: Option<String>,
    ) -> PyResult<Self> {
        let inner = Signer::session(&token, &pem, passphrase.as_deref());
        token.zeroize();
        pem.zeroize();
        passphrase.zeroize();
        Ok(PySigner { inner: inner.py()? })
    }

    /// Signs a request; returns the headers to set on it (replacing any of the same name).
    /// `now` (aware datetime or RFC 3339) defaults to the system clock.
    #[pyo3(signature = (method, url, headers = None, body = None, *, now = None, x_date = false, exclude_body = false))]
    #[allow(clippy::too_many_arguments)]
    fn sign<'py>(
        &self,
        py: Python<'py>,
        method: String,
        url: String,
        headers: Option<&Bound<'py, PyAny>>,
        body: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
        x_date: bool,
        exclude_body: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let now = from_python_opt(now)?;
        let request = Request::new(method, url, headers, body)?;
        let signed = self.sign_inner(py, &request, now, x_date, exclude_body)?;
        pairs_to_dict(py, &signed.headers)
    }

    /// Like `sign`, returning the URL to send and the signing string as well.
    #[pyo3(signature = (method, url, headers = None, body = None, *, now = None, x_date = false, exclude_body = false))]
    #[allow(clippy::too_many_arguments)]
    fn sign_request(
        &self,
        py: Python<'_>,
        method: String,
        url: String,
        headers: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        x_date: bool,
        exclude_body: bool,
    ) -> PyResult<PySignedRequest> {
        let now = from_python_opt(now)?;
        let request = Request::new(method, url, headers, body)?;
        let inner = self.sign_inner(py, &request, now, x_date, exclude_body)?;
        Ok(PySignedRequest { inner })
    }

    /// The keyId sent in `Authorization` (for a session signer it contains the token).
    #[getter]
    fn key_id(&self) -> &str {
        self.inner.key_id()
    }

    /// Whether this is a session-token (`ST$`) signer.
    #[getter]
    fn is_session(&self) -> bool {
        self.inner.is_session()
    }

    /// The key's fingerprint (colon-hex MD5 of its public key).
    #[getter]
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }

    /// `(configured, actual)` when the configured fingerprint is not the key's own.
    #[getter]
    fn fingerprint_mismatch(&self) -> Option<(String, String)> {
        self.inner
            .fingerprint_mismatch()
            .map(|(c, a)| (c.to_string(), a.to_string()))
    }

    /// The profile's `region`, when the signer came from a config file.
    #[getter]
    fn region(&self) -> Option<&str> {
        self.inner.region()
    }

    /// The RSA modulus size in bits.
    #[getter]
    fn key_bits(&self) -> usize {
        self.inner.key_bits()
    }

    /// The public key as a `PUBLIC KEY` PEM.
    fn public_key_pem(&self) -> String {
        self.inner.public_key_pem()
    }

    fn __repr__(&self) -> String {
        let key_id = if self.inner.is_session() {
            // The keyId of a session signer is the session token itself: show its length only.
            format!(
                "ST$<session token, {} chars>",
                self.inner.key_id().len().saturating_sub(3)
            )
        } else {
            self.inner.key_id().to_string()
        };
        format!(
            "Signer(key_id={}, fingerprint={})",
            quote(&key_id),
            quote(self.inner.fingerprint())
        )
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("Signer"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("Signer"))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }
}
