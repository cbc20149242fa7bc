//! `twinkey token keygen|mint|verify` and `twinkey relay` as a user runs them: the real binary
//! in front of `twinkey emulate`, port 0, `--json`, SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use twinkey_client::reqwest;

const SAFETY_NET: Duration = Duration::from_secs(120);
const BIN: &str = env!("CARGO_BIN_EXE_twinkey");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("twinkey-relay-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn twinkey(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn json_of(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A long-running command that prints one JSON line at start; SIGTERM on drop.
struct Service {
    child: Child,
    info: Value,
}

impl Service {
    fn start(args: &[&str]) -> Service {
        let mut child = Command::new(BIN)
            .arg("--json")
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
            .expect("the service printed its address");
        let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Service { child, info }
    }

    fn get(&self, key: &str) -> String {
        self.info[key].as_str().unwrap().to_string()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn keygen_rotate_mint_and_verify() {
    let dir = temp_dir("tokens");
    let keys = dir.join("keys.json");
    let out = twinkey(&[
        "--json",
        "token",
        "keygen",
        "--out",
        path(&keys),
        "--kid",
        "k1",
    ]);
    assert!(out.status.success(), "{out:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Refuses to overwrite; --rotate puts a new key first.
    assert!(
        !twinkey(&["token", "keygen", "--out", path(&keys)])
            .status
            .success()
    );
    let out = twinkey(&[
        "token",
        "keygen",
        "--out",
        path(&keys),
        "--kid",
        "k2",
        "--rotate",
        "--alg",
        "HS256",
    ]);
    assert!(out.status.success(), "{out:?}");

    let out = twinkey(&[
        "--json",
        "token",
        "mint",
        "--token-key",
        path(&keys),
        "--sub",
        "alice",
        "--model",
        "m1",
        "--endpoint",
        "chat.completions",
        "--endpoint",
        "models",
        "--max-requests",
        "5",
        "--max-output-tokens",
        "64",
        "--ttl",
        "120",
    ]);
    assert!(out.status.success(), "{out:?}");
    let minted = json_of(&out);
    assert_eq!(minted["claims"]["sub"], "alice");
    assert_eq!(minted["claims"]["twk"]["max_requests"], 5);
    let token = minted["token"].as_str().unwrap();
    let header = token.split('.').next().unwrap();
    assert!(
        header.starts_with("eyJhbGciOiJIUzI1NiIs"),
        "k2 (HS256) signs after --rotate"
    );

    let out = twinkey(&[
        "--json",
        "token",
        "verify",
        "--token-key",
        path(&keys),
        token,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["kid"], "k2");
    let out = twinkey(&[
        "--json",
        "token",
        "verify",
        "--token-key",
        path(&keys),
        "--audience",
        "x",
        token,
    ]);
    assert!(!out.status.success());
    assert_eq!(json_of(&out)["error"]["code"], "TOKEN_AUDIENCE");
    // No key material in any output.
    let text = std::fs::read_to_string(&keys).unwrap();
    let set: Value = serde_json::from_str(&text).unwrap();
    for k in set["keys"].as_array().unwrap() {
        let secret = k["d"].as_str().or(k["k"].as_str()).unwrap();
        let out = twinkey(&[
            "token",
            "mint",
            "--token-key",
            path(&keys),
            "--model",
            "m",
            "--ttl",
            "999999",
        ]);
        assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn relay_in_front_of_the_emulator() {
    let dir = temp_dir("relay");
    let keys = dir.join("keys.json");
    assert!(
        twinkey(&["token", "keygen", "--out", path(&keys)])
            .status
            .success()
    );
    let emu_dir = dir.join("emu");
    let emu = Service::start(&[
        "emulate",
        "--listen",
        "127.0.0.1:0",
        "--init",
        path(&emu_dir),
    ]);
    let key_file = emu.get("key_file");
    let relay = Service::start(&[
        "relay",
        "--key",
        &key_file,
        "--token-key",
        path(&keys),
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &emu.get("base_url"),
        "--cors-origin",
        "http://127.0.0.1:9",
    ]);
    let base = relay.get("base_url");
    let out = twinkey(&["token", "mint", "--token-key", path(&keys), "--model", "*"]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{base}/chat/completions"))
        .bearer_auth(&token)
        .json(&json!({"model": "openai.gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let resp = http
        .post(format!("{base}/chat/completions"))
        .bearer_auth("nope")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.headers()["x-twinkey-error"], "INVALID_TOKEN");
    drop(relay);
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}
