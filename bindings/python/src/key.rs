//! `Secret` and `ApiKey`: the key model in Python.
//!
//! A `Secret` is immutable. An `ApiKey` is a shared handle whose transitions (activate,
//! deactivate, revoke, renew, sync_state) change it in place under a lock, with OCI's rules
//! enforced by the core. `repr`/`str` show names and fingerprints, never values, and both
//! refuse to be pickled.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use pyo3::exceptions::{PyKeyError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyTuple};

use twinkey::{ApiKey, Secret, SecretState};
use zeroize::Zeroize;

use crate::errors::IntoPyResult;
use crate::hygiene::{quote, quote_opt, refuse_pickle};
use crate::time::{from_python_opt, now, to_datetime_opt};

/// One secret of a key: name, state, expiry and a safe fingerprint. The value never appears
/// in `repr`, `str`, errors or logs.
#[pyclass(module = "twinkey._native", name = "Secret", frozen)]
pub struct PySecret {
    pub(crate) inner: Secret,
}

#[pymethods]
impl PySecret {
    /// A secret with a value (state `ACTIVE` unless given).
    #[new]
    #[pyo3(
        signature = (name, value, *, state = "ACTIVE".to_string(), time_expiry = None),
        text_signature = "(name, value, *, state='ACTIVE', time_expiry=None)"
    )]
    fn new(
        name: String,
        mut value: String,
        state: String,
        time_expiry: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let secret =
            from_python_opt(time_expiry).and_then(|expiry| Secret::new(name, &value, expiry).py());
        value.zeroize();
        Ok(PySecret {
            inner: secret?.with_state(SecretState::parse(&state)),
        })
    }

    /// `keyName`, e.g. `key-one`.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// 8 hex digits of SHA-256(value): safe to log and to show (`--------` without a value).
    #[getter]
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }

    /// The state as OCI spells it (unknown values are kept as given).
    #[getter]
    fn state(&self) -> &str {
        self.inner.state.as_str()
    }

    /// Whether the secret carries a value (a control-plane document only has `keyMask`).
    #[getter]
    fn has_value(&self) -> bool {
        self.inner.value.is_some()
    }

    /// The `env:`/`file:` reference the value was loaded from, if any.
    #[getter]
    fn reference(&self) -> Option<&str> {
        self.inner.reference.as_deref()
    }

    /// `keyMask`, the service's masked display form.
    #[getter]
    fn key_mask(&self) -> Option<&str> {
        self.inner.key_mask.as_deref()
    }

    /// `timeExpiry`.
    #[getter]
    fn time_expiry<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        to_datetime_opt(py, self.inner.time_expiry)
    }

    /// `timeCreated`.
    #[getter]
    fn time_created<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        to_datetime_opt(py, self.inner.time_created)
    }

    /// `timeLastUsed`.
    #[getter]
    fn time_last_used<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        to_datetime_opt(py, self.inner.time_last_used)
    }

    /// The secret value itself, for a transport that needs it. Never log it.
    fn expose(&self) -> Option<&str> {
        self.inner.value.as_ref().map(twinkey::SecretValue::expose)
    }

    fn __repr__(&self) -> String {
        format!(
            "Secret(name={}, fingerprint={}, state={})",
            quote(&self.inner.name),
            quote(self.inner.fingerprint()),
            quote(self.inner.state.as_str())
        )
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("Secret"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("Secret"))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }
}

/// An OCI Generative AI API key: metadata plus exactly two secrets.
#[pyclass(module = "twinkey._native", name = "ApiKey", frozen)]
pub struct PyApiKey {
    inner: Arc<RwLock<ApiKey>>,
}

fn poisoned() -> PyErr {
    PyRuntimeError::new_err("the ApiKey lock was poisoned by a panic")
}

impl PyApiKey {
    /// Wraps a core key.
    pub fn from_key(key: ApiKey) -> Self {
        PyApiKey {
            inner: Arc::new(RwLock::new(key)),
        }
    }

    /// A copy of the core key.
    pub fn snapshot(&self) -> PyResult<ApiKey> {
        Ok(self.read()?.clone())
    }

    fn read(&self) -> PyResult<RwLockReadGuard<'_, ApiKey>> {
        self.inner.read().map_err(|_| poisoned())
    }

    fn write(&self) -> PyResult<RwLockWriteGuard<'_, ApiKey>> {
        self.inner.write().map_err(|_| poisoned())
    }

    fn transition(
        &self,
        at: Option<&Bound<'_, PyAny>>,
        f: impl FnOnce(&mut ApiKey, twinkey::Timestamp) -> twinkey::Result<()>,
    ) -> PyResult<()> {
        let at = from_python_opt(at)?.unwrap_or_else(now);
        let mut key = self.write()?;
        f(&mut key, at).py()
    }
}

