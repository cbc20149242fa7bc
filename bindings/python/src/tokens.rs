//! `TokenKeyRing`: server tokens (SPEC section 7) for the Python server that hands them out —
//! the core's [`KeyRing`] (signing keys as JWKs, the algorithm pinned per `kid`), minting and
//! verifying through the JSON forms of [`twinkey::token::wire`] as `dict`s. Minting and
//! verifying release the GIL. Key material leaves the ring only through the explicit
//! `to_json(private=True)`: `repr`/`str` show kids and algorithms, pickling is refused.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyMapping, PyString};
use serde_json::{Map, Value};
use twinkey::Timestamp;
use twinkey::token::{
    Algorithm, Claims, FixedRandom, KeyRing, SystemRandom, TokenErrorKind, TokenKey, VerifyOptions,
    wire,
};
use zeroize::Zeroize;

use crate::errors::IntoPyResult;
use crate::hygiene::refuse_pickle;
use crate::pyjson::to_value;
use crate::time::{from_python, now};

fn poisoned() -> PyErr {
    PyRuntimeError::new_err("the TokenKeyRing lock was poisoned by a panic")
}

/// Overwrites every string of a JSON value (a private JWK Set that served as a copy).
pub fn scrub(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => map.values_mut().for_each(scrub),
        _ => {}
    }
}

/// Claims as the `dict` of their wire form (`wire::minted_to_json`'s `claims`), built directly:
/// members in the token's order `iss, sub, aud, iat, nbf?, exp, jti, twk`; `aud` a string when
/// there is one; `twk`'s caps only when set.
pub fn claims_dict<'py>(py: Python<'py>, c: &Claims) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("iss", &c.issuer)?;
    d.set_item("sub", &c.subject)?;
    match c.audience.as_slice() {
        [one] => d.set_item("aud", one)?,
        many => d.set_item("aud", many)?,
    }
    d.set_item("iat", c.issued_at)?;
    if let Some(nbf) = c.not_before {
        d.set_item("nbf", nbf)?;
    }
    d.set_item("exp", c.expires_at)?;
    d.set_item("jti", &c.token_id)?;
    let twk = PyDict::new(py);
    twk.set_item("models", &c.scope.models)?;
    twk.set_item("endpoints", &c.scope.endpoints)?;
    if let Some(n) = c.scope.max_output_tokens {
        twk.set_item("max_output_tokens", n)?;
    }
    if let Some(n) = c.scope.max_requests {
        twk.set_item("max_requests", n)?;
    }
    d.set_item("twk", twk)?;
    Ok(d)
}

/// Verify options from their `dict` form (`audience`, `issuer`?, `leewaySeconds`?, `now`?):
/// the core's options (it validates them) and the verification time.
pub fn verify_options(options: &Bound<'_, PyAny>) -> PyResult<(VerifyOptions, Timestamp)> {
    let mut at = None;
    let mut wire_form = Map::new();
    let dict = match options.cast::<PyDict>() {
        Ok(d) => d.clone(),
        Err(_) => options
            .cast::<PyMapping>()
            .map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(
                    "verify options must be a mapping: {'audience': ..., 'issuer'?: ..., \
                     'leewaySeconds'?: ..., 'now'?: ...}",
                )
            })?
            .call_method0("items")
            .and_then(|items| PyDict::from_sequence(&items))?,
    };
    for (k, v) in dict.iter() {
        let name = k.cast::<PyString>()?.to_cow()?;
        if name == "now" {
            at = (!v.is_none()).then(|| from_python(&v)).transpose()?;
        } else {
            wire_form.insert(name.into_owned(), to_value(&v)?);
        }
    }
    let opts = wire::verify_options_from_json(&Value::Object(wire_form)).py()?;
    Ok((opts, at.unwrap_or_else(now)))
}

/// The keys a server mints and verifies server tokens with: several `kid`s for rotation, one
/// of them the signing key (the first key with private material unless set).
#[pyclass(module = "twinkey._native", name = "TokenKeyRing", frozen)]
pub struct PyTokenKeyRing {
    inner: RwLock<KeyRing>,
}

impl PyTokenKeyRing {
    // Lock discipline (no deadlock with the GIL): the lock is never held while waiting for
    // the GIL. Readers that release the GIL take and drop the lock inside `py.detach`;
    // writers take the write lock inside `py.detach` too, so a thread holding the GIL never
    // waits for a writer that waits for the GIL.
    fn read(&self) -> PyResult<RwLockReadGuard<'_, KeyRing>> {
        self.inner.read().map_err(|_| poisoned())
    }

    fn write(&self) -> PyResult<RwLockWriteGuard<'_, KeyRing>> {
        self.inner.write().map_err(|_| poisoned())
    }

    /// An independent copy of the ring (its signing key is its first key with private
    /// material), e.g. for a relay gate.
    pub fn copy_ring(&self) -> PyResult<KeyRing> {
        let mut jwks = self.read()?.to_jwks(true);
        let ring = KeyRing::from_jwks(&jwks);
        scrub(&mut jwks);
        ring.py()
    }
}

#[pymethods]
impl PyTokenKeyRing {
    /// A ring from a JWK Set (`{"keys": [...]}`) or one JWK, e.g. the file of
    /// `twinkey token keygen`.
    #[staticmethod]
    fn from_json(mut text: String) -> PyResult<Self> {
        let ring = KeyRing::from_json(&text);
        text.zeroize();
        Ok(PyTokenKeyRing {
            inner: RwLock::new(ring.py()?),
        })
    }

