//! Every control-plane request must carry a valid OCI signature of a registered principal,
//! dated within 5 minutes of the emulator's clock; anything else is 401 `NotAuthenticated`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod control_support;

use std::time::Duration;

use control_support::{COMPARTMENT, Cp, expect_error};
use serde_json::json;
use twinkey::signer::{RequestParts, SignOptions, Signer};
use twinkey_emulator::control::{generate_rsa_2048, init_oci_dir};

const LIST: &str = "/20231130/apikeys?compartmentId=ocid1.compartment.oc1..aaaaaaaacompa";

#[tokio::test]
async fn unsigned_and_malformed_requests_are_401() {
    let cp = Cp::start().await;
    let url = format!("{}{LIST}", cp.server.url());
    for auth in [
        None,
        Some("Bearer sk-something"),
        Some("Signature nonsense"),
        Some(
            r#"Signature version="1",headers="date (request-target) host",keyId="a/b/c",algorithm="rsa-sha256",signature="AAAA""#,
        ),
    ] {
        let mut req = cp
            .http
            .get(&url)
            .header("date", "Thu, 05 Jan 2014 21:31:40 GMT");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let a = Cp::answer(req.send().await.unwrap()).await;
        expect_error(&a, 401, "NotAuthenticated");
    }
}

#[tokio::test]
async fn bad_signatures_unknown_keys_and_missing_body_headers_are_401() {
    let cp = Cp::start().await;
    // A key the emulator does not know.
    let stranger = generate_rsa_2048().unwrap();
    let fp = stranger.fingerprint().to_string();
    let signer = Signer::from_pem(
        &format!("ocid1.tenancy.oc1..x/ocid1.user.oc1..y/{fp}"),
        &stranger.private_pem,
        None,
    )
    .unwrap();
    let a = cp.send_as(&signer, "GET", LIST, None, &[], None).await;
    expect_error(&a, 401, "NotAuthenticated");
    assert!(a.body["message"].as_str().unwrap().contains("unknown_key"));
    // A known keyId signed with another key.
    let forged = Signer::from_pem(cp.signer.key_id(), &stranger.private_pem, None).unwrap();
    let a = cp.send_as(&forged, "GET", LIST, None, &[], None).await;
    expect_error(&a, 401, "NotAuthenticated");
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("bad_signature")
    );

    // A POST that does not sign its body headers.
    let url = format!("{}/20231130/apikeys", cp.server.url());
    let body = json!({"displayName": "x", "compartmentId": COMPARTMENT,
        "keyDetails": [{"keyName": "a"}, {"keyName": "b"}]})
    .to_string();
    let parts = RequestParts::new("POST", &url)
        .header("content-type", "application/json")
        .body(body.as_bytes());
    let signed = cp
        .signer
        .sign(
            &parts,
            &SignOptions {
                exclude_body: true,
                ..SignOptions::default()
            },
            twinkey::Clock::now(&twinkey::SystemClock),
        )
        .unwrap();
    let mut req = cp
        .http
        .post(&signed.url)
        .header("content-type", "application/json");
    for (n, v) in &signed.headers {
        if n != "host" {
            req = req.header(n, v);
        }
    }
    let a = Cp::answer(req.body(body.clone()).send().await.unwrap()).await;
    expect_error(&a, 401, "NotAuthenticated");
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("missing_signed_header")
    );

    // A body changed after signing.
    let parts = RequestParts::new("POST", &url)
        .header("content-type", "application/json")
        .body(body.as_bytes());
    let signed = cp
        .signer
        .sign(
            &parts,
            &SignOptions::default(),
            twinkey::Clock::now(&twinkey::SystemClock),
        )
        .unwrap();
    let mut req = cp
        .http
        .post(&signed.url)
        .header("content-type", "application/json");
    for (n, v) in &signed.headers {
        if n != "host" {
            req = req.header(n, v);
        }
    }
    let tampered = body.replace("\"x\"", "\"y\"");
    let a = Cp::answer(req.body(tampered).send().await.unwrap()).await;
    expect_error(&a, 401, "NotAuthenticated");
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("body_hash_mismatch")
    );
    assert_eq!(cp.emu.store().len(), 0);
}

