//! `AsyncControlPlane`: the methods of `ControlPlane` (`control.rs`) as `asyncio` awaitables,
//! run on twinkey's I/O runtime ([`crate::runtime::awaitable`]); the requests are the same
//! ([`Control`]).

use pyo3::prelude::*;
use pyo3::types::PyAny;

use crate::control::{Control, call};
use crate::control_args::{ListArgs, Tags, create_details, expiries, update_details};
use crate::control_reply::{PyKeyResponse, PyListPage, PyUnitResponse};
use crate::errors::IntoPyResult;
use crate::hygiene::refuse_pickle;
use crate::pages::PyAsyncPageIterator;
use crate::runtime::awaitable;
use crate::signer::PySigner;
use crate::time::from_python_opt;

/// The API-key control plane of one OCI endpoint, signed by one `Signer`, for `asyncio`: the
/// methods of `ControlPlane`, each returning an awaitable (run on twinkey's I/O runtime; the
/// event loop never blocks).
#[pyclass(module = "twinkey._native", name = "AsyncControlPlane", frozen)]
pub struct PyAsyncControlPlane {
    /// The shared request builder.
    pub control: Control,
}

#[pymethods]
impl PyAsyncControlPlane {
    /// A client signed by `signer` for `endpoint` (e.g. an emulator's
    /// `http://127.0.0.1:8080`, no path), else `region`'s endpoint, else the region of the
    /// signer's profile.
    #[new]
    #[pyo3(signature = (signer, endpoint = None, region = None))]
    fn new(
        signer: &Bound<'_, PySigner>,
        endpoint: Option<String>,
        region: Option<String>,
    ) -> PyResult<Self> {
        Ok(PyAsyncControlPlane {
            control: Control::new(signer.get(), endpoint, region)?,
        })
    }

    /// The endpoint the operations go to.
    #[getter]
    fn endpoint(&self) -> &str {
        self.control.client.endpoint()
    }

    /// The region, when known.
    #[getter]
    fn region(&self) -> Option<&str> {
        self.control.region.as_deref()
    }