    /// A ring with one fresh key, `EdDSA` or `HS256`, from the system's randomness.
    #[staticmethod]
    #[pyo3(signature = (alg, kid))]
    fn generate(alg: &str, kid: String) -> PyResult<Self> {
        let alg = Algorithm::from_name(alg)
            .ok_or_else(|| {
                TokenErrorKind::InvalidKey.err(format!("unsupported alg {alg:?} (EdDSA or HS256)"))
            })
            .py()?;
        let mut ring = KeyRing::new();
        TokenKey::generate(kid, alg, &SystemRandom)
            .and_then(|key| ring.insert(key))
            .py()?;
        Ok(PyTokenKeyRing {
            inner: RwLock::new(ring),
        })
    }

    /// The kids, in order.
    #[getter]
    fn kids(&self) -> PyResult<Vec<String>> {
        Ok(self.read()?.kids().map(str::to_owned).collect())
    }

    /// The kid new tokens are signed with (`None`: the ring can only verify).
    #[getter]
    fn signing_kid(&self) -> PyResult<Option<String>> {
        Ok(self.read()?.signing_kid().map(str::to_owned))
    }

    /// Signs new tokens with the key `kid` (it must hold private material).
    fn set_signing_kid(&self, py: Python<'_>, kid: &str) -> PyResult<()> {
        py.detach(|| self.write()?.set_signing_kid(kid).py())
    }

    /// Removes the key `kid` (tokens it signed stop verifying); whether it was there.
    fn remove(&self, py: Python<'_>, kid: &str) -> PyResult<bool> {
        py.detach(|| Ok(self.write()?.remove(kid).is_some()))
    }

    /// The ring as JWK Set text: the public halves of the Ed25519 keys only (HS256 keys have
    /// none), unless `private=True` asks for the private material too (to store the ring;
    /// handle that text as a secret).
    #[pyo3(signature = (private = false))]
    fn to_json(&self, private: bool) -> PyResult<String> {
        let mut jwks = self.read()?.to_jwks(private);
        let text = jwks.to_string();
        scrub(&mut jwks);
        Ok(text)
    }

    /// Mints a token. `request`: `{"subject", "scope": {"models", "endpoints",
    /// "max_output_tokens"?, "max_requests"?}, "audience"?, "issuer"?, "ttlSeconds"?,
    /// "notBeforeDelaySeconds"?, "tokenId"?}`. `now`: an aware `datetime` or RFC 3339 string
    /// (default: now); `random`: bytes the token id is drawn from instead of the system's
    /// randomness (repeated as needed; for reproducible tests only). Returns
    /// `{"token", "claims"}`.
    #[pyo3(signature = (request, *, now = None, random = None))]
    fn mint<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        random: Option<&Bound<'py, PyBytes>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let request = wire::request_from_json(&to_value(request)?).py()?;
        let at = now
            .filter(|n| !n.is_none())
            .map(from_python)
            .transpose()?
            .unwrap_or_else(crate::time::now);
        let fixed = random.map(|b| FixedRandom::new(b.as_bytes().to_vec()));
        // The lock is taken and released without the GIL (see `read`).
        let minted = py.detach(|| {
            let ring = self.read()?;
            match &fixed {
                Some(rng) => ring.mint(&request, at, rng),
                None => ring.mint(&request, at, &SystemRandom),
            }
            .py()
        })?;
        let d = PyDict::new(py);
        d.set_item("token", &minted.token)?;
        d.set_item("claims", claims_dict(py, &minted.claims)?)?;
        Ok(d)
    }

    /// Verifies a token (RFC 8725: the algorithm pinned by the `kid`'s key, `exp`/`nbf` with
    /// bounded skew, audience, issuer). `options`: `{"audience", "issuer"?,
    /// "leewaySeconds"?, "now"?}`. Returns `{"kid", "alg", "claims"}`; raises `TokenError`
    /// with the refusal's code (`TOKEN_EXPIRED`, `TOKEN_SIGNATURE`, ...).
    fn verify<'py>(
        &self,
        py: Python<'py>,
        token: String,
        options: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (opts, at) = verify_options(options)?;
        // The lock is taken and released without the GIL (see `read`).
        let verified = py.detach(|| self.read()?.verify(&token, &opts, at).py())?;
        let d = PyDict::new(py);
        d.set_item("kid", &verified.kid)?;
        d.set_item("alg", verified.algorithm.name())?;
        d.set_item("claims", claims_dict(py, &verified.claims)?)?;
        Ok(d)
    }

    fn __repr__(&self) -> PyResult<String> {
        let ring = self.read()?;
        let signing = ring.signing_kid();
        let keys: Vec<String> = ring
            .kids()
            .filter_map(|kid| ring.get(kid))
            .map(|k| {
                let mark = if Some(k.kid()) == signing {
                    " (signing)"
                } else {
                    ""
                };
                format!("{} {}{mark}", k.kid(), k.algorithm().name())
            })
            .collect();
        Ok(format!("TokenKeyRing([{}])", keys.join(", ")))
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("TokenKeyRing"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("TokenKeyRing"))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }
}
