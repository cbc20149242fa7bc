//! Shared helpers: an emulator with one generated key, served on 127.0.0.1:0.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use twinkey::{ManualClock, Slot, Timestamp};
use twinkey_emulator::{Emulator, EmulatorOptions, KeySpec, Server, StoredKey};

/// Both documented OpenAI-compatible bases.
pub const BASES: [&str; 2] = ["/openai/v1", "/20231130/actions/v1"];

/// A model the emulator serves.
pub const MODEL: &str = "openai.gpt-oss-120b";

/// Start of the manual clock in tests that move time.
pub const T0: Timestamp = Timestamp::from_millis(1_800_000_000_000);

pub struct Env {
    pub emu: Emulator,
    pub server: Server,
    pub key: StoredKey,
    pub http: reqwest::Client,
}

impl Env {
    pub async fn start() -> Env {
        Self::start_with(EmulatorOptions::default()).await
    }

    /// An emulator on a manual clock, with a propagation delay.
    pub async fn manual(propagation: Duration) -> (Env, ManualClock) {
        let clock = ManualClock::new(T0);
        let env = Self::start_with(EmulatorOptions {
            propagation,
            clock: Arc::new(clock.clone()),
            ..EmulatorOptions::default()
        })
        .await;
        (env, clock)
    }

    pub async fn start_with(options: EmulatorOptions) -> Env {
        let emu = Emulator::new(options);
        let key = emu.generate_key(&KeySpec::default()).unwrap();
        let server = emu.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Env {
            emu,
            server,
            key,
            http,
        }
    }

    pub fn secret(&self, slot: Slot) -> String {
        self.key
            .key
            .secret(slot)
            .value
            .as_ref()
            .unwrap()
            .expose()
            .to_string()
    }

    pub fn one(&self) -> String {
        self.secret(Slot::One)
    }

    pub fn two(&self) -> String {
        self.secret(Slot::Two)
    }

    pub fn key_id(&self) -> String {
        self.key.id().to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// `POST base/path` with a JSON body and an optional bearer secret.
    pub async fn post(&self, path: &str, secret: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(s) = secret {
            req = req.bearer_auth(s);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, secret: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(s) = secret {
            req = req.bearer_auth(s);
        }
        req.send().await.unwrap()
    }

    /// An admin call; returns status and JSON body (Null when empty).
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.server.admin_url()));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sets a secret's state through the admin API.
    pub async fn set_state(&self, secret: &str, state: &str) -> (u16, Value) {
        let path = format!("/keys/{}/setstate", self.key_id());
        self.admin(
            reqwest::Method::POST,
            &path,
            Some(json!({"keyName": secret, "state": state})),
        )
        .await
    }
}

pub fn chat_body(prompt: &str, stream: bool) -> Value {
    json!({"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": stream})
}

pub fn responses_body(prompt: &str, stream: bool) -> Value {
    json!({"model": MODEL, "input": prompt, "stream": stream})
}

/// Checks an OCI error response: status, JSON `{code, message}`, `opc-request-id`.
pub async fn expect_oci_error(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let rid = resp
        .headers()
        .get("opc-request-id")
        .expect("opc-request-id")
        .to_str()
        .unwrap()
        .to_string();
    assert!(!rid.is_empty());
    let ct = resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

/// The `(event, data)` pairs of an SSE body.
pub fn sse_events(text: &str) -> Vec<(Option<String>, String)> {
    let mut m = twinkey::SseMonitor::new(twinkey::StreamKind::Auto);
    m.feed(text.as_bytes())
        .into_iter()
        .map(|e| (e.event, e.data))
        .collect()
}

/// Reads a body chunk by chunk until it ends or fails: (bytes read, whether it failed).
pub async fn read_until_end(mut resp: reqwest::Response) -> (String, bool) {
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => out.extend_from_slice(&c),
            Ok(None) => return (String::from_utf8(out).unwrap(), false),
            Err(_) => return (String::from_utf8(out).unwrap(), true),
        }
    }
}
