//! What the control plane answers, as Python objects: the key as an `ApiKey` with the
//! answer's metadata (`etag`, `opc_request_id`, ...), a bodyless answer, a page of a listing.
//!
//! CreateApiKey and RenewApiKey answers carry new secret values, which the service shows once:
//! they are in the `ApiKey`'s `Secret`s (`secret.expose()`; `repr`, `str` and logs show names
//! and fingerprints only), so they can go straight to an `Engine` or, with
//! `to_json_exposing_secrets()`, into a key file. Every other answer shows `keyMask` only.

use pyo3::prelude::*;
use pyo3::types::PyList;
use twinkey_client::{ApiResponse, Page};

use crate::hygiene::{quote, quote_opt, refuse_pickle};
use crate::key::PyApiKey;

/// An answer carrying an API key (Create, Get, Update, SetState, Renew).
#[pyclass(module = "twinkey._native", name = "KeyResponse", frozen)]
pub struct PyKeyResponse {
    key: Py<PyApiKey>,
    status: u16,
    etag: Option<String>,
    opc_request_id: String,
    attempts: u32,
}

impl PyKeyResponse {
    /// The Python form of a key answer.
    pub fn new(py: Python<'_>, r: ApiResponse<twinkey::ApiKey>) -> PyResult<Self> {
        Ok(PyKeyResponse {
            key: Py::new(py, PyApiKey::from_key(r.data))?,
            status: r.status,
            etag: r.etag,
            opc_request_id: r.opc_request_id,
            attempts: r.attempts,
        })
    }
}

#[pymethods]
impl PyKeyResponse {
    /// The key (for Create and Renew, with the new value(s), shown this once).
    #[getter]
    fn key(&self, py: Python<'_>) -> Py<PyApiKey> {
        self.key.clone_ref(py)
    }

    /// HTTP status.
    #[getter]
    fn status(&self) -> u16 {
        self.status
    }

    /// `etag`, for a later `if_match`.
    #[getter]
    fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// `opc-request-id` of the answer (quote it to OCI support).
    #[getter]
    fn opc_request_id(&self) -> &str {
        &self.opc_request_id
    }

    /// Attempts made (1 without retries).
    #[getter]
    fn attempts(&self) -> u32 {
        self.attempts
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "KeyResponse(status={}, etag={}, opc_request_id={}, key={})",
            self.status,
            quote_opt(self.etag.as_deref()),
            quote(&self.opc_request_id),
            self.key.bind(py).repr()?
        ))
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("KeyResponse"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("KeyResponse"))
    }
}

/// An answer without a body (Delete, ChangeCompartment).
#[pyclass(module = "twinkey._native", name = "UnitResponse", frozen)]
pub struct PyUnitResponse {
    status: u16,
    etag: Option<String>,
    opc_request_id: String,
    attempts: u32,
}

impl From<ApiResponse<()>> for PyUnitResponse {
    fn from(r: ApiResponse<()>) -> Self {
        PyUnitResponse {
            status: r.status,
            etag: r.etag,
            opc_request_id: r.opc_request_id,
            attempts: r.attempts,
        }
    }
}

#[pymethods]
impl PyUnitResponse {
    /// HTTP status.
    #[getter]
    fn status(&self) -> u16 {
        self.status
    }

    /// `etag`, when the service sent one.
    #[getter]
    fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// `opc-request-id` of the answer.
    #[getter]
    fn opc_request_id(&self) -> &str {
        &self.opc_request_id
    }

    /// Attempts made.
    #[getter]
    fn attempts(&self) -> u32 {
        self.attempts
    }

    fn __repr__(&self) -> String {
        format!(
            "UnitResponse(status={}, opc_request_id={})",
            self.status,
            quote(&self.opc_request_id)
        )
    }
}

/// One page of ListApiKeys: iterable over its keys (secrets show `keyMask` only).
#[pyclass(module = "twinkey._native", name = "ListPage", frozen)]
pub struct PyListPage {
    items: Py<PyList>,
    next_page: Option<String>,
    opc_request_id: String,
    attempts: u32,
}

impl PyListPage {
    /// The Python form of a page.
    pub fn new(py: Python<'_>, page: Page) -> PyResult<Self> {
        let items = PyList::empty(py);
        for key in page.items {
            items.append(Py::new(py, PyApiKey::from_key(key))?)?;
        }
        Ok(PyListPage {
            items: items.unbind(),
            next_page: page.next_page,
            opc_request_id: page.opc_request_id,
            attempts: page.attempts,
        })
    }
}

#[pymethods]
impl PyListPage {
    /// The keys of this page (a new list each time; the `ApiKey`s are shared).
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.items.bind(py).iter())
    }

    /// `opc-next-page`: pass it as `page` for the next page; `None` on the last.
    #[getter]
    fn next_page(&self) -> Option<&str> {
        self.next_page.as_deref()
    }

    /// `opc-request-id` of the answer.
    #[getter]
    fn opc_request_id(&self) -> &str {
        &self.opc_request_id
    }

    /// Attempts made.
    #[getter]
    fn attempts(&self) -> u32 {
        self.attempts
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.items.bind(py).len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.items.bind(py).try_iter()?.into_any())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ListPage({} keys, next_page={})",
            self.items.bind(py).len(),
            quote_opt(self.next_page.as_deref())
        )
    }
}
