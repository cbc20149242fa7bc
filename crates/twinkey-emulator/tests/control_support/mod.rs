//! Shared helpers for the control-plane tests: an emulator with a registered principal, and
//! signed requests made with the core signer.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use twinkey::signer::{RequestParts, SignOptions, Signer};
use twinkey::{Clock, ManualClock, SystemClock, Timestamp};
use twinkey_emulator::control::generate_rsa_2048;
use twinkey_emulator::{Emulator, EmulatorOptions, Server};

pub const TENANCY: &str = "ocid1.tenancy.oc1..aaaaaaaatest";
pub const USER: &str = "ocid1.user.oc1..aaaaaaaatest";
pub const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaaaaacompa";
pub const OTHER_COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaaaaacompb";
pub const MODEL: &str = "openai.gpt-oss-120b";

pub struct Cp {
    pub emu: Emulator,
    pub server: Server,
    pub signer: Signer,
    pub http: reqwest::Client,
    pub clock: Arc<dyn Clock>,
}

pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub request_id: Option<String>,
    pub next_page: Option<String>,
    pub body: Value,
    pub text: String,
}

impl Cp {
    pub async fn start() -> Cp {
        Self::start_with(EmulatorOptions::default(), Arc::new(SystemClock)).await
    }

    pub async fn manual(propagation: Duration) -> (Cp, ManualClock) {
        let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
        let cp = Self::start_with(
            EmulatorOptions {
                propagation,
                clock: Arc::new(clock.clone()),
                ..EmulatorOptions::default()
            },
            Arc::new(clock.clone()),
        )
        .await;
        (cp, clock)
    }

    pub async fn start_with(options: EmulatorOptions, clock: Arc<dyn Clock>) -> Cp {
        let emu = Emulator::new(options);
        let key = generate_rsa_2048().unwrap();
        let key_id = emu
            .principals()
            .add_user(TENANCY, USER, key.verifying_key.clone());
        let signer = Signer::from_pem(&key_id, &key.private_pem, None).unwrap();
        let server = emu.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Cp {
            emu,
            server,
            signer,
            http,
            clock,
        }
    }

    /// Sends `method path` with an optional JSON body, signed by `signer` at `at` (default
    /// now), with extra headers (signed when they are in the signed set).
    pub async fn send_as(
        &self,
        signer: &Signer,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
        at: Option<Timestamp>,
    ) -> Answer {
        let url = format!("{}{path}", self.server.url());
        let mut parts = RequestParts::new(method, &url);
        if body.is_some() || matches!(method, "POST" | "PUT") {
            parts = parts.header("content-type", "application/json");
        }
        for (n, v) in headers {
            parts = parts.header(n, v);
        }
        if let Some(b) = body {
            parts = parts.body(b.as_bytes());
        }
        let signed = signer
            .sign(
                &parts,
                &SignOptions::default(),
                at.unwrap_or_else(|| self.clock.now()),
            )
            .unwrap();
        let mut req = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            &signed.url,
        );
        for (n, v) in parts.headers.iter().chain(
            signed
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect::<Vec<_>>()
                .iter(),
        ) {
            if !n.eq_ignore_ascii_case("host") {
                req = req.header(*n, *v);
            }
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        Self::answer(req.send().await.unwrap()).await
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Answer {
        self.send_as(&self.signer, method, path, body, headers, None)
            .await
    }

    pub async fn answer(resp: reqwest::Response) -> Answer {
        let h = |n: &str| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (etag, request_id, next_page) = (h("etag"), h("opc-request-id"), h("opc-next-page"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        Answer {
            status,
            etag,
            request_id,
            next_page,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    pub async fn create(&self, name: &str, compartment: &str) -> Answer {
        let body = json!({
            "displayName": name,
            "compartmentId": compartment,
            "keyDetails": [{"keyName": "key-one"}, {"keyName": "key-two"}],
        })
        .to_string();
        let a = self
            .send("POST", "/20231130/apikeys", Some(&body), &[])
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        a
    }

    pub async fn set_state(&self, id: &str, secret: &str, state: &str) -> Answer {
        let body = json!({"keyName": secret, "state": state}).to_string();
        self.send(
            "POST",
            &format!("/20231130/apikeys/{id}/actions/setstate"),
            Some(&body),
            &[],
        )
        .await
    }

    /// An inference request with a bearer secret: its status.
    pub async fn infer(&self, secret: &str) -> u16 {
        self.http
            .post(format!("{}/openai/v1/chat/completions", self.server.url()))
            .bearer_auth(secret)
            .json(&json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// The `key` values of a control-plane document, by secret name.
pub fn values(doc: &Value) -> Vec<(String, Option<String>)> {
    doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["keyName"].as_str().unwrap().to_string(),
                k["key"].as_str().map(str::to_string),
            )
        })
        .collect()
}

pub fn expect_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.body["code"], code, "{}", a.text);
    assert!(a.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(a.request_id.is_some());
}
