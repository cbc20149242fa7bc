//! Unit tests of the signer and verifier (the shared vectors run in
//! `tests/signing_vectors.rs`).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::*;

fn keys() -> Value {
    serde_json::from_str(include_str!("../../../../tests/vectors/signing/keys.json")).unwrap()
}

fn key(name: &str) -> (String, Option<String>, String) {
    let k = &keys()["keys"][name];
    (
        k["private_key_pem"].as_str().unwrap().to_string(),
        k["passphrase"].as_str().map(str::to_string),
        k["fingerprint"].as_str().unwrap().to_string(),
    )
}

const KEY_ID_PREFIX: &str = "ocid1.tenancy.oc1..aaaa/ocid1.user.oc1..bbbb/";

fn signer() -> Signer {
    let (pem, _, fp) = key("rsa2048-pkcs1");
    Signer::from_pem(&format!("{KEY_ID_PREFIX}{fp}"), &pem, None).unwrap()
}

fn now() -> Timestamp {
    Timestamp::parse_rfc3339("2026-01-21T10:00:00Z").unwrap()
}

fn received<'a>(
    method: &'a str,
    signed: &'a SignedRequest,
    extra: &[(&'a str, &'a str)],
    body: &'a [u8],
) -> ReceivedRequest<'a> {
    let after_scheme = &signed.url[signed.url.find("://").unwrap() + 3..];
    let target = &after_scheme[after_scheme.find('/').unwrap()..];
    let mut headers: Vec<(&str, &str)> = extra.to_vec();
    headers.extend(signed.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    ReceivedRequest {
        method,
        target,
        headers,
        body,
    }
}

fn verify(req: &ReceivedRequest<'_>, s: &Signer, at: Timestamp) -> Result<Verified, VerifyError> {
    let key = VerifyingKey::from_pem(&s.public_key_pem()).unwrap();
    let id = s.key_id().to_string();
    verify_request(req, &VerifyOptions::default(), at, |k| {
        (k == id).then_some(key)
    })
}

#[test]
fn get_adds_date_and_host_and_verifies() {
    let s = signer();
    let url =
        "https://generativeai.us-chicago-1.oci.oraclecloud.com/20231130/apikeys?compartmentId=x y";
    let signed = s
        .sign(
            &RequestParts::new("GET", url),
            &SignOptions::default(),
            now(),
        )
        .unwrap();
    assert_eq!(
        signed.url,
        "https://generativeai.us-chicago-1.oci.oraclecloud.com/20231130/apikeys?compartmentId=x%20y"
    );
    let names: Vec<&str> = signed.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["date", "host", "authorization"]);
    assert_eq!(signed.header("date"), Some("Wed, 21 Jan 2026 10:00:00 GMT"));
    assert!(signed.authorization().starts_with(
        "Signature version=\"1\",headers=\"date (request-target) host\",keyId=\"ocid1.tenancy"
    ));
    let v = verify(&received("GET", &signed, &[], b""), &s, now()).unwrap();
    assert_eq!(v.signed_headers, ["date", "(request-target)", "host"]);
    assert_eq!(v.date.as_millis(), now().as_millis());
}

