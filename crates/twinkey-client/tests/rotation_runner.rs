//! The rotation runner against the emulator: the documented rotation, a runner killed after
//! every action (before and after its checkpoint) and resumed, a revoked standby renewed, a
//! refusal that would leave no usable secret, a failed probe, and traffic with zero failed
//! requests through a rotation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cp_support;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cp_support::{Cp, fast_probe};
use twinkey::rotation::Retire;
use twinkey::{ApiKey, Engine, EngineOptions, SecretState};
use twinkey_client::InferenceClient;
use twinkey_client::rotation::{Progress, RotationConfig, RotationRunner, StopAt};
use twinkey_emulator::EmulatorOptions;

fn config(cp: &Cp, id: &str, values: Option<ApiKey>) -> RotationConfig {
    let mut c = RotationConfig::new(id, cp.path("rotation.json"));
    c.inference_url = Some(cp.server.base_url());
    c.values = values;
    c.probe_policy = fast_probe();
    c.watch_grace = std::time::Duration::ZERO;
    c
}

fn runner(cp: &Cp, c: RotationConfig) -> RotationRunner {
    RotationRunner::new(cp.client.clone(), c).unwrap()
}

/// No file written by a rotation holds a value except the secret-out file.
fn assert_no_values_in(path: &std::path::Path, values: &[String]) {
    if let Ok(text) = std::fs::read_to_string(path) {
        for v in values {
            assert!(
                !text.contains(v.as_str()),
                "{} holds a secret value",
                path.display()
            );
        }
        assert!(!text.contains("sk-"), "{}", path.display());
    }
}

#[tokio::test]
async fn the_documented_rotation() {
    let cp = Cp::with(EmulatorOptions {
        propagation: Duration::from_millis(150),
        ..EmulatorOptions::default()
    })
    .await;
    let (id, key) = cp.documented_key();
    let events: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = events.clone();
    let report = runner(&cp, config(&cp, &id, Some(key.clone())))
        .on_progress(move |p| sink.lock().unwrap().push(p.clone()))
        .run()
        .await
        .unwrap();
    assert_eq!(
        (report.old.as_str(), report.standby.as_str()),
        ("key-one", "key-two")
    );
    assert_eq!(cp.state(&id, "key-one"), "INACTIVE");
    assert_eq!(cp.state(&id, "key-two"), "ACTIVE");
    let done: Vec<String> = report
        .steps
        .iter()
        .map(|r| format!("{}:{}", r.step, r.action))
        .collect();
    assert_eq!(
        done,
        [
            "prepare_standby:activate",
            "verify_standby:probe",
            "switch:switch",
            "retire_old:deactivate"
        ]
    );
    assert!(
        !cp.path("rotation.json").exists(),
        "the state file is removed when done"
    );
    let events = events.lock().unwrap().clone();
    assert!(matches!(
        events.first(),
        Some(Progress::Started { resumed: false, .. })
    ));
    assert!(matches!(events.last(), Some(Progress::Done)));
    let shown = format!("{events:?} {report:?}");
    for s in key.secrets() {
        assert!(!shown.contains(s.value.as_ref().unwrap().expose()));
    }
    // After propagation, the old value is refused and the standby works.
    let two = key.secrets()[1]
        .value
        .as_ref()
        .unwrap()
        .expose()
        .to_string();
    assert_eq!(cp.infer(&two).await, 200);
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let cp = Cp::start().await;
    let (id, key) = cp.documented_key();
    let mut c = config(&cp, &id, Some(key));
    c.options.retire = Retire::Revoke;
    let plan = runner(&cp, c).plan().await.unwrap();
    let steps: Vec<String> = plan
        .steps
        .iter()
        .map(|s| {
            format!(
                "{}:{}",
                s.step,
                s.action.as_ref().map_or("skip", |a| a.name())
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "prepare_standby:activate",
            "verify_standby:probe",
            "switch:switch",
            "retire_old:revoke"
        ]
    );
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);
    assert!(!cp.path("rotation.json").exists());
    assert_eq!(cp.state(&id, "key-two"), "INACTIVE");
    // Without values, the probe cannot run: reported by the plan, refused by run.
    let plan = runner(&cp, config(&cp, &id, None)).plan().await.unwrap();
    assert_eq!(plan.problems.len(), 1, "{:?}", plan.problems);
    let e = runner(&cp, config(&cp, &id, None)).run().await.unwrap_err();
    assert_eq!(e.code(), "ROTATION_REFUSED");
    assert_eq!(cp.state(&id, "key-two"), "INACTIVE");
}

