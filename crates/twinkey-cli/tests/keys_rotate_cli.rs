//! `twinkey keys` and `twinkey rotate` as a user runs them, against an emulator whose
//! `--init` files (OCI config profile and RSA key) the binary uses: every key operation, a
//! secret shown once (printed with a warning, or written with mode 0600), the IAM policy, and
//! a rotation that stops (a failed probe) and resumes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use twinkey::SecretState;
use twinkey_emulator::control::{OciFiles, init_oci_dir};
use twinkey_emulator::{Emulator, EmulatorOptions, KeySpec, Server};

const BIN: &str = env!("CARGO_BIN_EXE_twinkey");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.lines().last().unwrap_or(""))
            .unwrap_or_else(|e| panic!("{e}: {} / {}", self.stdout, self.stderr))
    }
}

struct Env {
    emu: Emulator,
    server: Server,
    oci: OciFiles,
    dir: PathBuf,
}

impl Env {
    async fn start(name: &str, propagation_ms: u64) -> Env {
        let dir =
            std::env::temp_dir().join(format!("twinkey-keys-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let emu = Emulator::new(EmulatorOptions {
            propagation: std::time::Duration::from_millis(propagation_ms),
            ..EmulatorOptions::default()
        });
        let oci = init_oci_dir(&emu, &dir).unwrap();
        let server = emu.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        Env {
            emu,
            server,
            oci,
            dir,
        }
    }

    /// `twinkey <args> --config ... --endpoint ...` (the binary, in a blocking thread).
    async fn twinkey(&self, args: &[&str]) -> Run {
        let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if !args.contains(&"policy") {
            argv.extend([
                "--config".to_string(),
                self.oci.config.display().to_string(),
                "--endpoint".to_string(),
                self.server.url(),
            ]);
        }
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            let out = Command::new(BIN)
                .args(&argv)
                .current_dir(&dir)
                .output()
                .unwrap();
            Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .await
        .unwrap()
    }

    fn state(&self, id: &str, secret: &str) -> String {
        let k = self.emu.store().get(id).unwrap().key;
        k.secret(k.slot_of(secret).unwrap())
            .state
            .as_str()
            .to_string()
    }

