//! An in-process emulator with one generated key, a relay in front of it on 127.0.0.1:0, a
//! token key ring and a manual clock for the tokens; helpers that check nothing secret leaks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use twinkey::token::{Algorithm, KeyRing, Scope, SystemRandom, TokenKey, TokenRequest};
use twinkey::{Clock, Engine, EngineOptions, ManualClock, SecretState, SystemClock};
use twinkey_client::relay::{Relay, RelayOptions, RelayServer};
use twinkey_emulator::{Emulator, KeySpec, Server, StoredKey};

pub const MODEL: &str = "openai.gpt-oss-120b";
pub const ORIGIN: &str = "http://127.0.0.1:5173";

pub struct RelayEnv {
    pub emu: Emulator,
    pub upstream: Server,
    pub key: StoredKey,
    pub relay: RelayServer,
    pub ring_json: String,
    pub clock: ManualClock,
    pub http: reqwest::Client,
}

/// The token signing keys: an Ed25519 key `k1` (signs) and an HS256 key `h1`.
pub fn ring() -> (KeyRing, String) {
    let mut ring = KeyRing::new();
    ring.insert(TokenKey::generate("k1", Algorithm::EdDsa, &SystemRandom).unwrap())
        .unwrap();
    ring.insert(TokenKey::generate("h1", Algorithm::Hs256, &SystemRandom).unwrap())
        .unwrap();
    let json = ring.to_jwks(true).to_string();
    (ring, json)
}

impl RelayEnv {
    pub async fn start() -> RelayEnv {
        RelayEnv::start_with(|o| o).await
    }

    /// Like [`RelayEnv::start`], with the relay's options changed by `tune`.
    pub async fn start_with(tune: impl FnOnce(RelayOptions) -> RelayOptions) -> RelayEnv {
        RelayEnv::start_with_engine(EngineOptions::default(), tune).await
    }

    /// Like [`RelayEnv::start_with`], the relay's engine made with `engine_options`.
    pub async fn start_with_engine(
        engine_options: EngineOptions,
        tune: impl FnOnce(RelayOptions) -> RelayOptions,
    ) -> RelayEnv {
        let emu = Emulator::default();
        let key = emu.generate_key(&KeySpec::default()).unwrap();
        let upstream = emu.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let engine = Engine::new(key.key.clone(), engine_options).unwrap();
        let (ring, ring_json) = ring();
        let clock = ManualClock::new(SystemClock.now());
        let options = RelayOptions::new(upstream.base_url())
            .cors_origins([ORIGIN])
            .clock(Arc::new(clock.clone()));
        let relay = Relay::new(engine, ring, tune(options))
            .unwrap()
            .bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        RelayEnv {
            emu,
            upstream,
            key,
            relay,
            ring_json,
            clock,
            http,
        }
    }

    /// A ring equal to the relay's (same keys), for minting.
    pub fn minting_ring(&self) -> KeyRing {
        KeyRing::from_json(&self.ring_json).unwrap()
    }

    pub fn mint(&self, scope: Scope) -> String {
        self.mint_with(TokenRequest::new("user-1", scope))
    }

    pub fn mint_with(&self, request: TokenRequest) -> String {
        self.minting_ring()
            .mint(&request, self.clock.now(), &SystemRandom)
            .unwrap()
            .token
    }

    pub fn chat_scope() -> Scope {
        Scope::new([MODEL], ["chat.completions", "responses", "models"])
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.relay.url())
    }

    pub fn key_id(&self) -> String {
        self.key.id().to_string()
    }

    pub fn service_sets(&self, secret: &str, state: SecretState) {
        self.emu
            .store()
            .set_state(&self.key_id(), secret, &state)
            .unwrap();
    }

    /// `(requests, accepted, rejected)` the emulator saw for a secret.
    pub fn counts(&self, secret: &str) -> (u64, u64, u64) {
        self.emu.counters().snapshot().of(&self.key_id(), secret)
    }

    pub fn total_upstream_requests(&self) -> u64 {
        self.counts("key-one").0 + self.counts("key-two").0
    }

    /// Every secret value that must never appear in an answer: both OCI secrets and the
    /// token signing keys' private members.
    pub fn forbidden(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .key
            .key
            .secrets()
            .iter()
            .map(|s| s.value.as_ref().unwrap().expose().to_string())
            .collect();
        let jwks: Value = serde_json::from_str(&self.ring_json).unwrap();
        for k in jwks["keys"].as_array().unwrap() {
            for m in ["d", "k"] {
                if let Some(v) = k[m].as_str() {
                    out.push(v.to_string());
                }
            }
        }
        out
    }

    /// Sends a request and returns status, headers and the whole body, after checking that no
    /// secret appears in the headers or the body.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map(|b| b.to_vec());
        let answer = Answer {
            status,
            headers,
            body,
        };
        self.assert_clean(&answer);
        answer
    }

    pub fn assert_clean(&self, a: &Answer) {
        let mut text = format!("{:?}", a.headers);
        if let Ok(b) = &a.body {
            text.push_str(&String::from_utf8_lossy(b));
        }
        for secret in self.forbidden() {
            assert!(!text.contains(&secret), "a secret leaked into an answer");
        }
    }

    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The body, or the error that cut it.
    pub body: Result<Vec<u8>, reqwest::Error>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(self.body.as_ref().unwrap()).unwrap()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.body.as_ref().unwrap()).into_owned()
    }

    /// The relay's own error code: the header and the OpenAI-shaped body agree.
    pub fn code(&self) -> String {
        let code = self.header("x-twinkey-error").unwrap_or("-").to_string();
        let body: Value = serde_json::from_slice(self.body.as_ref().unwrap())
            .unwrap_or_else(|_| panic!("{} not JSON: {}", self.status, self.text()));
        assert!(
            code != "-",
            "{} without x-twinkey-error: {}",
            self.status,
            self.text()
        );
        assert_eq!(body["error"]["code"], code.as_str());
        assert_eq!(body["error"]["type"], code.to_ascii_lowercase());
        assert!(body["error"]["message"].is_string());
        code
    }
}
