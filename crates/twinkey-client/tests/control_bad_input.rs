//! Bad input to the control-plane client gets a coded error and never a panic: corrupted PEM,
//! a wrong pass phrase, a profile missing keys, an endpoint without a host, CR/LF in header
//! values and ids.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cp_support;

use cp_support::Cp;
use serde_json::Value;
use twinkey::SecretState;
use twinkey::signer::Signer;
use twinkey_client::{CallOptions, ControlPlaneClient};

fn keys() -> Value {
    let path = format!(
        "{}/../../tests/vectors/signing/keys.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn pem(name: &str) -> String {
    keys()["keys"][name]["private_key_pem"]
        .as_str()
        .unwrap()
        .to_string()
}

const KEY_ID: &str =
    "ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99";

#[test]
fn corrupted_pem_and_pass_phrases_are_coded() {
    let good = pem("rsa2048-pkcs1");
    let corrupted = good.replacen('M', "!", 3);
    let truncated = &good[..good.len() / 2];
    for (text, code) in [
        (corrupted.as_str(), "INVALID_PRIVATE_KEY"),
        (truncated, "INVALID_PRIVATE_KEY"),
        ("", "INVALID_PRIVATE_KEY"),
        (
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "INVALID_PRIVATE_KEY",
        ),
    ] {
        let e = Signer::from_pem(KEY_ID, text, None).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
    }
    for name in [
        "rsa2048-pkcs8-aes256",
        "rsa2048-legacy-aes128",
        "rsa2048-pkcs8-des3-sha1",
    ] {
        let encrypted = pem(name);
        let e = Signer::from_pem(KEY_ID, &encrypted, Some("wrong pass phrase")).unwrap_err();
        assert_eq!(e.code(), "BAD_PASSPHRASE", "{name}");
        let e = Signer::from_pem(KEY_ID, &encrypted, None).unwrap_err();
        assert_eq!(e.code(), "BAD_PASSPHRASE", "{name}");
        assert!(!e.to_string().contains("twinkey-test-passphrase"));
        Signer::from_pem(KEY_ID, &encrypted, Some("twinkey-test-passphrase")).unwrap();
    }
}

#[test]
fn profiles_missing_keys_are_invalid_config() {
    let dir = std::env::temp_dir().join(format!("twinkey-badcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.pem");
    std::fs::write(&key, pem("rsa2048-pkcs1")).unwrap();
    let k = key.display();
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[DEFAULT]\nregion=us-chicago-1\n\n[nouser]\ntenancy=ocid1.tenancy.oc1..t\nfingerprint=aa:bb\nkey_file={k}\n\n[nokey]\nuser=u\ntenancy=t\nfingerprint=f\n\n[missingfile]\nuser=u\ntenancy=t\nfingerprint=f\nkey_file={k}.nope\n"
        ),
    )
    .unwrap();
    for profile in ["nouser", "nokey", "missingfile", "absent"] {
        let e = Signer::from_config(&config, profile).unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG", "{profile}: {e}");
    }
    let e = Signer::from_config(dir.join("no-such-config"), "DEFAULT").unwrap_err();
    assert_eq!(e.code(), "INVALID_CONFIG");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn endpoints_without_host_and_header_injection_are_invalid_request() {
    let cp = Cp::start().await;
    for endpoint in [
        "",
        "/20231130",
        "generativeai.us-chicago-1.oci.oraclecloud.com",
        "https://",
        "ftp://host",
        "https://host/20231130",
        "https://host?x=1",
    ] {
        let e = ControlPlaneClient::new(cp.signer.clone(), endpoint).unwrap_err();
        assert_eq!(e.code(), "INVALID_REQUEST", "{endpoint:?}");
    }
    let e = ControlPlaneClient::for_region(cp.signer.clone(), "us chicago\r\n").unwrap_err();
    assert_eq!(e.code(), "INVALID_CONFIG");
    let e = ControlPlaneClient::from_profile_region(cp.signer.clone()).unwrap_err();
    assert_eq!(e.code(), "INVALID_CONFIG");

    let id = cp.key().id().to_string();
    let c = &cp.client;
    let injected = [
        CallOptions::if_match("etag\r\nx-evil: 1"),
        CallOptions {
            opc_request_id: Some("id\r\nx-evil: 1".into()),
            ..CallOptions::default()
        },
        CallOptions::retry_token("tok\nx-evil: 1"),
        CallOptions::retry_token(""),
        CallOptions {
            opc_request_id: Some("has space".into()),
            ..CallOptions::default()
        },
    ];
    for opts in &injected {
        let e = c
            .set_api_key_state(&id, "key-two", &SecretState::Inactive, opts)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_REQUEST", "{opts:?}");
        assert!(!e.to_string().contains("x-evil"), "{e}");
    }
    for bad_id in ["", "ocid1\r\nHost: evil", "a\0b"] {
        let e = c
            .get_api_key(bad_id, &CallOptions::default())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_REQUEST", "{bad_id:?}");
    }
    let e = c
        .set_api_key_state(
            &id,
            "key two",
            &SecretState::Active,
            &CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_KEY");
    // Nothing reached the key.
    assert_eq!(cp.state(&id, "key-two"), "ACTIVE");
}