#[tokio::test]
async fn clock_skew_over_five_minutes_is_401() {
    let (cp, clock) = Cp::manual(Duration::ZERO).await;
    let now = twinkey::Clock::now(&clock);
    for (offset_s, ok) in [
        (-299i64, true),
        (299, true),
        (-301, false),
        (301, false),
        (-3600, false),
    ] {
        let at = twinkey::Timestamp::from_millis(now.as_millis() + offset_s * 1000);
        let a = cp
            .send_as(&cp.signer, "GET", LIST, None, &[], Some(at))
            .await;
        if ok {
            assert_eq!(a.status, 200, "{offset_s}: {}", a.text);
        } else {
            expect_error(&a, 401, "NotAuthenticated");
            assert!(
                a.body["message"].as_str().unwrap().contains("clock_skew"),
                "{}",
                a.text
            );
        }
    }
    // x-date (the browser / oci-common form) is verified too.
    let url = format!("{}{LIST}", cp.server.url());
    let signed = cp
        .signer
        .sign(&RequestParts::new("GET", &url), &SignOptions::x_date(), now)
        .unwrap();
    let mut req = cp.http.get(&signed.url);
    for (n, v) in &signed.headers {
        if n != "host" {
            req = req.header(n, v);
        }
    }
    assert_eq!(req.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn session_token_principals() {
    let cp = Cp::start().await;
    let key = generate_rsa_2048().unwrap();
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl";
    let key_id = cp
        .emu
        .principals()
        .add_session(token, key.verifying_key.clone());
    assert_eq!(key_id, format!("ST${token}"));
    let signer = Signer::session(token, &key.private_pem, None).unwrap();
    let a = cp.send_as(&signer, "GET", LIST, None, &[], None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    // The same token with another key is refused.
    let other = generate_rsa_2048().unwrap();
    let signer = Signer::session(token, &other.private_pem, None).unwrap();
    expect_error(
        &cp.send_as(&signer, "GET", LIST, None, &[], None).await,
        401,
        "NotAuthenticated",
    );
}

#[tokio::test]
async fn admin_registers_principals() {
    let cp = Cp::start().await;
    let key = generate_rsa_2048().unwrap();
    let r: serde_json::Value = cp
        .http
        .post(format!("{}/principals", cp.server.admin_url()))
        .json(&json!({"tenancy": "ocid1.tenancy.oc1..t", "user": "ocid1.user.oc1..u", "publicKey": key.public_pem}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["fingerprint"], key.fingerprint());
    let signer = Signer::from_pem(r["keyId"].as_str().unwrap(), &key.private_pem, None).unwrap();
    assert_eq!(
        cp.send_as(&signer, "GET", LIST, None, &[], None)
            .await
            .status,
        200
    );
    let bad = cp
        .http
        .post(format!("{}/principals", cp.server.admin_url()))
        .json(&json!({"publicKey": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "keyId": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn init_writes_a_working_oci_profile_and_reuses_it() {
    let dir = std::env::temp_dir().join(format!("twinkey-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cp = Cp::start().await;
    let files = init_oci_dir(&cp.emu, &dir).unwrap();
    assert!(files.created);
    #[cfg(unix)]
    for p in [&files.config, &files.key_file] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let text = std::fs::read_to_string(&files.config).unwrap();
    for k in [
        "user=",
        "fingerprint=",
        "tenancy=",
        "region=us-chicago-1",
        "key_file=",
    ] {
        assert!(text.contains(k), "{text}");
    }
    let signer = Signer::from_config(&files.config, "DEFAULT").unwrap();
    assert_eq!(signer.fingerprint(), files.fingerprint);
    assert!(signer.fingerprint_mismatch().is_none());
    assert_eq!(signer.key_bits(), 2048);
    let list = format!("/20231130/apikeys?compartmentId={}", files.tenancy);
    assert_eq!(
        cp.send_as(&signer, "GET", &list, None, &[], None)
            .await
            .status,
        200
    );

    // A second emulator reuses the files and accepts the same principal.
    let cp2 = Cp::start().await;
    let again = init_oci_dir(&cp2.emu, &dir).unwrap();
    assert!(!again.created);
    assert_eq!(again.key_id, files.key_id);
    assert_eq!(again.tenancy, files.tenancy);
    assert_eq!(
        cp2.send_as(&signer, "GET", &list, None, &[], None)
            .await
            .status,
        200
    );
    let _ = std::fs::remove_dir_all(&dir);
}
