//! Verifying the OCI request signature of every control-plane request, the way the service
//! does: the core's `verify_request` against the registered principals, on the emulator's
//! clock, with a 5-minute skew limit. Any failure is 401 `NotAuthenticated`.

use axum::http::{HeaderMap, Method, Uri};
use twinkey::signer::{ReceivedRequest, VerifyOptions, verify_request};

use crate::Emulator;
use crate::oci_error::OciError;

/// The facts of a received control-plane request.
pub(crate) struct Incoming<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Checks the signature; `Ok(keyId)` of the signing principal.
pub(crate) fn authenticate(emu: &Emulator, req: &Incoming<'_>) -> Result<String, OciError> {
    let target = req
        .uri
        .path_and_query()
        .map_or_else(|| req.uri.path(), |pq| pq.as_str());
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
        .collect();
    let received = ReceivedRequest {
        method: req.method.as_str(),
        target,
        headers,
        body: req.body,
    };
    let principals = emu.principals();
    verify_request(&received, &VerifyOptions::default(), emu.now(), |key_id| {
        principals.lookup(key_id)
    })
    .map(|v| v.key_id)
    .map_err(|e| {
        tracing::info!(reason = e.code(), "control plane: signature rejected: 401");
        let mut err = OciError::not_authenticated();
        err.message = format!("{} ({}: {})", err.message, e.code(), e.detail);
        err
    })
}
