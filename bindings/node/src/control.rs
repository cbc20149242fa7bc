//! `NativeControlPlane`: `twinkey-client`'s [`ControlPlaneClient`] (the eight API-key
//! operations, OCI-signed, retried like the OCI SDKs) with every operation returning a
//! Promise. The facade's `ControlPlane` wraps it (adding the async iterator over pages). The
//! requests run on napi's tokio runtime; nothing is decided here.

use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::Value;
use twinkey::SecretState;
use twinkey::control::{CreateApiKeyDetails, UpdateApiKeyDetails};
use twinkey_client::ControlPlaneClient;

use crate::control_args::{CallOptions, ListParams, details};
use crate::control_reply::{KeyResponse, ListPage, UnitResponse, document};
use crate::errors::OrThrow;
use crate::promise::settle;
use crate::signer::Signer;
use crate::time::instant;

/// Where the control plane is.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct ControlPlaneOptions {
    /// The endpoint, e.g. an emulator's `http://127.0.0.1:8080` (no path). Default: the
    /// region's `https://generativeai.<region>.oci.oraclecloud.com`.
    pub endpoint: Option<String>,
    /// The region (default: the signer's profile `region`).
    pub region: Option<String>,
}

/// The API-key control plane of one OCI endpoint, signed by one `Signer`. Use the facade's
/// `ControlPlane`, which wraps this class.
#[napi]
pub struct NativeControlPlane {
    pub(crate) client: ControlPlaneClient,
    /// The region, when known (for the rotation probe's default inference URL).
    pub(crate) region: Option<String>,
}

#[napi]
impl NativeControlPlane {
    /// A client signed by `signer` (copied) for `options.endpoint`, else `options.region`'s
    /// endpoint, else the signer's profile region.
    #[napi(constructor)]
    pub fn new(env: Env, signer: &Signer, options: Option<ControlPlaneOptions>) -> Result<Self> {
        let options = options.unwrap_or_default();
        let signer = signer.inner.clone();
        let region = options
            .region
            .clone()
            .or_else(|| signer.region().map(str::to_string));
        let client = match (&options.endpoint, &options.region) {
            (Some(endpoint), _) => ControlPlaneClient::new(signer, endpoint),
            (None, Some(region)) => ControlPlaneClient::for_region(signer, region),
            (None, None) => ControlPlaneClient::from_profile_region(signer),
        }
        .or_throw(&env)?;
        Ok(NativeControlPlane { client, region })
    }

    /// The endpoint the operations go to.
    #[napi(getter)]
    pub fn endpoint(&self) -> String {
        self.client.endpoint().to_string()
    }

    /// The region, when known.
    #[napi(getter)]
    pub fn region(&self) -> Option<String> {
        self.region.clone()
    }