    fn value(&self, id: &str, secret: &str) -> String {
        let k = self.emu.store().get(id).unwrap().key;
        k.secret(k.slot_of(secret).unwrap())
            .value
            .as_ref()
            .unwrap()
            .expose()
            .to_string()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn every_key_operation() {
    let env = Env::start("ops", 0).await;
    // create --secret-out: a key document with both values, mode 0600; nothing on stdout.
    let out = env.dir.join("new-key.json");
    let r = env
        .twinkey(&[
            "--json",
            "keys",
            "create",
            "--display-name",
            "cli key",
            "--secret-out",
            out.to_str().unwrap(),
        ])
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let created = r.json();
    let id = created["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["data"]["compartmentId"], env.oci.tenancy.as_str());
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600);
    let doc = twinkey::ApiKey::load(&out).unwrap();
    let one = env.value(&id, "key-one");
    assert_eq!(doc.secrets()[0].value.as_ref().unwrap().expose(), one);
    assert!(!r.stdout.contains(&one) && !r.stderr.contains(&one));
    // Never overwritten.
    let again = env
        .twinkey(&[
            "keys",
            "create",
            "--display-name",
            "x",
            "--secret-out",
            out.to_str().unwrap(),
        ])
        .await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("[IO]"), "{}", again.stderr);

    // list (default compartment: the tenancy), get: masks only.
    let r = env.twinkey(&["--json", "keys", "list"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 1);
    assert!(!r.stdout.contains(&one));
    let r = env.twinkey(&["keys", "get", &id]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("key-one")
            && r.stdout.contains("mask sk-...")
            && !r.stdout.contains(&one)
    );

    // update, set-state (with if-match), a stale etag is 412.
    let r = env
        .twinkey(&["--json", "keys", "update", &id, "--display-name", "renamed"])
        .await;
    assert_eq!(r.json()["data"]["displayName"], "renamed");
    let etag = r.json()["etag"].as_str().unwrap().to_string();
    let r = env
        .twinkey(&[
            "keys",
            "set-state",
            &id,
            "--secret",
            "key-two",
            "--state",
            "inactive",
            "--if-match",
            &etag,
        ])
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.state(&id, "key-two"), "INACTIVE");
    let r = env
        .twinkey(&[
            "--json",
            "keys",
            "set-state",
            &id,
            "--secret",
            "key-two",
            "--state",
            "ACTIVE",
            "--if-match",
            &etag,
        ])
        .await;
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["error"]["code"], "SERVICE_ERROR");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("NoEtagMatch")
    );

    // renew without --secret-out: the value once on stdout, a warning on stderr.
    let r = env
        .twinkey(&["keys", "renew", &id, "--secret", "key-one", "--days", "30"])
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let renewed = env.value(&id, "key-one");
    assert_ne!(renewed, one);
    assert_eq!(r.stdout.matches(&renewed).count(), 1, "{}", r.stdout);
    assert!(!r.stderr.contains(&renewed));
    assert!(r.stderr.contains("only this once"), "{}", r.stderr);
    // renew --secret-out: the value alone in a 0600 file.
    let vf = env.dir.join("key-two.txt");
    let r = env
        .twinkey(&[
            "keys",
            "renew",
            &id,
            "--secret",
            "key-two",
            "--secret-out",
            vf.to_str().unwrap(),
        ])
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&vf).unwrap().trim(),
        env.value(&id, "key-two")
    );
    #[cfg(unix)]
    assert_eq!(mode(&vf), 0o600);
    assert!(!r.stdout.contains(&env.value(&id, "key-two")));

    // change-compartment, delete.
    let other = "ocid1.compartment.oc1..aaaaaaaaclicompartment";
    let r = env
        .twinkey(&["keys", "change-compartment", &id, "-c", other])
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.twinkey(&["--json", "keys", "list", "-c", other]).await;
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 1);
    let r = env.twinkey(&["keys", "delete", &id]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.twinkey(&["--json", "keys", "get", &id]).await;
    assert_eq!(r.json()["data"]["lifecycleState"], "DELETED");
    let r = env.twinkey(&["--json", "keys", "delete", &id]).await;
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["error"]["code"], "SERVICE_ERROR");

    // policy: offline, per key, scoped, models.
    let r = env
        .twinkey(&[
            "keys",
            "policy",
            &id,
            "--compartment",
            "ml",
            "--model",
            "openai.gpt-oss-120b",
            "--model",
            "xai.grok-3",
        ])
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.trim(),
        format!(
            "allow any-user to use generative-ai-family in compartment ml where ALL {{request.principal.type='generativeaiapikey', request.principal.id='{id}', target.model.id in ('openai.gpt-oss-120b', 'xai.grok-3')}}"
        )
    );
    let r = env
        .twinkey(&["--json", "keys", "policy", "ocid1.user.oc1..x"])
        .await;
    assert_eq!(r.json()["error"]["code"], "INVALID_REQUEST");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_profiles_and_endpoints_are_coded() {
    let env = Env::start("bad", 0).await;
    let cfg = env.dir.join("oci/config");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(env.dir.join("broken"), text.replace("user=", "# user=")).unwrap();
    let r = env
        .twinkey(&["--json", "keys", "list", "--profile", "NOPE"])
        .await;
    assert_eq!(r.json()["error"]["code"], "INVALID_CONFIG");
    let out = Command::new(BIN)
        .args([
            "--json",
            "keys",
            "list",
            "--config",
            env.dir.join("broken").to_str().unwrap(),
            "--endpoint",
            &env.server.url(),
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "INVALID_CONFIG");
    let out = Command::new(BIN)
        .args([
            "--json",
            "keys",
            "list",
            "--config",
            cfg.to_str().unwrap(),
            "--endpoint",
            "127.0.0.1:1",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "INVALID_REQUEST");
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_dry_run_then_stop_and_resume() {
    let env = Env::start("rotate", 100).await;
    let stored = env
        .emu
        .generate_key(&KeySpec {
            compartment_id: Some(env.oci.tenancy.clone()),
            ..KeySpec::default()
        })
        .unwrap();
    let id = stored.id().to_string();
    env.emu
        .store()
        .set_state(&id, "key-two", &SecretState::Inactive)
        .unwrap();
    let key_file = env.dir.join("key.json");
    std::fs::write(&key_file, stored.key.to_json_exposing_secrets()).unwrap();
    let state = env.dir.join("rotation-state.json");
    let (kf, sf) = (key_file.to_str().unwrap(), state.to_str().unwrap());

    let r = env
        .twinkey(&[
            "--json",
            "rotate",
            "--watch-grace",
            "0s",
            &id,
            "--dry-run",
            "--key-file",
            kf,
            "--state-file",
            sf,
        ])
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan = r.json();
    assert_eq!(plan["dryRun"], true);
    assert_eq!(plan["steps"].as_array().unwrap().len(), 4);
    assert_eq!(plan["steps"][0]["action"], "activate");
    assert!(!state.exists());
    assert_eq!(env.state(&id, "key-two"), "INACTIVE");

    // A wrong value for the standby: the probe fails after the activation; nothing retired.
    let mut wrong: Value = serde_json::from_str(&stored.key.to_json_exposing_secrets()).unwrap();
    wrong["keys"][1]["key"] = Value::String("sk-wrong-value-for-the-probe".into());
    let wrong_file = env.dir.join("wrong.json");
    std::fs::write(&wrong_file, wrong.to_string()).unwrap();
    let r = env
        .twinkey(&[
            "rotate",
            "--watch-grace",
            "0s",
            &id,
            "--key-file",
            wrong_file.to_str().unwrap(),
            "--state-file",
            sf,
            "--probe-timeout",
            "1",
        ])
        .await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("ROTATION_REFUSED"), "{}", r.stderr);
    assert!(
        r.stderr.contains("rerun the same command to resume"),
        "{}",
        r.stderr
    );
    assert!(state.exists());
    let checkpoint = std::fs::read_to_string(&state).unwrap();
    assert!(!checkpoint.contains("sk-"), "{checkpoint}");
    assert_eq!(env.state(&id, "key-one"), "ACTIVE");
    assert_eq!(env.state(&id, "key-two"), "ACTIVE");

    // Resumed with the right key file, in JSON: one event per line.
    let r = env
        .twinkey(&[
            "--json",
            "rotate",
            "--watch-grace",
            "0s",
            &id,
            "--key-file",
            kf,
            "--state-file",
            sf,
        ])
        .await;
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    let events: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["event"], "started");
    assert_eq!(events[0]["resumed"], true);
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done");
    let steps: Vec<String> = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}:{}",
                s["step"].as_str().unwrap(),
                s["action"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "prepare_standby:activate",
            "verify_standby:probe",
            "switch:switch",
            "retire_old:deactivate"
        ]
    );
    assert!(!state.exists());
    assert_eq!(env.state(&id, "key-one"), "INACTIVE");
    for v in stored.key.secrets() {
        assert!(!r.stdout.contains(v.value.as_ref().unwrap().expose()));
    }

    // Rotating back with --revoke and --renew-old needs a secret-out file, and then works.
    let r = env
        .twinkey(&[
            "rotate",
            "--watch-grace",
            "0s",
            &id,
            "--key-file",
            kf,
            "--state-file",
            sf,
            "--revoke",
            "--renew-old",
        ])
        .await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("secret-out"), "{}", r.stderr);
    let out = env.dir.join("rotated.json");
    let r = env
        .twinkey(&[
            "rotate",
            "--watch-grace",
            "0s",
            &id,
            "--key-file",
            kf,
            "--state-file",
            sf,
            "--revoke",
            "--renew-old",
            "--secret-out",
            out.to_str().unwrap(),
        ])
        .await;
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("[6/6]"), "{}", r.stdout);
    assert_eq!(env.state(&id, "key-one"), "ACTIVE");
    assert_eq!(env.state(&id, "key-two"), "INACTIVE");
    let doc = twinkey::ApiKey::load(&out).unwrap();
    let two = doc.secret(doc.slot_of("key-two").unwrap());
    assert_eq!(
        two.value.as_ref().unwrap().expose(),
        env.value(&id, "key-two")
    );
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600);
}

