//! An in-process emulator on 127.0.0.1:0 with one generated key, and a client on its engine.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use twinkey::{Engine, EngineOptions, Event, SecretState};
use twinkey_client::InferenceClient;
use twinkey_emulator::{Emulator, KeySpec, Server, StoredKey};

pub const MODEL: &str = "openai.gpt-oss-120b";

pub struct Env {
    pub emu: Emulator,
    pub server: Server,
    pub key: StoredKey,
    pub client: InferenceClient,
    pub events: Arc<Mutex<Vec<Event>>>,
}

impl Env {
    pub async fn start() -> Env {
        let emu = Emulator::default();
        let key = emu.generate_key(&KeySpec::default()).unwrap();
        let server = emu.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let engine = Engine::new(key.key.clone(), EngineOptions::default()).unwrap();
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let sink = events.clone();
        engine.subscribe(move |e| sink.lock().unwrap().push(e.clone()));
        let client = InferenceClient::new(engine, &server.base_url()).unwrap();
        Env {
            emu,
            server,
            key,
            client,
            events,
        }
    }

    pub fn key_id(&self) -> String {
        self.key.id().to_string()
    }

    /// Changes a secret's state on the emulator (what the service knows), not in the engine.
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

    pub fn event_kinds(&self) -> Vec<&'static str> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.kind.as_str())
            .collect()
    }

    /// Every secret value of the key, to check that none leaks into output.
    pub fn secret_values(&self) -> Vec<String> {
        self.key
            .key
            .secrets()
            .iter()
            .map(|s| s.value.as_ref().unwrap().expose().to_string())
            .collect()
    }
}

pub fn chat(prompt: &str, stream: bool) -> Value {
    json!({"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": stream})
}

pub fn responses(prompt: &str, stream: bool) -> Value {
    json!({"model": MODEL, "input": prompt, "stream": stream})
}