    /// CreateApiKey: a key with two secrets named `key_names`, expiring at `time_expiry` (one
    /// time for both, or `{name: time}` to stagger them; default: the service's, 90 days). The
    /// answer's key holds both new values (shown once).
    #[pyo3(
        signature = (
            compartment_id, display_name, *,
            key_names = ("key-one".to_string(), "key-two".to_string()), time_expiry = None,
            description = None, freeform_tags = None, defined_tags = None, opc_request_id = None,
            retry_token = None, retries = true
        ),
        text_signature = "(self, compartment_id, display_name, *, key_names=('key-one', 'key-two'), \
            time_expiry=None, description=None, freeform_tags=None, defined_tags=None, \
            opc_request_id=None, retry_token=None, retries=True)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn create<'py>(
        &self,
        py: Python<'py>,
        compartment_id: String,
        display_name: String,
        key_names: (String, String),
        time_expiry: Option<&Bound<'_, PyAny>>,
        description: Option<String>,
        freeform_tags: Option<&Bound<'_, PyAny>>,
        defined_tags: Option<&Bound<'_, PyAny>>,
        opc_request_id: Option<String>,
        retry_token: Option<String>,
        retries: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let tags = Tags::from_python(freeform_tags, defined_tags)?;
        let expiry = expiries(time_expiry)?;
        let d = create_details(
            compartment_id,
            display_name,
            key_names,
            expiry,
            description,
            tags,
        )?;
        let o = call(None, opc_request_id, retry_token, retries);
        awaitable(py, self.control.create(d, o), PyKeyResponse::new)
    }

    /// GetApiKey.
    #[pyo3(signature = (id, *, opc_request_id = None, retries = true))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        id: String,
        opc_request_id: Option<String>,
        retries: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = call(None, opc_request_id, None, retries);
        awaitable(py, self.control.get(id, o), PyKeyResponse::new)
    }

    /// ListApiKeys: one page (`next_page` names the next; pass it as `page`).
    #[pyo3(signature = (
        compartment_id, *, lifecycle_state = None, display_name = None, id = None, limit = None,
        page = None, sort_order = None, sort_by = None, opc_request_id = None, retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn list<'py>(
        &self,
        py: Python<'py>,
        compartment_id: String,
        lifecycle_state: Option<String>,
        display_name: Option<String>,
        id: Option<String>,
        limit: Option<u32>,
        page: Option<String>,
        sort_order: Option<String>,
        sort_by: Option<String>,
        opc_request_id: Option<String>,
        retries: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = ListArgs {
            compartment_id,
            lifecycle_state,
            display_name,
            id,
            limit,
            page,
            sort_order,
            sort_by,
        }
        .core();
        let o = call(None, opc_request_id, None, retries);
        awaitable(py, self.control.list(params, o), PyListPage::new)
    }

    /// Every page of ListApiKeys, following `opc-next-page`: an async iterator of `ListPage`s
    /// (`async for page in ...`), each fetched when it is asked for.
    #[pyo3(signature = (
        compartment_id, *, lifecycle_state = None, display_name = None, id = None, limit = None,
        sort_order = None, sort_by = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn list_all(
        &self,
        compartment_id: String,
        lifecycle_state: Option<String>,
        display_name: Option<String>,
        id: Option<String>,
        limit: Option<u32>,
        sort_order: Option<String>,
        sort_by: Option<String>,
    ) -> PyResult<PyAsyncPageIterator> {
        let params = ListArgs {
            compartment_id,
            lifecycle_state,
            display_name,
            id,
            limit,
            page: None,
            sort_order,
            sort_by,
        }
        .core()
        .py()?;
        Ok(PyAsyncPageIterator::new(self.control.clone(), params))
    }

    /// UpdateApiKey: the fields given change (`if_match`: the `etag` the change is based on).
    #[pyo3(signature = (
        id, *, display_name = None, description = None, freeform_tags = None, defined_tags = None,
        if_match = None, opc_request_id = None, retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn update<'py>(
        &self,
        py: Python<'py>,
        id: String,
        display_name: Option<String>,
        description: Option<String>,
        freeform_tags: Option<&Bound<'_, PyAny>>,
        defined_tags: Option<&Bound<'_, PyAny>>,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retries: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let tags = Tags::from_python(freeform_tags, defined_tags)?;
        let d = update_details(display_name, description, tags);
        let o = call(if_match, opc_request_id, None, retries);
        awaitable(py, self.control.update(id, d, o), PyKeyResponse::new)
    }

    /// DeleteApiKey.
    #[pyo3(signature = (id, *, if_match = None, opc_request_id = None, retries = true))]
    fn delete<'py>(
        &self,
        py: Python<'py>,
        id: String,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retries: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = call(if_match, opc_request_id, None, retries);
        awaitable(py, self.control.delete(id, o), |_, r| {
            Ok(PyUnitResponse::from(r))
        })
    }

    /// SetApiKeyState: `state` as OCI spells it (`ACTIVE`, `INACTIVE`, or `REVOKED`: for good).
    #[pyo3(signature = (
        id, key_name, state, *, if_match = None, opc_request_id = None, retry_token = None,
        retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn set_state<'py>(
        &self,
        py: Python<'py>,
        id: String,
        key_name: String,
        state: String,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retry_token: Option<String>,
        retries: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = call(if_match, opc_request_id, retry_token, retries);
        let work = self.control.set_state(id, key_name, state, o);
        awaitable(py, work, PyKeyResponse::new)
    }

    /// RenewApiKey: a new value (in the answer's key, shown once), active, expiring at
    /// `time_expiry` (default: the service's, 90 days).
    #[pyo3(signature = (
        id, key_name, *, time_expiry = None, if_match = None, opc_request_id = None,
        retry_token = None, retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn renew<'py>(
        &self,
        py: Python<'py>,
        id: String,
        key_name: String,
        time_expiry: Option<&Bound<'_, PyAny>>,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retry_token: Option<String>,
        retries: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let expiry = from_python_opt(time_expiry)?;
        let o = call(if_match, opc_request_id, retry_token, retries);
        let work = self.control.renew(id, key_name, expiry, o);
        awaitable(py, work, PyKeyResponse::new)
    }

    /// ChangeApiKeyCompartment.
    #[pyo3(signature = (
        id, compartment_id, *, if_match = None, opc_request_id = None, retry_token = None,
        retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn change_compartment<'py>(
        &self,
        py: Python<'py>,
        id: String,
        compartment_id: String,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retry_token: Option<String>,
        retries: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = call(if_match, opc_request_id, retry_token, retries);
        let work = self.control.change_compartment(id, compartment_id, o);
        awaitable(py, work, |_, r| Ok(PyUnitResponse::from(r)))
    }

    fn __repr__(&self) -> String {
        self.control.repr("AsyncControlPlane")
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("AsyncControlPlane"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("AsyncControlPlane"))
    }
}