/// Runs one scenario killed at `stop`, then resumes it; checks the outcome.
async fn kill_and_resume(stop: StopAt, renew_old: bool, revoked_standby: bool) -> usize {
    let cp = Cp::with(EmulatorOptions {
        propagation: Duration::from_millis(20),
        ..EmulatorOptions::default()
    })
    .await;
    let (id, key) = cp.documented_key();
    if revoked_standby {
        cp.emu
            .store()
            .set_state(&id, "key-two", &SecretState::Revoked)
            .unwrap();
    }
    let values: Vec<String> = key
        .secrets()
        .iter()
        .map(|s| s.value.as_ref().unwrap().expose().to_string())
        .collect();
    let mut c = config(&cp, &id, Some(key));
    c.options.renew_old = renew_old;
    c.secret_out = Some(cp.path("secret-out.json"));
    let first = runner(&cp, c.clone()).stop_at(stop).run().await;
    let stopped = first.is_err();
    if stopped {
        assert!(
            cp.path("rotation.json").exists(),
            "{stop:?}: the state file stays"
        );
        assert_no_values_in(&cp.path("rotation.json"), &values);
        // Nothing is retired before the standby is usable.
        if cp.state(&id, "key-one") != "ACTIVE" {
            assert_eq!(cp.state(&id, "key-two"), "ACTIVE", "{stop:?}");
        }
    }
    let report = match first {
        Ok(report) => report,
        Err(_) => runner(&cp, c)
            .run()
            .await
            .unwrap_or_else(|e| panic!("{stop:?}: {e}")),
    };
    assert_eq!(report.resumed, stopped, "{stop:?}");
    assert_eq!(cp.state(&id, "key-two"), "ACTIVE", "{stop:?}");
    assert_eq!(cp.state(&id, "key-one"), "INACTIVE", "{stop:?}");
    assert!(!cp.path("rotation.json").exists());
    // Renewed values are in the secret-out file (0600) and work; each secret was renewed
    // once, whatever the interruption.
    let renewals = usize::from(renew_old) + usize::from(revoked_standby);
    assert_eq!(report.renewed.len(), renewals, "{stop:?}");
    if renewals > 0 {
        let out = cp.path("secret-out.json");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let doc = ApiKey::load(&out).unwrap();
        for (name, fp) in &report.renewed {
            let s = doc.secret(doc.slot_of(name).unwrap());
            assert_eq!(s.fingerprint(), fp, "{stop:?}");
            let stored = cp.emu.store().get(&id).unwrap().key;
            let held = stored.secret(stored.slot_of(name).unwrap());
            assert_eq!(
                held.fingerprint(),
                fp,
                "{stop:?}: the service holds the written value"
            );
        }
        if revoked_standby {
            let two = doc
                .secret(doc.slot_of("key-two").unwrap())
                .value
                .clone()
                .unwrap();
            assert_eq!(cp.infer(two.expose()).await, 200);
        }
    }
    report.steps.iter().filter(|r| r.action != "skip").count()
}

#[tokio::test]
async fn killed_after_each_step_and_resumed() {
    // The documented rotation: 4 actions; killed after each one, before and after its
    // checkpoint.
    let actions = kill_and_resume(StopAt::AfterCall(99), false, false).await;
    assert_eq!(actions, 4);
    for n in 1..=actions {
        for stop in [StopAt::AfterCall(n), StopAt::AfterCheckpoint(n)] {
            kill_and_resume(stop, false, false).await;
        }
    }
}