    /// CreateApiKey (`CreateApiKeyDetails` in OCI's camelCase: `displayName`, `compartmentId`,
    /// `keyDetails` naming the two secrets, ...). The answer's `key` holds both new values.
    #[napi(ts_return_type = "Promise<KeyResponse>")]
    pub fn create<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "Record<string, any>")] create_details: Value,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, KeyResponse>> {
        let c = self.client.clone();
        let options = options.unwrap_or_default().to_client();
        let work = async move {
            let d: CreateApiKeyDetails = details("CreateApiKeyDetails", create_details)?;
            c.create_api_key(&d, &options).await
        };
        settle(env, work, |_, r| Ok(KeyResponse::new(r, true)))
    }

    /// GetApiKey.
    #[napi(ts_return_type = "Promise<KeyResponse>")]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        id: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, KeyResponse>> {
        let c = self.client.clone();
        let options = options.unwrap_or_default().to_client();
        let work = async move { c.get_api_key(&id, &options).await };
        settle(env, work, |_, r| Ok(KeyResponse::new(r, false)))
    }

    /// ListApiKeys: one page (`nextPage` names the next).
    #[napi(ts_return_type = "Promise<ListPage>")]
    pub fn list<'env>(
        &self,
        env: &'env Env,
        params: ListParams,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ListPage>> {
        let c = self.client.clone();
        let options = options.unwrap_or_default().to_client();
        let work = async move { c.list_api_keys(&params.to_core()?, &options).await };
        settle(env, work, |_, page| Ok(ListPage::from(page)))
    }

    /// Every key of a listing, following `opc-next-page` to the last page.
    #[napi(ts_return_type = "Promise<Array<Record<string, any>>>")]
    pub fn list_all<'env>(
        &self,
        env: &'env Env,
        params: ListParams,
    ) -> Result<PromiseRaw<'env, Vec<Value>>> {
        let c = self.client.clone();
        let work = async move { c.list_all(&params.to_core()?).await };
        settle(env, work, |_, keys| Ok(keys.iter().map(document).collect()))
    }

    /// UpdateApiKey (`UpdateApiKeyDetails`: `displayName`, `description`, `freeformTags`,
    /// `definedTags`).
    #[napi(ts_return_type = "Promise<KeyResponse>")]
    pub fn update<'env>(
        &self,
        env: &'env Env,
        id: String,
        #[napi(ts_arg_type = "Record<string, any>")] update_details: Value,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, KeyResponse>> {
        let c = self.client.clone();
        let options = options.unwrap_or_default().to_client();
        let work = async move {
            let d: UpdateApiKeyDetails = details("UpdateApiKeyDetails", update_details)?;
            c.update_api_key(&id, &d, &options).await
        };
        settle(env, work, |_, r| Ok(KeyResponse::new(r, false)))
    }

    /// DeleteApiKey.
    #[napi(ts_return_type = "Promise<UnitResponse>")]
    pub fn delete<'env>(
        &self,
        env: &'env Env,
        id: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, UnitResponse>> {
        let c = self.client.clone();
        let options = options.unwrap_or_default().to_client();
        let work = async move { c.delete_api_key(&id, &options).await };
        settle(env, work, |_, r| Ok(UnitResponse::from(r)))
    }

    /// SetApiKeyState: `state` as OCI spells it (`ACTIVE`, `INACTIVE`, or `REVOKED`: irreversible).
    #[napi(ts_return_type = "Promise<KeyResponse>")]
    pub fn set_state<'env>(
        &self,
        env: &'env Env,
        id: String,
        key_name: String,
        state: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, KeyResponse>> {
        let c = self.client.clone();
        let options = options.unwrap_or_default().to_client();
        let state = SecretState::parse(&state);
        let work = async move { c.set_api_key_state(&id, &key_name, &state, &options).await };
        settle(env, work, |_, r| Ok(KeyResponse::new(r, false)))
    }

    /// RenewApiKey: a new value (in the answer's `key`, shown once), active and valid until
    /// `until` (RFC 3339 or epoch ms; default: the service's, 90 days).
    #[napi(ts_return_type = "Promise<KeyResponse>")]
    pub fn renew<'env>(
        &self,
        env: &'env Env,
        id: String,
        key_name: String,
        until: Option<Either<String, f64>>,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, KeyResponse>> {
        let c = self.client.clone();
        let options = options.unwrap_or_default().to_client();
        let until = until.as_ref().map(instant).transpose();
        let work = async move { c.renew_api_key(&id, &key_name, until?, &options).await };
        settle(env, work, |_, r| Ok(KeyResponse::new(r, true)))
    }

    /// ChangeApiKeyCompartment.
    #[napi(ts_return_type = "Promise<UnitResponse>")]
    pub fn change_compartment<'env>(
        &self,
        env: &'env Env,
        id: String,
        compartment_id: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, UnitResponse>> {
        let c = self.client.clone();
        let options = options.unwrap_or_default().to_client();
        let work = async move {
            c.change_api_key_compartment(&id, &compartment_id, &options)
                .await
        };
        settle(env, work, |_, r| Ok(UnitResponse::from(r)))
    }

    /// `ControlPlane <endpoint>`.
    #[napi(js_name = "toString")]
    pub fn to_display(&self) -> String {
        format!("ControlPlane {}", self.client.endpoint())
    }
}