/// One chat completion through the emulator with the key file's values (sets `timeLastUsed`).
async fn one_request(env: &Env, key_file: &std::path::Path) {
    let engine = twinkey::Engine::new(
        twinkey::ApiKey::load(key_file).unwrap(),
        twinkey::EngineOptions::default(),
    )
    .unwrap();
    let client = twinkey_client::InferenceClient::new(engine, &env.server.base_url()).unwrap();
    let body = serde_json::json!({"model": "openai.gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]});
    let r = client.post_json("chat/completions", &body).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_check_exit_codes_and_rotate_only_when_due() {
    let env = Env::start("check", 0).await;
    let now = twinkey::Clock::now(&twinkey::SystemClock);
    let day = std::time::Duration::from_secs(24 * 3600);
    let (soon, later) = (now.plus(day * 5), now.plus(day * 60));
    // Staggered expiries at creation; a name that is not the key's is refused.
    let key_file = env.dir.join("key.json");
    let r = env
        .twinkey(&[
            "keys",
            "create",
            "--display-name",
            "staggered",
            "--expiry",
            &format!("key-one={soon},key-three={later}"),
        ])
        .await;
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("INVALID_OPTIONS") && r.stderr.contains("key-three"),
        "{}",
        r.stderr
    );
    let r = env
        .twinkey(&[
            "--json",
            "keys",
            "create",
            "--display-name",
            "staggered",
            "--expiry",
            &format!("key-one={soon},key-two={later}"),
            "--secret-out",
            key_file.to_str().unwrap(),
        ])
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = r.json()["data"]["id"].as_str().unwrap().to_string();
    let stored = env.emu.store().get(&id).unwrap().key;
    assert_eq!(stored.secrets()[0].time_expiry, Some(soon));
    assert_eq!(stored.secrets()[1].time_expiry, Some(later));
    env.emu
        .store()
        .set_state(&id, "key-two", &SecretState::Inactive)
        .unwrap();
    // The applications' key file says what they use: key-one only.
    let mut local: Value =
        serde_json::from_str(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    local["keys"][1]["state"] = "INACTIVE".into();
    std::fs::write(&key_file, local.to_string()).unwrap();
    let kf = key_file.to_str().unwrap();

    // key-one (in use) expires in 5 days: exit 3 with a 14-day window, 0 with a 3-day one.
    let r = env.twinkey(&["--json", "keys", "check", &id]).await;
    assert_eq!(r.code, 3, "{} {}", r.stdout, r.stderr);
    let doc = r.json();
    assert_eq!(doc["findings"][0]["code"], "expiring");
    assert_eq!(doc["findings"][0]["secret"], "key-one");
    assert_eq!(doc["exitCode"], 3);
    let r = env.twinkey(&["keys", "check", &id, "--within", "3d"]).await;
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("ok (nothing expires within 3days)"),
        "{}",
        r.stdout
    );

    // keys get shows timeLastUsed once the inference side accepted key-one.
    one_request(&env, &key_file).await;
    let r = env.twinkey(&["keys", "get", &id]).await;
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("key-one"))
        .unwrap()
        .to_string();
    assert!(!line.contains("last used -"), "{line}");
    assert!(
        r.stdout.contains("last used -"),
        "key-two was never used: {}",
        r.stdout
    );
    let r = env.twinkey(&["--json", "keys", "get", &id]).await;
    assert!(r.json()["data"]["keys"][0]["timeLastUsed"].is_string());

    // rotate --if-expiring-within: nothing due within 3 days; due within 14.
    let state = env.dir.join("rotate-state.json");
    let sf = state.to_str().unwrap();
    let rotate = |window: &'static str| {
        let id = id.clone();
        let (kf, sf) = (kf.to_string(), sf.to_string());
        let env = &env;
        async move {
            env.twinkey(&[
                "rotate",
                "--watch-grace",
                "0s",
                &id,
                "--key-file",
                &kf,
                "--state-file",
                &sf,
                "--if-expiring-within",
                window,
            ])
            .await
        }
    };
    let r = rotate("3d").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("nothing to do"), "{}", r.stdout);
    assert_eq!(env.state(&id, "key-one"), "ACTIVE");
    assert_eq!(env.state(&id, "key-two"), "INACTIVE");
    let r = rotate("14d").await;
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("rotation due: key-one (in use) expires at"),
        "{}",
        r.stdout
    );
    assert_eq!(env.state(&id, "key-one"), "INACTIVE");
    assert_eq!(env.state(&id, "key-two"), "ACTIVE");
    // Now key-two (60 days) is in use: nothing due.
    let r = rotate("14d").await;
    assert!(r.stdout.contains("nothing to do"), "{}", r.stdout);

    // key-one revoked: without a key file, no usable standby (4); the applications' key file
    // still has it ACTIVE: revoked in use (5).
    env.emu
        .store()
        .set_state(&id, "key-one", &SecretState::Revoked)
        .unwrap();
    let r = env.twinkey(&["keys", "check", &id]).await;
    assert_eq!(r.code, 4, "{} {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("[no_usable_standby]"), "{}", r.stdout);
    let r = env
        .twinkey(&["--json", "keys", "check", &id, "--key-file", kf])
        .await;
    assert_eq!(r.code, 5, "{} {}", r.stdout, r.stderr);
    assert_eq!(r.json()["findings"][0]["code"], "revoked_in_use");
    // Nothing usable: 6.
    env.emu
        .store()
        .set_state(&id, "key-two", &SecretState::Inactive)
        .unwrap();
    let r = env.twinkey(&["keys", "check", &id]).await;
    assert_eq!(r.code, 6, "{} {}", r.stdout, r.stderr);
    for s in twinkey::ApiKey::load(&key_file).unwrap().secrets() {
        assert!(!r.stdout.contains(s.value.as_ref().unwrap().expose()));
    }
}
