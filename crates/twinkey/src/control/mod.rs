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
    ApiRequest, ChangeApiKeyCompartmentDetails, CreateApiKeyDetails, KeyDetails, ListApiKeys,
    Operation, RenewApiKeyDetails, SetApiKeyStateDetails, SortBy, SortOrder, UpdateApiKeyDetails,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
