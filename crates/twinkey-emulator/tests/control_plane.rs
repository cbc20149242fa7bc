//! The control plane's eight operations: shapes, secret hygiene, compartments, etags, retry
//! tokens, the api-key-count limit, pagination, and propagation to inference.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod control_support;

use std::time::Duration;

use control_support::{COMPARTMENT, Cp, OTHER_COMPARTMENT, expect_error, values};
use serde_json::json;

fn id_of(a: &control_support::Answer) -> String {
    a.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn create_get_list_update_set_state_renew_move_delete() {
    let cp = Cp::start().await;
    let created = cp.create("prod key", COMPARTMENT).await;
    let id = id_of(&created);
    assert!(id.starts_with("ocid1.generativeaiapikey.oc1.us-chicago-1."));
    assert_eq!(created.body["lifecycleState"], "ACTIVE");
    assert_eq!(created.body["compartmentId"], COMPARTMENT);
    assert!(created.etag.is_some());
    // Create shows both values once, with their masks.
    let vals = values(&created.body);
    assert!(
        vals.iter()
            .all(|(_, v)| v.as_deref().is_some_and(|v| v.starts_with("sk-")))
    );
    for k in created.body["keys"].as_array().unwrap() {
        let v = k["key"].as_str().unwrap();
        assert_eq!(k["keyMask"], format!("sk-...{}", &v[v.len() - 4..]));
        assert_eq!(k["state"], "ACTIVE");
        assert!(k["timeExpiry"].is_string() && k["timeCreated"].is_string());
    }
    let one = vals[0].1.clone().unwrap();
    let two = vals[1].1.clone().unwrap();
    assert_eq!(cp.infer(&one).await, 200);

    // Get and list never show a value.
    let got = cp
        .send("GET", &format!("/20231130/apikeys/{id}"), None, &[])
        .await;
    assert_eq!(got.status, 200);
    assert!(values(&got.body).iter().all(|(_, v)| v.is_none()));
    assert!(!got.text.contains(&one) && !got.text.contains(&two));
    assert_eq!(got.etag, created.etag);
    let list = cp
        .send(
            "GET",
            &format!("/20231130/apikeys?compartmentId={COMPARTMENT}"),
            None,
            &[],
        )
        .await;
    assert_eq!(list.status, 200);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(!list.text.contains(&one));

    // Update.
    let upd = cp
        .send(
            "PUT",
            &format!("/20231130/apikeys/{id}"),
            Some(&json!({"displayName": "renamed", "freeformTags": {"team": "ml"}}).to_string()),
            &[],
        )
        .await;
    assert_eq!(upd.status, 200, "{}", upd.text);
    assert_eq!(upd.body["displayName"], "renamed");
    assert_eq!(upd.body["freeformTags"]["team"], "ml");
    assert_ne!(upd.etag, created.etag);

    // Set state: masked answer.
    let st = cp.set_state(&id, "key-two", "INACTIVE").await;
    assert_eq!(st.status, 200, "{}", st.text);
    assert_eq!(st.body["keys"][1]["state"], "INACTIVE");
    assert!(values(&st.body).iter().all(|(_, v)| v.is_none()));
    assert_eq!(cp.infer(&two).await, 401);

    // Renew shows the renewed value only.
    let renewed = cp
        .send(
            "POST",
            &format!("/20231130/apikeys/{id}/actions/renew"),
            Some(&json!({"details": {"keyName": "key-two"}}).to_string()),
            &[],
        )
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    let vals = values(&renewed.body);
    assert_eq!(vals[0].1, None);
    let new_two = vals[1].1.clone().unwrap();
    assert_ne!(new_two, two);
    assert_eq!(renewed.body["keys"][1]["state"], "ACTIVE");
    assert_eq!(cp.infer(&new_two).await, 200);
    assert_eq!(cp.infer(&two).await, 401);

    // Change compartment: the key moves.
    let moved = cp
        .send(
            "POST",
            &format!("/20231130/apikeys/{id}/actions/changeCompartment"),
            Some(&json!({"compartmentId": OTHER_COMPARTMENT}).to_string()),
            &[],
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let count = |compartment: &str| {
        let cp = &cp;
        let path = format!("/20231130/apikeys?compartmentId={compartment}");
        async move {
            cp.send("GET", &path, None, &[]).await.body["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count(COMPARTMENT).await, 0);
    assert_eq!(count(OTHER_COMPARTMENT).await, 1);

    // Delete: 204, then DELETED, out of lists and inference.
    let del = cp
        .send("DELETE", &format!("/20231130/apikeys/{id}"), None, &[])
        .await;
    assert_eq!(del.status, 204, "{}", del.text);
    let gone = cp
        .send("GET", &format!("/20231130/apikeys/{id}"), None, &[])
        .await;
    assert_eq!(gone.status, 200);
    assert_eq!(gone.body["lifecycleState"], "DELETED");
    assert_eq!(count(OTHER_COMPARTMENT).await, 0);
    let deleted = cp
        .send(
            "GET",
            &format!("/20231130/apikeys?compartmentId={OTHER_COMPARTMENT}&lifecycleState=DELETED"),
            None,
            &[],
        )
        .await;
    assert_eq!(deleted.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(cp.infer(&one).await, 401);
    expect_error(
        &cp.set_state(&id, "key-one", "ACTIVE").await,
        404,
        "NotAuthorizedOrNotFound",
    );
    expect_error(
        &cp.send("DELETE", &format!("/20231130/apikeys/{id}"), None, &[])
            .await,
        404,
        "NotAuthorizedOrNotFound",
    );
}

#[tokio::test]
async fn etag_if_match_and_retry_tokens() {
    let cp = Cp::start().await;
    let created = cp.create("k", COMPARTMENT).await;
    let id = id_of(&created);
    let etag = created.etag.clone().unwrap();
    let path = format!("/20231130/apikeys/{id}/actions/setstate");
    let body = json!({"keyName": "key-two", "state": "INACTIVE"}).to_string();
    let a = cp
        .send("POST", &path, Some(&body), &[("if-match", "nope")])
        .await;
    expect_error(&a, 412, "NoEtagMatch");
    let a = cp
        .send("POST", &path, Some(&body), &[("if-match", &etag)])
        .await;
    assert_eq!(a.status, 200);
    // The old etag no longer matches.
    let a = cp
        .send(
            "DELETE",
            &format!("/20231130/apikeys/{id}"),
            None,
            &[("if-match", &etag)],
        )
        .await;
    expect_error(&a, 412, "NoEtagMatch");

    // A renewal retried with the same token is answered once: same value.
    let renew = format!("/20231130/apikeys/{id}/actions/renew");
    let rb = json!({"details": {"keyName": "key-one"}}).to_string();
    let first = cp
        .send("POST", &renew, Some(&rb), &[("opc-retry-token", "tok-1")])
        .await;
    let again = cp
        .send("POST", &renew, Some(&rb), &[("opc-retry-token", "tok-1")])
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(values(&first.body)[0].1, values(&again.body)[0].1);
    assert_eq!(first.etag, again.etag);
    let other = cp
        .send("POST", &renew, Some(&rb), &[("opc-retry-token", "tok-2")])
        .await;
    assert_ne!(values(&first.body)[0].1, values(&other.body)[0].1);
    // The same token on another request is a conflict.
    let a = cp
        .send(
            "POST",
            &renew,
            Some(&json!({"details": {"keyName": "key-two"}}).to_string()),
            &[("opc-retry-token", "tok-1")],
        )
        .await;
    expect_error(&a, 409, "Conflict");
    let a = cp
        .send(
            "POST",
            &renew,
            Some(&rb),
            &[("opc-retry-token", "bad token")],
        )
        .await;
    expect_error(&a, 400, "InvalidParameter");
}

#[tokio::test]
async fn api_key_count_limit() {
    let cp = Cp::start().await;
    assert_eq!(cp.emu.control().api_key_limit(), 100);
    cp.emu.control().set_api_key_limit(2);
    let a = cp.create("a", COMPARTMENT).await;
    cp.create("b", OTHER_COMPARTMENT).await;
    let body = json!({"displayName": "c", "compartmentId": COMPARTMENT,
        "keyDetails": [{"keyName": "key-one"}, {"keyName": "key-two"}]})
    .to_string();
    let refused = cp.send("POST", "/20231130/apikeys", Some(&body), &[]).await;
    expect_error(&refused, 400, "LimitExceeded");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("api-key-count")
    );
    let del = cp
        .send(
            "DELETE",
            &format!("/20231130/apikeys/{}", id_of(&a)),
            None,
            &[],
        )
        .await;
    assert_eq!(del.status, 204);
    assert_eq!(
        cp.send("POST", "/20231130/apikeys", Some(&body), &[])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn list_filters_sorts_and_pages() {
    let cp = Cp::start().await;
    for name in ["delta", "alpha", "echo", "charlie", "bravo"] {
        cp.create(name, COMPARTMENT).await;
    }
    cp.create("other", OTHER_COMPARTMENT).await;
    let base = format!("/20231130/apikeys?compartmentId={COMPARTMENT}");
    let mut names = Vec::new();
    let mut page: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &page {
            Some(p) => format!("{base}&sortBy=displayName&limit=2&page={p}"),
            None => format!("{base}&sortBy=displayName&limit=2"),
        };
        let a = cp.send("GET", &path, None, &[]).await;
        assert_eq!(a.status, 200, "{}", a.text);
        pages += 1;
        for item in a.body["items"].as_array().unwrap() {
            names.push(item["displayName"].as_str().unwrap().to_string());
        }
        page = a.next_page;
        if page.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["alpha", "bravo", "charlie", "delta", "echo"]);
    let a = cp
        .send(
            "GET",
            &format!("{base}&sortBy=displayName&sortOrder=DESC&limit=1"),
            None,
            &[],
        )
        .await;
    assert_eq!(a.body["items"][0]["displayName"], "echo");
    let a = cp
        .send("GET", &format!("{base}&displayName=charlie"), None, &[])
        .await;
    assert_eq!(a.body["items"].as_array().unwrap().len(), 1);
    let id = a.body["items"][0]["id"].as_str().unwrap().to_string();
    let a = cp.send("GET", &format!("{base}&id={id}"), None, &[]).await;
    assert_eq!(a.body["items"][0]["displayName"], "charlie");

    expect_error(
        &cp.send("GET", "/20231130/apikeys", None, &[]).await,
        400,
        "MissingParameter",
    );
    for bad in [
        "&limit=0",
        "&limit=x",
        "&page=zzz",
        "&sortBy=id",
        "&sortOrder=up",
        "&lifecycleState=GONE",
    ] {
        expect_error(
            &cp.send("GET", &format!("{base}{bad}"), None, &[]).await,
            400,
            "InvalidParameter",
        );
    }
}

#[tokio::test]
async fn bad_bodies_and_transitions_are_coded_errors() {
    let cp = Cp::start().await;
    let id = id_of(&cp.create("k", COMPARTMENT).await);
    let cases = [
        (
            "POST",
            "/20231130/apikeys".to_string(),
            "{",
            400,
            "CannotParseRequest",
        ),
        (
            "POST",
            "/20231130/apikeys".to_string(),
            "[]",
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            "/20231130/apikeys".to_string(),
            r#"{"compartmentId":"c","keyDetails":[]}"#,
            400,
            "MissingParameter",
        ),
        (
            "POST",
            "/20231130/apikeys".to_string(),
            r#"{"displayName":"d","keyDetails":[{"keyName":"a"},{"keyName":"b"}]}"#,
            400,
            "MissingParameter",
        ),
        (
            "POST",
            "/20231130/apikeys".to_string(),
            r#"{"displayName":"d","compartmentId":"c","keyDetails":[{"keyName":"a"}]}"#,
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            "/20231130/apikeys".to_string(),
            r#"{"displayName":"d","compartmentId":"c","keyDetails":[{"keyName":"a"},{"keyName":"a"}]}"#,
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            "/20231130/apikeys".to_string(),
            r#"{"displayName":"d","compartmentId":"c","keyDetails":[{"keyName":"1 bad"},{"keyName":"b"}]}"#,
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            "/20231130/apikeys".to_string(),
            r#"{"displayName":"d","compartmentId":"c","keyDetails":[{"keyName":"a","timeExpiry":"2001-01-01T00:00:00Z"},{"keyName":"b"}]}"#,
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            "/20231130/apikeys".to_string(),
            r#"{"displayName":7,"compartmentId":"c","keyDetails":[]}"#,
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            format!("/20231130/apikeys/{id}/actions/setstate"),
            r#"{"keyName":"key-one","state":"EXPIRED"}"#,
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            format!("/20231130/apikeys/{id}/actions/setstate"),
            r#"{"keyName":"key-nine","state":"ACTIVE"}"#,
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            format!("/20231130/apikeys/{id}/actions/setstate"),
            r#"{"state":"ACTIVE"}"#,
            400,
            "MissingParameter",
        ),
        (
            "POST",
            format!("/20231130/apikeys/{id}/actions/renew"),
            r#"{"keyName":"key-one"}"#,
            400,
            "MissingParameter",
        ),
        (
            "POST",
            format!("/20231130/apikeys/{id}/actions/renew"),
            r#"{"details":{"keyName":"key-one","timeExpiry":"soon"}}"#,
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            format!("/20231130/apikeys/{id}/actions/changeCompartment"),
            "{}",
            400,
            "MissingParameter",
        ),
        (
            "PUT",
            format!("/20231130/apikeys/{id}"),
            r#"{"freeformTags":{"a":1}}"#,
            400,
            "InvalidParameter",
        ),
        (
            "PUT",
            format!("/20231130/apikeys/{id}"),
            r#"{"displayName":""}"#,
            400,
            "InvalidParameter",
        ),
        (
            "POST",
            "/20231130/apikeys/ocid1.generativeaiapikey.oc1.x.nope/actions/setstate".to_string(),
            r#"{"keyName":"key-one","state":"ACTIVE"}"#,
            404,
            "NotAuthorizedOrNotFound",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let a = cp.send(method, &path, Some(body), &[]).await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (status, Some(code)),
            "{method} {path} {body}: {}",
            a.text
        );
    }
    expect_error(
        &cp.send(
            "GET",
            "/20231130/apikeys/ocid1.generativeaiapikey.oc1.x.nope",
            None,
            &[],
        )
        .await,
        404,
        "NotAuthorizedOrNotFound",
    );
    // Revocation is final: 409 Conflict (not IncorrectState, which clients retry).
    assert_eq!(cp.set_state(&id, "key-one", "REVOKED").await.status, 200);
    expect_error(
        &cp.set_state(&id, "key-one", "ACTIVE").await,
        409,
        "Conflict",
    );
    // Activating an ACTIVE secret is a no-op success.
    assert_eq!(cp.set_state(&id, "key-two", "ACTIVE").await.status, 200);
}

#[tokio::test]
async fn changes_reach_inference_after_the_propagation_delay() {
    let (cp, clock) = Cp::manual(Duration::from_secs(5)).await;
    let created = cp.create("k", COMPARTMENT).await;
    let id = id_of(&created);
    let vals = values(&created.body);
    let one = vals[0].1.clone().unwrap();
    // A new key is usable only after propagation.
    assert_eq!(cp.infer(&one).await, 401);
    clock.advance(Duration::from_secs(5));
    assert_eq!(cp.infer(&one).await, 200);
    assert_eq!(cp.set_state(&id, "key-one", "INACTIVE").await.status, 200);
    assert_eq!(cp.infer(&one).await, 200);
    clock.advance(Duration::from_millis(4999));
    assert_eq!(cp.infer(&one).await, 200);
    clock.advance(Duration::from_millis(1));
    assert_eq!(cp.infer(&one).await, 401);
}

#[tokio::test]
async fn control_faults_answer_once_after_authentication() {
    let cp = Cp::start().await;
    let id = id_of(&cp.create("k", COMPARTMENT).await);
    let admin = format!("{}/control/faults", cp.server.admin_url());
    let r = cp
        .http
        .post(&admin)
        .json(&json!({"status": 503, "times": 2, "operation": "GetApiKey", "retryAfter": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let path = format!("/20231130/apikeys/{id}");
    let a = cp.send("GET", &path, None, &[]).await;
    expect_error(&a, 503, "ServiceUnavailable");
    // Other operations are not affected.
    assert_eq!(cp.set_state(&id, "key-two", "INACTIVE").await.status, 200);
    expect_error(
        &cp.send("GET", &path, None, &[]).await,
        503,
        "ServiceUnavailable",
    );
    assert_eq!(cp.send("GET", &path, None, &[]).await.status, 200);
    let r = cp
        .http
        .post(&admin)
        .json(&json!({"status": 200}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
