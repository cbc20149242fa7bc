//! `ControlPlane`: `twinkey-client`'s [`ControlPlaneClient`] — the eight API-key operations,
//! OCI-signed and retried like the OCI SDKs — as blocking methods that wait with the GIL
//! released ([`crate::runtime::block_on`]). `AsyncControlPlane` (`control_async.rs`) is its
//! awaitable twin; both build their requests with [`Control`], so nothing differs but the
//! waiting. Nothing is decided here.

use std::future::Future;

use pyo3::prelude::*;
use pyo3::types::PyAny;
use twinkey::control::{CreateApiKeyDetails, ListApiKeys, UpdateApiKeyDetails};
use twinkey::{ApiKey, Result, SecretState, Timestamp};
use twinkey_client::{ApiResponse, CallOptions, ControlPlaneClient, Page};

use crate::control_args::{CallArgs, ListArgs, Tags, create_details, expiries, update_details};
use crate::control_reply::{PyKeyResponse, PyListPage, PyUnitResponse};
use crate::errors::IntoPyResult;
use crate::hygiene::{quote, refuse_pickle};
use crate::pages::PyPageIterator;
use crate::runtime::block_on;
use crate::signer::PySigner;
use crate::time::from_python_opt;

/// One control plane (endpoint and signer): the requests both Python classes send.
#[derive(Clone, Debug)]
pub struct Control {
    /// The client (cheap to clone: shared HTTP pool).
    pub client: ControlPlaneClient,
    /// The region, when known: given, or the signer's profile `region`.
    pub region: Option<String>,
    /// The process the client's connection pool belongs to (see [`Control::client`]).
    pid: u32,
}

impl Control {
    /// A client signed by `signer` for `endpoint`, else `region`'s endpoint, else the
    /// signer's profile region.
    pub fn new(
        signer: &PySigner,
        endpoint: Option<String>,
        region: Option<String>,
    ) -> PyResult<Self> {
        let signer = signer.inner.clone();
        let known_region = region
            .clone()
            .or_else(|| signer.region().map(str::to_string));
        let client = match (endpoint, region) {
            (Some(endpoint), _) => ControlPlaneClient::new(signer, &endpoint),
            (None, Some(region)) => ControlPlaneClient::for_region(signer, &region),
            (None, None) => ControlPlaneClient::from_profile_region(signer),
        }
        .py()?;
        Ok(Control {
            client,
            region: known_region,
            pid: std::process::id(),
        })
    }

    /// The client to send with. In a `fork`ed child the pooled connections belong to the
    /// parent's runtime, whose threads the child does not have (a request on one would wait
    /// for its timeout): there each call gets a client with a pool of its own.
    pub fn client(&self) -> ControlPlaneClient {
        if self.pid == std::process::id() {
            return self.client.clone();
        }
        match twinkey_client::control::control_http_client() {
            Ok(http) => self.client.clone().with_http_client(http),
            Err(_) => self.client.clone(),
        }
    }

    /// `ControlPlane('<endpoint>')`.
    pub fn repr(&self, class: &str) -> String {
        format!("{class}({})", quote(self.client.endpoint()))
    }

    /// CreateApiKey.
    pub fn create(
        &self,
        d: CreateApiKeyDetails,
        o: CallOptions,
    ) -> impl Future<Output = Result<ApiResponse<ApiKey>>> + Send + 'static {
        let c = self.client();
        async move { c.create_api_key(&d, &o).await }
    }

    /// GetApiKey.
    pub fn get(
        &self,
        id: String,
        o: CallOptions,
    ) -> impl Future<Output = Result<ApiResponse<ApiKey>>> + Send + 'static {
        let c = self.client();
        async move { c.get_api_key(&id, &o).await }
    }

    /// ListApiKeys: one page.
    pub fn list(
        &self,
        params: Result<ListApiKeys>,
        o: CallOptions,
    ) -> impl Future<Output = Result<Page>> + Send + 'static {
        let c = self.client();
        async move { c.list_api_keys(&params?, &o).await }
    }

    /// UpdateApiKey.
    pub fn update(
        &self,
        id: String,
        d: UpdateApiKeyDetails,
        o: CallOptions,
    ) -> impl Future<Output = Result<ApiResponse<ApiKey>>> + Send + 'static {
        let c = self.client();
        async move { c.update_api_key(&id, &d, &o).await }
    }

    /// DeleteApiKey.
    pub fn delete(
        &self,
        id: String,
        o: CallOptions,
    ) -> impl Future<Output = Result<ApiResponse<()>>> + Send + 'static {
        let c = self.client();
        async move { c.delete_api_key(&id, &o).await }
    }

    /// SetApiKeyState (the state as the service spells it).
    pub fn set_state(
        &self,
        id: String,
        key_name: String,
        state: String,
        o: CallOptions,
    ) -> impl Future<Output = Result<ApiResponse<ApiKey>>> + Send + 'static {
        let c = self.client();
        let state = SecretState::parse(&state);
        async move { c.set_api_key_state(&id, &key_name, &state, &o).await }
    }

    /// RenewApiKey.
    pub fn renew(
        &self,
        id: String,
        key_name: String,
        time_expiry: Option<Timestamp>,
        o: CallOptions,
    ) -> impl Future<Output = Result<ApiResponse<ApiKey>>> + Send + 'static {
        let c = self.client();
        async move { c.renew_api_key(&id, &key_name, time_expiry, &o).await }
    }

    /// ChangeApiKeyCompartment.
    pub fn change_compartment(
        &self,
        id: String,
        compartment_id: String,
        o: CallOptions,
    ) -> impl Future<Output = Result<ApiResponse<()>>> + Send + 'static {
        let c = self.client();
        async move { c.change_api_key_compartment(&id, &compartment_id, &o).await }
    }
}

