//! Control-plane test environment: an in-process emulator on 127.0.0.1:0 with a registered
//! principal, a `ControlPlaneClient` signed by it, and fast retry/probe policies (no waiting
//! in tests; nothing is timed).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use twinkey::control::RetryPolicy;
use twinkey::rotation::ProbePolicy;
use twinkey::signer::Signer;
use twinkey::{ApiKey, SecretState};
use twinkey_client::ControlPlaneClient;
use twinkey_emulator::control::generate_rsa_2048;
use twinkey_emulator::{Emulator, EmulatorOptions, KeySpec, Server, StoredKey};

pub const TENANCY: &str = "ocid1.tenancy.oc1..aaaaaaaaclienttest";
pub const USER: &str = "ocid1.user.oc1..aaaaaaaaclienttest";

pub struct Cp {
    pub emu: Emulator,
    pub server: Server,
    pub signer: Signer,
    pub client: ControlPlaneClient,
    pub dir: PathBuf,
}

/// Retries without waiting more than a few milliseconds.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(1),
        jitter: Duration::from_millis(1),
        cap: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

/// Probes every few milliseconds, for up to a minute (a loaded machine may be slow).
pub fn fast_probe() -> ProbePolicy {
    ProbePolicy {
        timeout: Duration::from_secs(60),
        first_wait: Duration::from_millis(5),
        max_wait: Duration::from_millis(50),
    }
}

impl Cp {
    pub async fn start() -> Cp {
        Self::with(EmulatorOptions::default()).await
    }

    pub async fn with(options: EmulatorOptions) -> Cp {
        let emu = Emulator::new(options);
        let key = generate_rsa_2048().unwrap();
        let key_id = emu
            .principals()
            .add_user(TENANCY, USER, key.verifying_key.clone());
        let signer = Signer::from_pem(&key_id, &key.private_pem, None).unwrap();
        let server = emu.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let client = ControlPlaneClient::new(signer.clone(), &server.url())
            .unwrap()
            .with_retry_policy(fast_retries());
        let dir = std::env::temp_dir().join(format!(
            "twinkey-client-test-{}-{}",
            std::process::id(),
            twinkey_client::control::request_id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Cp {
            emu,
            server,
            signer,
            client,
            dir,
        }
    }

    /// A key held by the emulator, both secrets ACTIVE, with its values.
    pub fn key(&self) -> StoredKey {
        self.emu
            .generate_key(&KeySpec {
                compartment_id: Some(TENANCY.into()),
                ..KeySpec::default()
            })
            .unwrap()
    }

    /// A key in the documented starting state: key-one ACTIVE, key-two INACTIVE.
    pub fn documented_key(&self) -> (String, ApiKey) {
        let k = self.key();
        let id = k.id().to_string();
        self.emu
            .store()
            .set_state(&id, "key-two", &SecretState::Inactive)
            .unwrap();
        (id, k.key)
    }

    /// A secret's state as the control plane holds it.
    pub fn state(&self, id: &str, secret: &str) -> String {
        let k = self.emu.store().get(id).unwrap().key;
        k.secret(k.slot_of(secret).unwrap())
            .state
            .as_str()
            .to_string()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Inference status with a bearer value.
    pub async fn infer(&self, value: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/chat/completions", self.server.base_url()))
            .bearer_auth(value)
            .json(&serde_json::json!({"model": "openai.gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

impl Drop for Cp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