#[tokio::test]
async fn killed_during_renewals_and_resumed() {
    // A revoked standby (renewed) and --renew-old: 6 actions, two of them renewals.
    let actions = kill_and_resume(StopAt::AfterCall(99), true, true).await;
    assert_eq!(actions, 6);
    for n in 1..=actions {
        for stop in [StopAt::AfterCall(n), StopAt::AfterCheckpoint(n)] {
            kill_and_resume(stop, true, true).await;
        }
    }
}

#[tokio::test]
async fn a_revoked_standby_is_renewed_and_a_renewal_needs_a_secret_out_file() {
    let cp = Cp::start().await;
    let (id, key) = cp.documented_key();
    cp.emu
        .store()
        .set_state(&id, "key-two", &SecretState::Revoked)
        .unwrap();
    let e = runner(&cp, config(&cp, &id, Some(key.clone())))
        .run()
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ROTATION_REFUSED");
    assert!(e.to_string().contains("secret-out"), "{e}");
    assert_eq!(cp.state(&id, "key-two"), "REVOKED");
    let mut c = config(&cp, &id, Some(key));
    c.secret_out = Some(cp.path("new-key.json"));
    let report = runner(&cp, c).run().await.unwrap();
    assert_eq!(report.steps[0].action, "renew");
    assert_eq!(report.renewed.len(), 1);
    assert_eq!(cp.state(&id, "key-two"), "ACTIVE");
    assert_eq!(cp.state(&id, "key-one"), "INACTIVE");
    // The written document is a usable key file: an engine on it works.
    let doc = ApiKey::load(cp.path("new-key.json")).unwrap();
    let engine = Engine::new(doc, EngineOptions::default()).unwrap();
    let client = InferenceClient::new(engine, &cp.server.base_url()).unwrap();
    let resp = client
        .post_json("chat/completions", &serde_json::json!({"model": "openai.gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn refused_when_it_would_leave_no_usable_secret() {
    let cp = Cp::start().await;
    let (id, key) = cp.documented_key();
    cp.emu
        .store()
        .force_state(&id, "key-two", SecretState::Deleted)
        .unwrap();
    let e = runner(&cp, config(&cp, &id, Some(key)))
        .run()
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ROTATION_REFUSED");
    assert!(e.to_string().contains("no usable secret"), "{e}");
    assert_eq!(cp.state(&id, "key-one"), "ACTIVE");
    assert!(!cp.path("rotation.json").exists());
}

#[tokio::test]
async fn a_failed_probe_retires_nothing() {
    let cp = Cp::start().await;
    let (id, _) = cp.documented_key();
    // A key file of another key is refused outright.
    let other = cp.key().key;
    let e = runner(&cp, config(&cp, &id, Some(other.clone())))
        .run()
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ROTATION_REFUSED");
    assert!(e.to_string().contains("key file"), "{e}");
    // This key's id with a wrong standby value: refused by inference.
    let mut doc: serde_json::Value =
        serde_json::from_str(&other.to_json_exposing_secrets()).unwrap();
    doc["id"] = serde_json::json!(id);
    doc["keys"][1]["key"] = serde_json::json!("sk-not-a-value-the-service-knows");
    let wrong = ApiKey::from_json(&doc.to_string()).unwrap();
    let mut c = config(&cp, &id, Some(wrong));
    c.probe_policy.timeout = Duration::from_millis(300);
    let e = runner(&cp, c.clone()).run().await.unwrap_err();
    assert_eq!(e.code(), "ROTATION_REFUSED");
    assert!(e.to_string().contains("probe"), "{e}");
    assert_eq!(cp.state(&id, "key-one"), "ACTIVE");
    assert_eq!(cp.state(&id, "key-two"), "ACTIVE");
    // The state file keeps the progress; resumed with other options it is refused.
    assert!(cp.path("rotation.json").exists());
    c.options.retire = Retire::Revoke;
    let e = runner(&cp, c).run().await.unwrap_err();
    assert_eq!(e.code(), "ROTATION_STATE");
}

#[tokio::test]
async fn traffic_through_a_rotation_has_no_failed_request() {
    let cp = Cp::with(EmulatorOptions {
        propagation: Duration::from_millis(100),
        ..EmulatorOptions::default()
    })
    .await;
    let (id, key) = cp.documented_key();
    // The application's engine, loaded from its key file before the rotation.
    let engine = Engine::new(key.clone(), EngineOptions::default()).unwrap();
    let client = Arc::new(InferenceClient::new(engine.clone(), &cp.server.base_url()).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (client, stop, ok, failed) = (client.clone(), stop.clone(), ok.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            let body = serde_json::json!({"model": "openai.gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]});
            while !stop.load(Ordering::Acquire) {
                match client.post_json("chat/completions", &body).await {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    // Let traffic flow on key-one first.
    while ok.load(Ordering::Relaxed) < 20 {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A separate runner (another process in real life): the app's engine fails over by
    // itself when key-one is deactivated.
    runner(&cp, config(&cp, &id, Some(key)))
        .run()
        .await
        .unwrap();
    // Keep the traffic going until the deactivation has propagated and the engine failed
    // over, then a little longer.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while engine.current() != "key-two" && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let after = ok.load(Ordering::Relaxed);
    while ok.load(Ordering::Relaxed) < after + 20 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Release);
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert_eq!(engine.current(), "key-two");
    assert!(ok.load(Ordering::Relaxed) >= after + 20);
    assert_eq!(cp.state(&id, "key-one"), "INACTIVE");
}

#[path = "common/redis_server.rs"]
mod redis_server;

/// A rotation with the key's fleet: at the switch the runner tells the fleet the old secret is
/// retiring (naming the standby value it verified), and another process of the fleet, which
/// still had the standby as INACTIVE, moves to it before the old secret is retired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_tells_the_fleet_its_old_secret_is_retiring() {
    use twinkey_client::fleet::{FleetOptions, RedisFleet};
    let redis = redis_server::RedisServer::start(None);
    let cp = Cp::with(EmulatorOptions::default()).await;
    let (id, key) = cp.documented_key();
    let b = Engine::new(key.clone(), EngineOptions::default()).unwrap();
    b.sync_state("key-two", SecretState::Inactive).unwrap();
    let fleet = |origin: &str| FleetOptions {
        url: redis.url(),
        origin: Some(origin.into()),
        ..FleetOptions::default()
    };
    let fb = RedisFleet::start(b.clone(), fleet("proc-b")).unwrap();
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while !fb.stats().connected {
        assert!(std::time::Instant::now() < end, "B did not connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(b.current(), "key-one");
    // Stopped right after the switch was checkpointed: key-one is not retired yet.
    let stopped = runner(&cp, config(&cp, &id, Some(key.clone())))
        .with_fleet(fleet("rotation"))
        .stop_at(StopAt::AfterCheckpoint(3))
        .run()
        .await;
    assert!(stopped.is_err());
    assert_eq!(cp.state(&id, "key-one"), "ACTIVE");
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while b.current() != "key-two" {
        assert!(std::time::Instant::now() < end, "B still uses key-one");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = b.status();
    assert!(status.secrets[1].preferred && status.secrets[1].usable);
    let fp = key.secrets()[0].fingerprint().to_string();
    let ttl: i64 = redis
        .cli(&["PTTL", &format!("twinkey:{id}:{fp}:retiring")])
        .parse()
        .unwrap();
    assert!(ttl > 3_000_000 && ttl <= 3_600_000, "{ttl}");
    // Resumed, the rotation ends; its switch step says the fleet was told.
    let report = runner(&cp, config(&cp, &id, Some(key.clone())))
        .with_fleet(fleet("rotation"))
        .run()
        .await
        .unwrap();
    let switch = report.steps.iter().find(|r| r.action == "switch").unwrap();
    let note = switch.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("the fleet was told key-one is retiring"),
        "{note}"
    );
    assert_eq!(cp.state(&id, "key-one"), "INACTIVE");
    drop(fb);
}