/// The per-call options of every method.
pub fn call(
    if_match: Option<String>,
    opc_request_id: Option<String>,
    retry_token: Option<String>,
    retries: bool,
) -> CallOptions {
    CallArgs {
        if_match,
        opc_request_id,
        retry_token,
        retries,
    }
    .client()
}

/// The API-key control plane of one OCI endpoint, signed by one `Signer`; blocking methods
/// (the GIL is released while they wait). `AsyncControlPlane` has the same methods, awaitable.
#[pyclass(module = "twinkey._native", name = "ControlPlane", frozen)]
pub struct PyControlPlane {
    /// The shared request builder.
    pub control: Control,
}

#[pymethods]
impl PyControlPlane {
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
        Ok(PyControlPlane {
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
    fn create(
        &self,
        py: Python<'_>,
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
    ) -> PyResult<PyKeyResponse> {
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
        block_on(py, self.control.create(d, o), PyKeyResponse::new)
    }

    /// GetApiKey.
    #[pyo3(signature = (id, *, opc_request_id = None, retries = true))]
    fn get(
        &self,
        py: Python<'_>,
        id: String,
        opc_request_id: Option<String>,
        retries: bool,
    ) -> PyResult<PyKeyResponse> {
        let o = call(None, opc_request_id, None, retries);
        block_on(py, self.control.get(id, o), PyKeyResponse::new)
    }

    /// ListApiKeys: one page (`next_page` names the next; pass it as `page`).
    #[pyo3(signature = (
        compartment_id, *, lifecycle_state = None, display_name = None, id = None, limit = None,
        page = None, sort_order = None, sort_by = None, opc_request_id = None, retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn list(
        &self,
        py: Python<'_>,
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
    ) -> PyResult<PyListPage> {
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
        block_on(py, self.control.list(params, o), PyListPage::new)
    }

    /// Every page of ListApiKeys, following `opc-next-page`: an iterator of `ListPage`s,
    /// each fetched when it is asked for.
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
    ) -> PyResult<PyPageIterator> {
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
        Ok(PyPageIterator::new(self.control.clone(), params))
    }

    /// UpdateApiKey: the fields given change (`if_match`: the `etag` the change is based on).
    #[pyo3(signature = (
        id, *, display_name = None, description = None, freeform_tags = None, defined_tags = None,
        if_match = None, opc_request_id = None, retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        py: Python<'_>,
        id: String,
        display_name: Option<String>,
        description: Option<String>,
        freeform_tags: Option<&Bound<'_, PyAny>>,
        defined_tags: Option<&Bound<'_, PyAny>>,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retries: bool,
    ) -> PyResult<PyKeyResponse> {
        let tags = Tags::from_python(freeform_tags, defined_tags)?;
        let d = update_details(display_name, description, tags);
        let o = call(if_match, opc_request_id, None, retries);
        block_on(py, self.control.update(id, d, o), PyKeyResponse::new)
    }

    /// DeleteApiKey.
    #[pyo3(signature = (id, *, if_match = None, opc_request_id = None, retries = true))]
    fn delete(
        &self,
        py: Python<'_>,
        id: String,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retries: bool,
    ) -> PyResult<PyUnitResponse> {
        let o = call(if_match, opc_request_id, None, retries);
        block_on(py, self.control.delete(id, o), |_, r| Ok(r.into()))
    }

    /// SetApiKeyState: `state` as OCI spells it (`ACTIVE`, `INACTIVE`, or `REVOKED`: for good).
    #[pyo3(signature = (
        id, key_name, state, *, if_match = None, opc_request_id = None, retry_token = None,
        retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn set_state(
        &self,
        py: Python<'_>,
        id: String,
        key_name: String,
        state: String,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retry_token: Option<String>,
        retries: bool,
    ) -> PyResult<PyKeyResponse> {
        let o = call(if_match, opc_request_id, retry_token, retries);
        let work = self.control.set_state(id, key_name, state, o);
        block_on(py, work, PyKeyResponse::new)
    }

    /// RenewApiKey: a new value (in the answer's key, shown once), active, expiring at
    /// `time_expiry` (default: the service's, 90 days).
    #[pyo3(signature = (
        id, key_name, *, time_expiry = None, if_match = None, opc_request_id = None,
        retry_token = None, retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn renew(
        &self,
        py: Python<'_>,
        id: String,
        key_name: String,
        time_expiry: Option<&Bound<'_, PyAny>>,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retry_token: Option<String>,
        retries: bool,
    ) -> PyResult<PyKeyResponse> {
        let expiry = from_python_opt(time_expiry)?;
        let o = call(if_match, opc_request_id, retry_token, retries);
        let work = self.control.renew(id, key_name, expiry, o);
        block_on(py, work, PyKeyResponse::new)
    }

    /// ChangeApiKeyCompartment.
    #[pyo3(signature = (
        id, compartment_id, *, if_match = None, opc_request_id = None, retry_token = None,
        retries = true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn change_compartment(
        &self,
        py: Python<'_>,
        id: String,
        compartment_id: String,
        if_match: Option<String>,
        opc_request_id: Option<String>,
        retry_token: Option<String>,
        retries: bool,
    ) -> PyResult<PyUnitResponse> {
        let o = call(if_match, opc_request_id, retry_token, retries);
        let work = self.control.change_compartment(id, compartment_id, o);
        block_on(py, work, |_, r| Ok(r.into()))
    }

    fn __repr__(&self) -> String {
        self.control.repr("ControlPlane")
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("ControlPlane"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("ControlPlane"))
    }
}