#[test]
fn body_methods_sign_body_headers_even_when_empty() {
    let s = signer();
    for method in ["POST", "put", "PATCH"] {
        let req = RequestParts::new(method, "https://h.example/x");
        let signed = s.sign(&req, &SignOptions::x_date(), now()).unwrap();
        assert_eq!(signed.header("content-length"), Some("0"));
        assert_eq!(
            signed.header("x-content-sha256"),
            Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
        assert!(signed.authorization().contains(
            "headers=\"x-date (request-target) host content-type content-length x-content-sha256\""
        ));
        assert!(
            signed
                .signing_string
                .contains(&format!("(request-target): {} /x", method.to_lowercase()))
        );
        verify(&received(method, &signed, &[], b""), &s, now()).unwrap();
    }
}

#[test]
fn caller_headers_are_used_and_checked() {
    let s = signer();
    let body = br#"{"a":1}"#;
    let req = RequestParts::new("POST", "https://h.example/x")
        .header("Content-Type", "application/merge-patch+json")
        .header("Content-Length", "7")
        .header("opc-request-id", "abc")
        .body(body);
    let signed = s.sign(&req, &SignOptions::default(), now()).unwrap();
    assert_eq!(
        signed.header("content-type"),
        None,
        "caller's value is signed, not replaced"
    );
    assert_eq!(signed.header("content-length"), None);
    assert!(
        signed
            .signing_string
            .contains("content-type: application/merge-patch+json")
    );
    let extra = [
        ("content-type", "application/merge-patch+json"),
        ("content-length", "7"),
    ];
    verify(&received("POST", &signed, &extra, body), &s, now()).unwrap();

    let wrong_len = RequestParts::new("POST", "https://h/x")
        .header("content-length", "3")
        .body(body);
    let wrong_hash = RequestParts::new("PUT", "https://h/x")
        .header("x-content-sha256", "AAAA")
        .body(body);
    let twice = RequestParts::new("GET", "https://h/x")
        .header("date", "a")
        .header("Date", "b");
    let xdate_unsigned =
        RequestParts::new("GET", "https://h/x").header("x-date", "Wed, 21 Jan 2026 10:00:00 GMT");
    let injected = RequestParts::new("GET", "https://h/x").header("x-a", "1\r\nhost: evil");
    let empty_date = RequestParts::new("GET", "https://h/x").header("date", " ");
    for bad in [
        wrong_len,
        wrong_hash,
        twice,
        xdate_unsigned,
        injected,
        empty_date,
    ] {
        let e = s.sign(&bad, &SignOptions::default(), now()).unwrap_err();
        assert_eq!(e.code(), "INVALID_REQUEST", "{e}");
        assert!(!e.to_string().contains("evil"));
    }
}

#[test]
fn exclude_body_signs_generic_headers_only() {
    let s = signer();
    let req = RequestParts::new("PUT", "https://objectstorage.example/n/ns/b/bk/o/a")
        .header("content-type", "text/plain")
        .body(b"hello");
    let opts = SignOptions {
        exclude_body: true,
        ..SignOptions::default()
    };
    let signed = s.sign(&req, &opts, now()).unwrap();
    let names: Vec<&str> = signed.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["date", "host", "authorization"]);
    let vopts = VerifyOptions {
        require_body_headers: false,
        ..VerifyOptions::default()
    };
    let key = VerifyingKey::from_pem(&s.public_key_pem()).unwrap();
    let r = received("PUT", &signed, &[], b"hello");
    verify_request(&r, &vopts, now(), |_| Some(key.clone())).unwrap();
    let e = verify(&r, &s, now()).unwrap_err();
    assert_eq!(e.kind, VerifyErrorKind::MissingSignedHeader);
}

#[test]
fn verifier_names_each_failure() {
    use VerifyErrorKind as K;
    let s = signer();
    let body = b"{}";
    let signed = s
        .sign(
            &RequestParts::new("POST", "https://h/x?a=1").body(body),
            &SignOptions::default(),
            now(),
        )
        .unwrap();
    let ok = received("POST", &signed, &[], body);
    verify(&ok, &s, now().plus(Duration::from_secs(299))).unwrap();

    let kind = |r: &ReceivedRequest<'_>, at: Timestamp| verify(r, &s, at).unwrap_err().kind;
    assert_eq!(
        kind(&ok, now().plus(Duration::from_secs(301))),
        K::ClockSkew
    );
    assert_eq!(
        kind(&ok, now().minus(Duration::from_secs(301))),
        K::ClockSkew
    );
    assert_eq!(
        kind(
            &ReceivedRequest {
                body: b"{ }",
                ..ok.clone()
            },
            now()
        ),
        K::BodyHashMismatch
    );
    assert_eq!(
        kind(
            &ReceivedRequest {
                target: "/x?a=2",
                ..ok.clone()
            },
            now()
        ),
        K::BadSignature
    );
    assert_eq!(
        kind(
            &ReceivedRequest {
                method: "PUT",
                ..ok.clone()
            },
            now()
        ),
        K::BadSignature
    );
    let without = |name: &str| ReceivedRequest {
        headers: ok
            .headers
            .iter()
            .filter(|(n, _)| *n != name)
            .copied()
            .collect(),
        ..ok.clone()
    };
    assert_eq!(
        kind(&without("authorization"), now()),
        K::MissingAuthorization
    );
    assert_eq!(kind(&without("host"), now()), K::HeaderNotPresent);
    let mut with_xdate = ok.clone();
    with_xdate
        .headers
        .push(("x-date", "Wed, 21 Jan 2026 10:00:00 GMT"));
    assert_eq!(kind(&with_xdate, now()), K::MissingSignedHeader);
    let mut bad_len = without("content-length");
    bad_len.headers.push(("content-length", "3"));
    assert_eq!(kind(&bad_len, now()), K::ContentLengthMismatch);

    let auth = signed.authorization();
    let swap = |from: &str, to: &str| auth.replace(from, to);
    let cases = [
        (swap("rsa-sha256", "hmac-sha256"), K::UnsupportedAlgorithm),
        (
            swap("version=\"1\"", "version=\"2\""),
            K::UnsupportedVersion,
        ),
        (swap(" content-length", ""), K::MissingSignedHeader),
        (swap("Signature ", "Bearer "), K::MalformedAuthorization),
        (
            swap("signature=\"", "signature=\"!"),
            K::MalformedAuthorization,
        ),
        (swap("keyId=\"ocid1", "keyId=\"x"), K::UnknownKey),
        (format!("{auth},keyId=\"x\""), K::MalformedAuthorization),
    ];
    for (value, expected) in cases {
        let mut r = without("authorization");
        r.headers.push(("authorization", &value));
        assert_eq!(kind(&r, now()), expected, "{value}");
    }
}

