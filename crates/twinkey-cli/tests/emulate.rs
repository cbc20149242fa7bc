//! `twinkey emulate` and `twinkey demo` as a user runs them: the real binary, port 0,
//! `--init`, `--keys`, `--json`, SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use twinkey::{ApiKey, Engine, EngineOptions};
use twinkey_client::InferenceClient;

const SAFETY_NET: Duration = Duration::from_secs(120);
const BIN: &str = env!("CARGO_BIN_EXE_twinkey");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("twinkey-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

struct Emulator {
    child: Child,
    info: Value,
}

impl Emulator {
    /// Starts `twinkey emulate --listen 127.0.0.1:0 --json <args>` and reads its first line.
    fn start(args: &[&str]) -> Emulator {
        let mut child = Command::new(BIN)
            .args(["emulate", "--listen", "127.0.0.1:0", "--json"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(SAFETY_NET)
            .expect("the emulator printed its address");
        let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Emulator { child, info }
    }

    fn url(&self, key: &str) -> String {
        self.info[key].as_str().unwrap().to_string()
    }

    /// Sends SIGTERM and waits for the exit.
    fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + SAFETY_NET;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the emulator did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chat_through(key_file: &Path, base_url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine =
            Engine::new(ApiKey::load(key_file).unwrap(), EngineOptions::default()).unwrap();
        let client = InferenceClient::new(engine, base_url).unwrap();
        let body = serde_json::json!({
            "model": "openai.gpt-oss-120b",
            "messages": [{"role": "user", "content": "hi"}],
        });
        let resp = client.post_json("chat/completions", &body).await.unwrap();
        (resp.status().as_u16(), resp.secret_name().to_string())
    })
}

#[test]
fn init_writes_a_private_key_file_and_serves_it_until_sigterm() {
    let dir = temp_dir("init");
    let emu = Emulator::start(&["--init", dir.to_str().unwrap()]);
    let info = emu.info.clone();
    assert!(info["listen"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(
        !info["listen"].as_str().unwrap().ends_with(":0"),
        "the bound port is printed"
    );
    assert_eq!(info["initialized"], true);
    let key_file = PathBuf::from(info["key_file"].as_str().unwrap());
    assert_eq!(key_file, dir.join("key.json"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let key = ApiKey::load(&key_file).unwrap();
    assert!(
        key.secrets().iter().all(|s| s.value.is_some()),
        "both secret values are in the file"
    );
    let printed = info.to_string();
    for s in key.secrets() {
        assert!(
            !printed.contains(s.value.as_ref().unwrap().expose()),
            "the output shows no secret"
        );
        assert!(printed.contains(s.fingerprint()));
    }
    assert_eq!(
        chat_through(&key_file, &emu.url("base_url")),
        (200, "key-one".into())
    );
    assert_eq!(chat_through(&key_file, &emu.url("actions_base_url")).0, 200);
    assert!(emu.terminate().success());

    // A second start serves the same key, it does not overwrite it.
    let before = std::fs::read_to_string(&key_file).unwrap();
    let emu = Emulator::start(&["--init", dir.to_str().unwrap()]);
    assert_eq!(emu.info["initialized"], false);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), before);
    assert_eq!(chat_through(&key_file, &emu.url("base_url")).0, 200);
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keys_files_are_served() {
    let dir = temp_dir("keys");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("two.txt"), "sk-from-a-file-2222\n").unwrap();
    let doc = serde_json::json!({"items": [{
        "id": "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaacli",
        "keys": [
            {"keyName": "key-one", "key": "sk-inline-one-1111", "state": "REVOKED"},
            {"keyName": "key-two", "key": "file:two.txt", "state": "ACTIVE"}
        ]
    }]});
    let file = dir.join("keys.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let emu = Emulator::start(&["--keys", file.to_str().unwrap(), "--propagation-ms", "250"]);
    assert_eq!(emu.info["propagation_ms"], 250);
    assert_eq!(emu.info["keys"][0]["secrets"][0]["state"], "REVOKED");
    assert_eq!(
        chat_through(&file_key(&dir), &emu.url("base_url")),
        (200, "key-two".into())
    );
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same key as a single document, for the client to load.
fn file_key(dir: &Path) -> PathBuf {
    let path = dir.join("client-key.json");
    let doc = serde_json::json!({
        "id": "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaacli",
        "keys": [
            {"keyName": "key-one", "key": "sk-inline-one-1111", "state": "ACTIVE"},
            {"keyName": "key-two", "key": "file:two.txt", "state": "ACTIVE"}
        ]
    });
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

#[test]
fn bad_arguments_are_coded_errors() {
    let out = Command::new(BIN)
        .args(["emulate", "--listen", "0.0.0.0:0", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "INVALID_ARGUMENT");

    let dir = temp_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.json"), "{\"keys\": []}").unwrap();
    let out = Command::new(BIN)
        .args(["emulate", "--listen", "127.0.0.1:0", "--keys"])
        .arg(dir.join("bad.json"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("INVALID_KEY"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_drives_traffic_through_a_revocation_with_no_failure() {
    let dir = temp_dir("demo");
    let emu = Emulator::start(&["--init", dir.to_str().unwrap()]);
    let out = Command::new(BIN)
        .args(["demo", "--json", "--requests", "60", "--concurrency", "6"])
        .args([
            "--base-url",
            &emu.url("base_url"),
            "--admin-url",
            &emu.url("admin_url"),
        ])
        .args(["--key-file", emu.info["key_file"].as_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(report["requests"], 60);
    assert_eq!(report["succeeded"], 60);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["failovers"], 1);
    assert_eq!(report["revoked"]["secret"], "key-one");
    let extra = report["extraRoundTrips"].as_u64().unwrap();
    assert!((1..=6).contains(&extra), "{extra}");
    let counts = report["emulatorCounts"].as_array().unwrap();
    let total: u64 = counts.iter().map(|c| c["accepted"].as_u64().unwrap()).sum();
    assert_eq!(total, 60);
    assert_eq!(counts[0]["state"], "REVOKED");
    assert_eq!(counts[0]["rejected"].as_u64().unwrap(), extra);
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}