#[pymethods]
impl PyApiKey {
    /// A key holding these two secrets (their names must differ).
    #[new]
    #[pyo3(signature = (one, two, *, id = None, display_name = None, description = None, compartment_id = None, region = None, lifecycle_state = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        one: &PySecret,
        two: &PySecret,
        id: Option<String>,
        display_name: Option<String>,
        description: Option<String>,
        compartment_id: Option<String>,
        region: Option<String>,
        lifecycle_state: Option<String>,
    ) -> PyResult<Self> {
        let mut key = ApiKey::new(one.inner.clone(), two.inner.clone()).py()?;
        key.region = region;
        if let Some(id) = id {
            key = key.with_id(id);
        }
        key.display_name = display_name;
        key.description = description;
        key.compartment_id = compartment_id;
        key.lifecycle_state = lifecycle_state;
        Ok(Self::from_key(key))
    }

    /// Parses a key document in OCI's camelCase shape (as the control plane and
    /// `oci generative-ai api-key get` print it). `env:NAME` and `file:PATH` references in
    /// `keys[].key` are resolved now.
    #[staticmethod]
    fn from_json(mut text: String) -> PyResult<Self> {
        let key = ApiKey::from_json(&text);
        text.zeroize();
        Ok(Self::from_key(key.py()?))
    }

    /// Reads a key file; relative `file:` references are relative to its folder.
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        let key = py.detach(move || ApiKey::load(&path)).py()?;
        Ok(Self::from_key(key))
    }

    /// The key as OCI-shaped JSON **without** secret values (references are kept). Safe to
    /// log and to store.
    fn to_json(&self) -> PyResult<String> {
        Ok(self.read()?.to_json())
    }

    /// The key as OCI-shaped JSON **with** its secret values, for writing a key file that must
    /// carry them. Handle the result as a secret.
    fn to_json_exposing_secrets(&self) -> PyResult<String> {
        Ok(self.read()?.to_json_exposing_secrets())
    }

    /// Both secrets, in `keys[]` order.
    #[getter]
    fn secrets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let key = self.read()?;
        let [one, two] = key.secrets().clone().map(|inner| PySecret { inner });
        PyTuple::new(py, [Py::new(py, one)?, Py::new(py, two)?])
    }

    /// The secret of this name (`KeyError` if none).
    fn __getitem__(&self, name: String) -> PyResult<PySecret> {
        let key = self.read()?;
        let slot = key.slot_of(&name).map_err(|_| PyKeyError::new_err(name))?;
        Ok(PySecret {
            inner: key.secret(slot).clone(),
        })
    }

    /// The OCID.
    #[getter]
    fn id(&self) -> PyResult<Option<String>> {
        Ok(self.read()?.id.clone())
    }

    /// `displayName`.
    #[getter]
    fn display_name(&self) -> PyResult<Option<String>> {
        Ok(self.read()?.display_name.clone())
    }

    /// `description`.
    #[getter]
    fn description(&self) -> PyResult<Option<String>> {
        Ok(self.read()?.description.clone())
    }

    /// `compartmentId`.
    #[getter]
    fn compartment_id(&self) -> PyResult<Option<String>> {
        Ok(self.read()?.compartment_id.clone())
    }

    /// The region (from the OCID when not given).
    #[getter]
    fn region(&self) -> PyResult<Option<String>> {
        Ok(self.read()?.region.clone())
    }

    /// `lifecycleState` as OCI spells it.
    #[getter]
    fn lifecycle_state(&self) -> PyResult<Option<String>> {
        Ok(self.read()?.lifecycle_state.clone())
    }

    /// `timeCreated`.
    #[getter]
    fn time_created<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        let t = self.read()?.time_created;
        to_datetime_opt(py, t)
    }

    /// `timeUpdated`.
    #[getter]
    fn time_updated<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        let t = self.read()?.time_updated;
        to_datetime_opt(py, t)
    }

    /// Activates the secret (OCI's transition rules apply).
    #[pyo3(signature = (name, *, at = None))]
    fn activate(&self, name: String, at: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.transition(at, |k, t| k.activate(&name, t))
    }

    /// Deactivates the secret (reversible).
    #[pyo3(signature = (name, *, at = None))]
    fn deactivate(&self, name: String, at: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.transition(at, |k, t| k.deactivate(&name, t))
    }

    /// Revokes the secret (irreversible).
    #[pyo3(signature = (name, *, at = None))]
    fn revoke(&self, name: String, at: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.transition(at, |k, t| k.revoke(&name, t))
    }

    /// Gives the secret a new value and lifetime (the core's default when none is given).
    #[pyo3(signature = (name, value, *, expiry = None, at = None))]
    fn renew(
        &self,
        name: String,
        mut value: String,
        expiry: Option<&Bound<'_, PyAny>>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let done = from_python_opt(expiry)
            .and_then(|expiry| self.transition(at, |k, t| k.renew(&name, &value, expiry, t)));
        value.zeroize();
        done
    }

    /// Sets a secret's state as the service reports it (no transition rules).
    fn sync_state(&self, name: String, state: String) -> PyResult<()> {
        self.write()?
            .sync_state(&name, SecretState::parse(&state))
            .map(|_| ())
            .py()
    }

    /// An independent copy.
    fn copy(&self) -> PyResult<Self> {
        Ok(Self::from_key(self.snapshot()?))
    }

    fn __repr__(&self) -> PyResult<String> {
        let key = self.read()?;
        let [one, two] = key.secrets();
        Ok(format!(
            "ApiKey(id={}, display_name={}, secrets=[{one}, {two}])",
            quote_opt(key.id.as_deref()),
            quote_opt(key.display_name.as_deref())
        ))
    }

    fn __str__(&self) -> PyResult<String> {
        Ok(self.read()?.to_string())
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("ApiKey"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("ApiKey"))
    }

    fn __copy__(&self) -> PyResult<Self> {
        self.copy()
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.copy()
    }
}