#[test]
fn authorization_parameters_in_any_order_and_case() {
    let s = signer();
    let signed = s
        .sign(
            &RequestParts::new("POST", "https://h/x"),
            &SignOptions::x_date(),
            now(),
        )
        .unwrap();
    let p = SignatureParams::parse(signed.authorization()).unwrap();
    let b64 = &p.signature;
    // oci-common's order and its mixed-case header names.
    let node = format!(
        "Signature version=\"1\",keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"x-date (request-target) host Content-Type Content-Length x-content-sha256\",signature=\"{b64}\"",
        s.key_id()
    );
    let mut r = received("POST", &signed, &[], b"");
    r.headers.retain(|(n, _)| *n != "authorization");
    r.headers.push(("Authorization", &node));
    verify(&r, &s, now()).unwrap();
}

#[test]
fn weak_keys_are_refused_by_the_verifier_by_default() {
    let reference: Value = serde_json::from_str(include_str!(
        "../../../../tests/vectors/signing/oci-reference.json"
    ))
    .unwrap();
    let k = VerifyingKey::from_pem(reference["public_key_pem"].as_str().unwrap()).unwrap();
    assert_eq!(k.bits(), 1024);
    assert_eq!(
        k.fingerprint(),
        "73:61:a2:21:67:e0:df:be:7e:4b:93:1e:15:98:a5:b7"
    );
    let v = &reference["vectors"][0];
    let headers = vec![
        ("date", v["headers"]["date"].as_str().unwrap()),
        (
            "host",
            v["expected_added_headers"]["host"].as_str().unwrap(),
        ),
        (
            "authorization",
            v["expected_authorization"].as_str().unwrap(),
        ),
    ];
    let url = v["url"].as_str().unwrap();
    let req = ReceivedRequest {
        method: "GET",
        target: &url[url.find("/2016").unwrap()..],
        headers,
        body: b"",
    };
    let at = parse_http_date(v["headers"]["date"].as_str().unwrap()).unwrap();
    let e = verify_request(&req, &VerifyOptions::default(), at, |_| Some(k.clone())).unwrap_err();
    assert_eq!(e.kind, VerifyErrorKind::WeakKey);
    let legacy = VerifyOptions {
        min_key_bits: 1024,
        ..VerifyOptions::default()
    };
    verify_request(&req, &legacy, at, |_| Some(k.clone())).unwrap();
}

#[test]
fn debug_shows_key_id_and_fingerprint_only() {
    let s = signer();
    let (pem, _, fp) = key("rsa2048-pkcs1");
    let dbg = format!("{s:?}");
    assert!(dbg.contains(KEY_ID_PREFIX) && dbg.contains(&fp), "{dbg}");
    assert!(
        !dbg.contains("BEGIN") && !dbg.contains(&pem[40..80]),
        "{dbg}"
    );

    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2ln";
    let session = Signer::session(&format!("{token}\n"), &pem, None).unwrap();
    assert_eq!(session.key_id(), format!("ST${token}"));
    assert!(session.is_session());
    let dbg = format!("{session:?}");
    assert!(
        !dbg.contains(token) && dbg.contains("session token, 45 chars"),
        "{dbg}"
    );
}

