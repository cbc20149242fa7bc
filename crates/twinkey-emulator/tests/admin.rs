//! The admin surface: seeding keys, reading them back without values, counts, shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, chat_body};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn generated_keys_work_at_once_and_list_without_values() {
    let env = Env::start().await;
    let spec = json!({"displayName": "ci", "keyNames": ["primary", "standby"], "region": "eu-frankfurt-1"});
    let (status, key) = env.admin(Method::POST, "/keys", Some(spec)).await;
    assert_eq!(status, 200, "{key}");
    assert_eq!(key["displayName"], "ci");
    assert!(
        key["id"]
            .as_str()
            .unwrap()
            .starts_with("ocid1.generativeaiapikey.oc1.eu-frankfurt-1.")
    );
    let secrets: Vec<String> = key["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(key["keys"][1]["keyName"], "standby");
    for s in &secrets {
        let resp = env
            .post(
                "/openai/v1/chat/completions",
                Some(s),
                &chat_body("hi", false),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    let (status, list) = env.admin(Method::GET, "/keys", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let text = list.to_string();
    for s in secrets.iter().chain([env.one(), env.two()].iter()) {
        assert!(
            !text.contains(s.as_str()),
            "a listed key shows a secret value"
        );
    }
    assert!(text.contains("sk-..."), "masks are shown");
}

#[tokio::test]
async fn documents_with_values_are_seeded_and_ids_are_unique() {
    let env = Env::start().await;
    let doc = json!({
        "id": "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaatest",
        "displayName": "given",
        "keys": [
            {"keyName": "key-one", "key": "sk-given-one-111111", "state": "ACTIVE"},
            {"keyName": "key-two", "key": "sk-given-two-222222", "state": "INACTIVE"}
        ]
    });
    let (status, _) = env.admin(Method::POST, "/keys", Some(doc.clone())).await;
    assert_eq!(status, 200);
    let body = chat_body("x", false);
    let chat = |s: &'static str| env.post("/openai/v1/chat/completions", Some(s), &body);
    assert_eq!(chat("sk-given-one-111111").await.status(), 200);
    assert_eq!(chat("sk-given-two-222222").await.status(), 401);
    let (status, body) = env.admin(Method::POST, "/keys", Some(doc)).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("Conflict")));

    let resp = env
        .http
        .get(format!(
            "{}/keys/ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaatest",
            env.server.admin_url()
        ))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("etag"));
    let v: Value = resp.json().await.unwrap();
    assert!(v["keys"][0].get("key").is_none());

    let (status, _) = env
        .admin(
            Method::DELETE,
            "/keys/ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaatest",
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(chat("sk-given-one-111111").await.status(), 401);
}

#[tokio::test]
async fn counts_per_secret_and_reset() {
    let env = Env::start().await;
    for _ in 0..3 {
        env.post(
            "/openai/v1/chat/completions",
            Some(&env.one()),
            &chat_body("x", false),
        )
        .await;
    }
    env.post(
        "/openai/v1/chat/completions",
        Some(&env.two()),
        &chat_body("x", false),
    )
    .await;
    env.set_state("key-two", "REVOKED").await;
    env.post(
        "/openai/v1/chat/completions",
        Some(&env.two()),
        &chat_body("x", false),
    )
    .await;
    env.post(
        "/openai/v1/chat/completions",
        Some("sk-stranger"),
        &chat_body("x", false),
    )
    .await;
    let (_, counts) = env.admin(Method::GET, "/counts", None).await;
    assert_eq!(counts["total"], 6);
    assert_eq!(counts["unauthenticated"], 1);
    let rows = counts["secrets"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["secret"] == name).unwrap().clone();
    assert_eq!(row("key-one")["requests"], 3);
    assert_eq!(row("key-one")["accepted"], 3);
    assert_eq!(
        (
            row("key-two")["accepted"].clone(),
            row("key-two")["rejected"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(row("key-one")["keyId"], env.key_id().as_str());
    assert!(row("key-one")["lastUsed"].as_str().is_some());
    assert!(!counts.to_string().contains(&env.one()));
    assert_eq!(env.admin(Method::DELETE, "/counts", None).await.0, 204);
    assert_eq!(env.admin(Method::GET, "/counts", None).await.1["total"], 0);
}

#[tokio::test]
async fn shutdown_is_graceful_and_releases_holds() {
    let env = Env::start().await;
    env.emu
        .faults()
        .add(twinkey_emulator::Fault::hold("*"))
        .unwrap();
    let (http, url, secret) = (env.http.clone(), env.url("/openai/v1/models"), env.one());
    let held = tokio::spawn(async move {
        http.get(url)
            .bearer_auth(secret)
            .send()
            .await
            .map(|r| r.status())
    });
    env.emu.faults().wait_held(1).await;
    let addr = env.server.addr();
    env.server.shutdown().await.unwrap();
    assert_eq!(
        held.await.unwrap().unwrap(),
        200,
        "the held request was released and answered"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn the_admin_surface_answers_only_to_a_loopback_host() {
    let env = Env::start().await;
    for host in [
        "evil.example",
        "evil.example:8080",
        "127.0.0.1.evil.example",
    ] {
        let resp = env
            .http
            .get(env.url("/_emulator/keys"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{host}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "NotAllowed");
        assert!(!body.to_string().contains("sk-"));
    }
    for host in ["localhost:1", "127.0.0.1", "[::1]:9"] {
        let resp = env
            .http
            .get(env.url("/_emulator/health"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{host}");
    }
}

/// What a page a developer visits could send (a form or `text/plain` POST needs no CORS
/// preflight) is refused with 403 and changes nothing; the local tool's JSON write works.
#[tokio::test]
async fn admin_writes_refuse_what_a_browser_page_could_send() {
    let env = Env::start().await;
    let url = format!("{}/keys", env.server.admin_url());
    let spec = json!({"keyNames": ["a", "b"]}).to_string();
    let before = env.admin(Method::GET, "/keys", None).await.1["items"]
        .as_array()
        .unwrap()
        .len();
    let hostile: [&[(&str, &str)]; 6] = [
        &[("content-type", "text/plain")],
        &[("content-type", "application/x-www-form-urlencoded")],
        &[("content-type", "multipart/form-data; boundary=x")],
        &[],
        &[
            ("content-type", "application/json"),
            ("origin", "http://evil.example"),
        ],
        &[
            ("content-type", "application/json"),
            ("sec-fetch-site", "cross-site"),
        ],
    ];
    for headers in hostile {
        let mut req = env.http.post(&url).body(spec.clone());
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 403, "{headers:?}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "NotAllowed", "{headers:?}");
    }
    // A rebound DNS name arrives with its own Host.
    let resp = env
        .http
        .get(&url)
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let after = env.admin(Method::GET, "/keys", None).await.1["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "nothing was created");
    for ok in [
        None,
        Some("http://127.0.0.1:5173"),
        Some("http://localhost:3000"),
    ] {
        let mut req = env
            .http
            .post(&url)
            .header("content-type", "application/json; charset=utf-8")
            .body(spec.clone());
        if let Some(o) = ok {
            req = req
                .header("origin", o)
                .header("sec-fetch-site", "same-site");
        }
        assert_eq!(req.send().await.unwrap().status(), 200, "{ok:?}");
    }
}
