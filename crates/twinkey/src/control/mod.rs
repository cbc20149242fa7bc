//! The API-key control plane, sans I/O: what every binding needs to call the eight OCI
//! Generative AI API-key operations the way the OCI SDKs do.
//!
//! - [`ops`]: the operations with their exact methods, paths, query strings and JSON bodies
//!   (reference `oci.md` 1.5), as [`ApiRequest`]s ready to sign and send;
//! - [`response`]: parsing answers — `ApiKey` documents, collections, and OCI error bodies
//!   mapped to [`Error::Service`](crate::Error::Service);
//! - [`retry`]: the OCI SDKs' retry rules (which failures are retryable, bounded exponential
//!   backoff with jitter from an injected random source);
//! - [`policy`]: the least-privilege IAM policy statements that let a key call the models;
//! - [`endpoint_for_region`] / [`inference_base_for_region`]: the service hosts of a region.
//!
//! The transport (signing with [`Signer`](crate::Signer) where available, sending, sleeping
//! between retries) belongs to the binding; `twinkey-client` is the Rust one.

pub mod encode;
pub mod ops;
pub mod policy;
pub mod response;
pub mod retry;

pub use ops::{
    ApiRequest, ChangeApiKeyCompartmentDetails, CreateApiKeyDetails, Expiries, KeyDetails,
    ListApiKeys, Operation, RenewApiKeyDetails, SetApiKeyStateDetails, SortBy, SortOrder,
    UpdateApiKeyDetails, key_details_for,
};
pub use policy::{PolicyScope, manage_statement, policy_statements};
pub use response::{parse_api_key, parse_collection, service_error};
pub use retry::{GiveUp, RetryDecision, RetryOutcome, RetryPolicy, RetryRng};

use crate::error::{Error, Result};

/// The API version path every control-plane and native inference path starts with.
pub const API_VERSION_PATH: &str = "/20231130";

/// The second-level domain of a region's realm (reference `oci.md` 1.2): `oraclecloud.com`
/// for the commercial realm (oc1), the government and sovereign realms otherwise.
pub fn realm_domain(region: &str) -> &'static str {
    match region {
        "us-langley-1" | "us-luke-1" | "us-gov-ashburn-1" | "us-gov-chicago-1"
        | "us-gov-phoenix-1" => "oraclegovcloud.com",
        "uk-gov-london-1" | "uk-gov-cardiff-1" => "oraclegovcloud.uk",
        "ap-chiyoda-1" | "ap-ibaraki-1" => "oraclecloud8.com",
        _ => "oraclecloud.com",
    }
}

fn check_region(region: &str) -> Result<()> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            reason: format!("{region:?} is not a region identifier (e.g. us-chicago-1)"),
        })
    }
}

/// The control-plane endpoint of a region, e.g.
/// `https://generativeai.us-chicago-1.oci.oraclecloud.com` (paths start with `/20231130`).
pub fn endpoint_for_region(region: &str) -> Result<String> {
    check_region(region)?;
    Ok(format!(
        "https://generativeai.{region}.oci.{}",
        realm_domain(region)
    ))
}

/// The OpenAI-compatible inference base URL of a region, e.g.
/// `https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1`.
pub fn inference_base_for_region(region: &str) -> Result<String> {
    check_region(region)?;
    Ok(format!(
        "https://inference.generativeai.{region}.oci.{}/openai/v1",
        realm_domain(region)
    ))
}

/// Whether `endpoint` is an OCI service host (`https://…​.oci.oraclecloud.com` and the other
/// realms' domains) rather than the emulator or a proxy.
fn is_oci_service_endpoint(endpoint: &str) -> bool {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    [
        "oraclecloud.com",
        "oraclegovcloud.com",
        "oraclegovcloud.uk",
        "oraclecloud8.com",
    ]
    .iter()
    .any(|domain| host.ends_with(&format!(".oci.{domain}")))
}

/// The OpenAI-compatible inference base a rotation probes when none is given. A control-plane
/// `endpoint` that is not an OCI service host (the emulator, a proxy serving both planes)
/// gives `<endpoint>/openai/v1`, so a standby secret is only ever sent where the control plane
/// lives; otherwise the `region`'s inference host. `Ok(None)` when neither is known (the
/// caller asks for an inference URL); `INVALID_CONFIG` for a malformed region.
pub fn probe_inference_base(
    endpoint: Option<&str>,
    region: Option<&str>,
) -> Result<Option<String>> {
    if let Some(e) = endpoint.filter(|e| !is_oci_service_endpoint(e)) {
        return Ok(Some(format!("{}/openai/v1", e.trim_end_matches('/'))));
    }
    region.map(inference_base_for_region).transpose()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_probe_goes_where_the_control_plane_lives() {
        let local = probe_inference_base(Some("http://127.0.0.1:8080/"), Some("us-chicago-1"));
        assert_eq!(
            local.unwrap().as_deref(),
            Some("http://127.0.0.1:8080/openai/v1")
        );
        let oci = "https://generativeai.us-chicago-1.oci.oraclecloud.com";
        assert_eq!(
            probe_inference_base(Some(oci), Some("us-chicago-1"))
                .unwrap()
                .as_deref(),
            Some("https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1")
        );
        let gov = "https://generativeai.uk-gov-london-1.oci.oraclegovcloud.uk:443/x";
        assert_eq!(probe_inference_base(Some(gov), None).unwrap(), None);
        // A look-alike host is not OCI: the probe stays with it.
        let fake = "https://oci.oraclecloud.com.example.net";
        assert!(
            probe_inference_base(Some(fake), Some("us-chicago-1"))
                .unwrap()
                .unwrap()
                .starts_with(fake)
        );
        assert_eq!(probe_inference_base(None, None).unwrap(), None);
        let bad = probe_inference_base(None, Some("Not A Region")).unwrap_err();
        assert_eq!(bad.code(), "INVALID_CONFIG");
    }

    #[test]
    fn endpoints_follow_the_realm() {
        assert_eq!(
            endpoint_for_region("us-chicago-1").unwrap(),
            "https://generativeai.us-chicago-1.oci.oraclecloud.com"
        );
        assert_eq!(
            endpoint_for_region("uk-gov-london-1").unwrap(),
            "https://generativeai.uk-gov-london-1.oci.oraclegovcloud.uk"
        );
        assert_eq!(
            inference_base_for_region("eu-frankfurt-1").unwrap(),
            "https://inference.generativeai.eu-frankfurt-1.oci.oraclecloud.com/openai/v1"
        );
        for bad in ["", "US-CHICAGO-1", "us chicago", "evil.com/x"] {
            assert_eq!(
                endpoint_for_region(bad).unwrap_err().code(),
                "INVALID_CONFIG"
            );
        }
    }
}