#[test]
fn signer_is_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Signer>();
    assert_send_sync::<VerifyingKey>();
}

#[test]
fn fingerprint_mismatch_is_reported_and_signing_continues() {
    let (pem, _, fp) = key("rsa2048-pkcs8");
    let s = Signer::from_pem(&format!("{KEY_ID_PREFIX}{}", fp.to_uppercase()), &pem, None).unwrap();
    assert_eq!(s.fingerprint_mismatch(), None, "comparison ignores case");
    let other = "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";
    let s = Signer::from_pem(&format!("{KEY_ID_PREFIX}{other}"), &pem, None).unwrap();
    assert_eq!(s.fingerprint_mismatch(), Some((other, fp.as_str())));
    assert!(
        s.key_id().ends_with(other),
        "the configured keyId is sent verbatim"
    );
    assert_eq!(s.fingerprint(), fp);
    assert_eq!(s.key_bits(), 2048);
    let bad_ids = ["", "a b", "a\"b", "a\\b", "a\nb", "ключ"];
    for id in bad_ids {
        assert_eq!(
            Signer::from_pem(id, &pem, None).unwrap_err().code(),
            "INVALID_CONFIG",
            "{id:?}"
        );
    }
    let e = Signer::session(" \n", &pem, None).unwrap_err();
    assert_eq!(e.code(), "INVALID_CONFIG");
    let e = Signer::session("a\"b", &pem, None).unwrap_err();
    assert_eq!(e.code(), "INVALID_CONFIG");
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("twinkey-signer-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn from_config_builds_user_and_session_signers() {
    let dir = TempDir::new("config");
    let (pem, pass, fp) = key("rsa2048-pkcs8-aes256");
    let key_file = dir.write("key.pem", &pem);
    let token_file = dir.write("token", "  the.session.token\n");
    let config = format!(
        "[DEFAULT]\ntenancy=ocid1.tenancy.oc1..t\nkey_file={key_file}\npass_phrase={}\nregion=us-chicago-1\n\n\
         [USER]\nuser=ocid1.user.oc1..u\nfingerprint={fp}\n\n\
         [SESSION]\nsecurity_token_file={token_file}\nregion=eu-frankfurt-1\n\n\
         [WRONGFP]\nuser=ocid1.user.oc1..u\nfingerprint=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\n\n\
         [NOUSER]\nfingerprint={fp}\n\n[NOKEY]\nkey_file=\nuser=u\nfingerprint=f\n",
        pass.unwrap()
    );
    let path = dir.write("config", &config);

    let user = Signer::from_config(&path, "USER").unwrap();
    assert_eq!(
        user.key_id(),
        format!("ocid1.tenancy.oc1..t/ocid1.user.oc1..u/{fp}")
    );
    assert_eq!(user.region(), Some("us-chicago-1"));
    assert_eq!(user.fingerprint_mismatch(), None);

    let session = Signer::from_config(&path, "SESSION").unwrap();
    assert_eq!(session.key_id(), "ST$the.session.token");
    assert_eq!(session.region(), Some("eu-frankfurt-1"));

    let wrong = Signer::from_config(&path, "WRONGFP").unwrap();
    assert_eq!(
        wrong.fingerprint_mismatch().map(|(c, _)| c),
        Some("00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff")
    );

    for (profile, needle) in [
        ("NOUSER", "missing user"),
        ("NOKEY", "missing key_file"),
        ("MISSING", "not found"),
    ] {
        let e = Signer::from_config(&path, profile).unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert!(e.to_string().contains(needle), "{e}");
    }
    let e = Signer::from_config(dir.0.join("nope"), "USER").unwrap_err();
    assert_eq!(e.code(), "INVALID_CONFIG");

    let no_pass = config.replace("pass_phrase=", "#pass_phrase=");
    let path = dir.write("config2", &no_pass);
    assert_eq!(
        Signer::from_config(&path, "USER").unwrap_err().code(),
        "BAD_PASSPHRASE"
    );
}
