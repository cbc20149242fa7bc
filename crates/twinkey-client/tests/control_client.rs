//! `ControlPlaneClient` against the emulator: the eight operations, pagination, etags, OCI
//! errors as coded errors, and the SDKs' retry rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cp_support;

use std::collections::BTreeMap;

use cp_support::{Cp, TENANCY};
use futures_util::TryStreamExt;
use serde_json::json;
use twinkey::control::{
    CreateApiKeyDetails, KeyDetails, ListApiKeys, RetryPolicy, SortBy, UpdateApiKeyDetails,
};
use twinkey::{Error, SecretState, Slot};
use twinkey_client::CallOptions;

fn details(name: &str, compartment: &str) -> CreateApiKeyDetails {
    CreateApiKeyDetails {
        display_name: name.into(),
        compartment_id: compartment.into(),
        key_details: vec![
            KeyDetails::new("key-one", None),
            KeyDetails::new("key-two", None),
        ],
        ..CreateApiKeyDetails::default()
    }
}

fn oci_code(e: &Error) -> (u16, String) {
    match e {
        Error::Service {
            status, oci_code, ..
        } => (*status, oci_code.clone()),
        other => panic!("not a service error: {other:?}"),
    }
}

#[tokio::test]
async fn the_eight_operations_round_trip() {
    let cp = Cp::start().await;
    let c = &cp.client;
    let none = CallOptions::default();

    let created = c
        .create_api_key(&details("prod", TENANCY), &none)
        .await
        .unwrap();
    let key = &created.data;
    let id = key.id.clone().unwrap();
    assert_eq!(created.status, 200);
    assert_eq!(created.attempts, 1);
    assert_eq!(created.opc_request_id.len(), 32);
    let one = key.secret(Slot::One).value.clone().unwrap();
    let two = key.secret(Slot::Two).value.clone().unwrap();
    assert!(key.secret(Slot::One).key_mask.is_some());
    // Values never show in Debug.
    let shown = format!("{created:?}");
    assert!(!shown.contains(one.expose()) && !shown.contains(two.expose()));
    assert_eq!(cp.infer(one.expose()).await, 200);

    let got = c
        .get_api_key(
            &id,
            &CallOptions {
                opc_request_id: Some("my-request-1".into()),
                ..CallOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(got.opc_request_id, "my-request-1");
    assert!(got.data.secret(Slot::One).value.is_none());
    assert_eq!(got.etag, created.etag);
    assert_eq!(got.data.compartment_id.as_deref(), Some(TENANCY));

    let upd = c
        .update_api_key(
            &id,
            &UpdateApiKeyDetails {
                display_name: Some("renamed".into()),
                freeform_tags: Some(BTreeMap::from([("team".into(), "ml".into())])),
                ..UpdateApiKeyDetails::default()
            },
            &CallOptions::if_match(got.etag.clone().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(upd.data.display_name.as_deref(), Some("renamed"));
    assert_eq!(upd.data.freeform_tags, Some(json!({"team": "ml"})));
    // The old etag is stale now.
    let stale = c
        .set_api_key_state(
            &id,
            "key-two",
            &SecretState::Inactive,
            &CallOptions::if_match(got.etag.clone().unwrap()),
        )
        .await
        .unwrap_err();
    assert_eq!(oci_code(&stale), (412, "NoEtagMatch".into()));

    let st = c
        .set_api_key_state(
            &id,
            "key-two",
            &SecretState::Inactive,
            &CallOptions::if_match(upd.etag.clone().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(st.data.secret(Slot::Two).state, SecretState::Inactive);
    assert!(st.data.secret(Slot::Two).value.is_none());

    let rn = c.renew_api_key(&id, "key-two", None, &none).await.unwrap();
    let renewed = rn.data.secret(Slot::Two).value.clone().unwrap();
    assert_ne!(renewed.expose(), two.expose());
    assert!(rn.data.secret(Slot::One).value.is_none());
    assert_eq!(cp.infer(renewed.expose()).await, 200);

    let other = "ocid1.compartment.oc1..aaaaaaaaother";
    c.change_api_key_compartment(&id, other, &none)
        .await
        .unwrap();
    let there = c
        .list_all(&ListApiKeys::in_compartment(other))
        .await
        .unwrap();
    assert_eq!(there.len(), 1);
    assert!(
        c.list_all(&ListApiKeys::in_compartment(TENANCY))
            .await
            .unwrap()
            .is_empty()
    );

    let del = c.delete_api_key(&id, &none).await.unwrap();
    assert_eq!(del.status, 204);
    let after = c.get_api_key(&id, &none).await.unwrap();
    assert_eq!(after.data.lifecycle_state.as_deref(), Some("DELETED"));
    let e = c.delete_api_key(&id, &none).await.unwrap_err();
    assert_eq!(e.code(), "SERVICE_ERROR");
    assert_eq!(oci_code(&e), (404, "NotAuthorizedOrNotFound".into()));
    assert!(e.to_string().contains("opc-request-id"), "{e}");
}

#[tokio::test]
async fn pages_are_followed() {
    let cp = Cp::start().await;
    for i in 0..7 {
        cp.client
            .create_api_key(&details(&format!("k{i}"), TENANCY), &CallOptions::default())
            .await
            .unwrap();
    }
    let mut params = ListApiKeys::in_compartment(TENANCY);
    params.limit = Some(3);
    params.sort_by = Some(SortBy::DisplayName);
    let pages: Vec<_> = cp.client.list_pages(&params).try_collect().await.unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(),
        [3, 3, 1]
    );
    assert!(pages[2].next_page.is_none());
    let names: Vec<String> = cp
        .client
        .list_all(&params)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.display_name.unwrap())
        .collect();
    assert_eq!(names, ["k0", "k1", "k2", "k3", "k4", "k5", "k6"]);
}

async fn fault(cp: &Cp, fault: serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/control/faults", cp.server.admin_url()))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn retryable_failures_are_retried_like_the_sdks() {
    let cp = Cp::start().await;
    let id = cp.key().id().to_string();
    let none = CallOptions::default();
    for (status, code, retried) in [
        (503, None, true),
        (500, Some("InternalServerError"), true),
        (429, Some("TooManyRequests"), true),
        (409, Some("IncorrectState"), true),
        (409, Some("LockConflict"), true),
        (409, Some("Conflict"), false),
        (501, None, false),
        (400, Some("InvalidParameter"), false),
        (404, Some("NotAuthorizedOrNotFound"), false),
    ] {
        let mut f = json!({"status": status, "times": 2, "operation": "GetApiKey"});
        if let Some(c) = code {
            f["code"] = json!(c);
        }
        if status == 429 {
            f["retryAfter"] = json!(1);
        }
        fault(&cp, f).await;
        let got = cp.client.get_api_key(&id, &none).await;
        if retried {
            assert_eq!(got.unwrap().attempts, 3, "{status} {code:?}");
        } else {
            let e = got.unwrap_err();
            assert_eq!(oci_code(&e).0, status, "{status} {code:?}");
            // Clear the unused fault application.
            reqwest::Client::new()
                .delete(format!("{}/control/faults", cp.server.admin_url()))
                .send()
                .await
                .unwrap();
        }
    }
    // The attempt budget: 8 in all by default.
    fault(&cp, json!({"status": 503, "times": 20})).await;
    let e = cp.client.get_api_key(&id, &none).await.unwrap_err();
    assert_eq!(oci_code(&e), (503, "ServiceUnavailable".into()));
    let left = reqwest::Client::new()
        .get(format!("{}/control/faults", cp.server.admin_url()))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(left["faults"][0]["times"], 12);
    // Per-call policy: no retries.
    let e = cp
        .client
        .get_api_key(
            &id,
            &CallOptions {
                retry: Some(RetryPolicy::none()),
                ..CallOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(oci_code(&e).0, 503);
}

#[tokio::test]
async fn a_retried_post_keeps_its_retry_token() {
    // The first renewal's answer is lost (a 503 injected after it ran is not possible, so the
    // call is repeated by hand with the same token): the service answers it once.
    let cp = Cp::start().await;
    let id = cp.key().id().to_string();
    let opts = CallOptions::retry_token("rotation-token-1");
    let a = cp
        .client
        .renew_api_key(&id, "key-one", None, &opts)
        .await
        .unwrap();
    let b = cp
        .client
        .renew_api_key(&id, "key-one", None, &opts)
        .await
        .unwrap();
    let fp = |r: &twinkey_client::ApiResponse<twinkey::ApiKey>| {
        r.data.secret(Slot::One).fingerprint().to_string()
    };
    assert_eq!(fp(&a), fp(&b));
    let c = cp
        .client
        .renew_api_key(&id, "key-one", None, &CallOptions::default())
        .await
        .unwrap();
    assert_ne!(fp(&a), fp(&c));
}

#[tokio::test]
async fn transport_failures_are_coded() {
    let cp = Cp::start().await;
    // A port nothing listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let client = twinkey_client::ControlPlaneClient::new(cp.signer.clone(), &url)
        .unwrap()
        .with_retry_policy(RetryPolicy {
            max_attempts: 2,
            ..cp_support::fast_retries()
        });
    let e = client
        .get_api_key("ocid1.generativeaiapikey.oc1.x.y", &CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "TRANSPORT");
}
