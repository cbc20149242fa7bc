//! Key watch against the emulator: a rotation run by a separate runner reaches an engine
//! that follows its key from the control plane before the old secret is retired (no 401 at
//! all), while the same rotation without a watch costs rejections; a key-file watch follows a
//! rewritten file and survives a broken one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cp_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cp_support::{Cp, fast_probe};
use twinkey::watch::WatchOptions;
use twinkey::{ApiKey, Engine, EngineOptions};
use twinkey_client::InferenceClient;
use twinkey_client::rotation::{RotationConfig, RotationRunner};
use twinkey_client::watch::{KeyWatch, WatchSource};
use twinkey_emulator::EmulatorOptions;

fn quick(interval_ms: u64) -> WatchOptions {
    WatchOptions {
        interval: Duration::from_millis(interval_ms),
        jitter: 0.1,
        max_backoff: Duration::from_millis(interval_ms * 4),
    }
}

fn rejected(engine: &Engine) -> u64 {
    engine
        .status()
        .secrets
        .iter()
        .map(|s| s.counters.rejected)
        .sum()
}

/// Traffic from 4 tasks through `engine` while a separate runner rotates key-one -> key-two;
/// answers (failed requests, rejections seen by the engine).
async fn rotate_under_traffic(
    cp: &Cp,
    id: &str,
    key: ApiKey,
    engine: &Engine,
    grace: Duration,
) -> (u32, u64) {
    // The documented key's parked key-two reaches inference only after the propagation delay;
    // a probe before that would see the old state.
    tokio::time::sleep(Duration::from_millis(300)).await;
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
    while ok.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut config =
        RotationConfig::new(id, cp.path(&format!("rotation-{}.json", grace.as_millis())));
    config.inference_url = Some(cp.server.base_url());
    config.values = Some(key);
    config.probe_policy = fast_probe();
    config.watch_grace = grace;
    RotationRunner::new(cp.client.clone(), config)
        .unwrap()
        .run()
        .await
        .unwrap();
    // Traffic goes on until key-one's retirement has propagated, and a little longer.
    let deadline = Instant::now() + Duration::from_secs(30);
    while engine.current() != "key-two" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = ok.load(Ordering::Relaxed);
    while ok.load(Ordering::Relaxed) < after + 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Release);
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(engine.current(), "key-two");
    assert_eq!(cp.state(id, "key-one"), "INACTIVE");
    (failed.load(Ordering::Relaxed), rejected(engine))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_plane_watch_moves_traffic_before_the_old_secret_is_retired() {
    let cp = Cp::with(EmulatorOptions {
        propagation: Duration::from_millis(100),
        ..EmulatorOptions::default()
    })
    .await;
    let options = quick(150);

    // Without a watch: the engine learns of the retirement from a 401 (replayed, not failed).
    let (id, key) = cp.documented_key();
    let engine = Engine::new(key.clone(), EngineOptions::default()).unwrap();
    let (failed, seen) = rotate_under_traffic(&cp, &id, key, &engine, Duration::ZERO).await;
    assert_eq!(failed, 0);
    assert!(
        seen >= 1,
        "without a watch the engine meets key-one's retirement as a 401"
    );

    // With a control-plane watch and the runner's grace for it: no 401 at all.
    let (id, key) = cp.documented_key();
    let engine = Engine::new(key.clone(), EngineOptions::default()).unwrap();
    let mut watch = KeyWatch::start(
        engine.clone(),
        WatchSource::ControlPlane(cp.client.clone()),
        options.clone(),
    )
    .unwrap();
    let (failed, seen) = rotate_under_traffic(&cp, &id, key, &engine, options.retire_grace()).await;
    assert_eq!(
        (failed, seen),
        (0, 0),
        "the watched engine moved before key-one was retired"
    );
    let stats = watch.stats();
    assert!(
        stats.looks >= 3 && stats.changed >= 2 && stats.errors == 0,
        "{stats:?}"
    );
    // The switch is on the key for every watcher, naming the verified value.
    let k = cp.emu.store().get(&id).unwrap().key;
    let tags = k.freeform_tags.unwrap();
    assert_eq!(tags[twinkey::watch::PREFERRED_TAG], "key-two");
    assert_eq!(
        tags[twinkey::watch::PREFERRED_FINGERPRINT_TAG]
            .as_str()
            .unwrap(),
        engine.key().secret(twinkey::Slot::Two).fingerprint()
    );
    watch.stop();
    assert!(watch.stats().stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_watch_follows_the_file_and_survives_a_broken_one() {
    let dir = std::env::temp_dir().join(format!("twinkey-file-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("key.json");
    let doc = |two_state: &str, two_value: &str, tags: &str| {
        format!(
            r#"{{"id": "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaafilewatch", "freeformTags": {{{tags}}},
            "keys": [{{"keyName": "key-one", "state": "ACTIVE", "key": "sk-one-11111111"}},
                     {{"keyName": "key-two", "state": "{two_state}", "key": "{two_value}"}}]}}"#
        )
    };
    std::fs::write(&path, doc("INACTIVE", "sk-two-22222222", "")).unwrap();
    let engine = Engine::new(ApiKey::load(&path).unwrap(), EngineOptions::default()).unwrap();
    let mut watch =
        KeyWatch::start(engine.clone(), WatchSource::File(path.clone()), quick(40)).unwrap();
    let wait_for = |what: &str, f: &dyn Fn() -> bool| {
        let end = Instant::now() + Duration::from_secs(10);
        while !f() {
            assert!(Instant::now() < end, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for("a first look", &|| watch.stats().looks >= 1);
    assert_eq!(engine.begin().unwrap().secret_name(), "key-one");

    // A rotation renewed key-two, activated it and recorded the switch.
    let renewed = "sk-two-renewed-33333333";
    let fp = twinkey::fingerprint_of(renewed.as_bytes());
    let tags =
        format!(r#""twinkey-preferred": "key-two", "twinkey-preferred-fingerprint": "{fp}""#);
    std::fs::write(&path, doc("ACTIVE", renewed, &tags)).unwrap();
    wait_for("the switch", &|| {
        engine.begin().unwrap().secret_name() == "key-two"
    });
    let a = engine.begin().unwrap();
    assert_eq!(a.fingerprint(), fp);

    // A broken file changes nothing and is counted; the engine goes on.
    let looks = watch.stats().looks;
    std::fs::write(&path, "{ not json").unwrap();
    wait_for("a failed look", &|| watch.stats().consecutive_failures >= 2);
    let stats = watch.stats();
    assert_eq!(stats.last_error.as_deref(), Some("INVALID_KEY"));
    assert_eq!(engine.begin().unwrap().fingerprint(), fp);
    // Another key's document is refused the same way.
    std::fs::write(
        &path,
        doc("ACTIVE", renewed, &tags).replace("filewatch", "otherkey"),
    )
    .unwrap();
    wait_for("a refused document", &|| {
        watch.stats().errors > stats.errors
    });
    assert_eq!(
        engine.key().id.as_deref(),
        Some("ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaafilewatch")
    );
    // A missing file too; then a good one again.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, doc("ACTIVE", renewed, &tags)).unwrap();
    wait_for("looking again", &|| {
        let s = watch.stats();
        s.consecutive_failures == 0 && s.looks > looks
    });
    // No value in what a watch shows.
    let shown = format!("{watch:?} {:?}", watch.stats());
    assert!(!shown.contains("sk-"), "{shown}");
    watch.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_watch_needs_a_runtime_and_valid_options() {
    let key = ApiKey::from_json(
        r#"{"keys": [{"keyName": "key-one", "state": "ACTIVE", "key": "sk-one-11111111"},
                     {"keyName": "key-two", "state": "ACTIVE", "key": "sk-two-22222222"}]}"#,
    )
    .unwrap();
    let engine = Engine::new(key, EngineOptions::default()).unwrap();
    let e = KeyWatch::start(
        engine.clone(),
        WatchSource::File("k.json".into()),
        WatchOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "INVALID_OPTIONS");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bad = WatchOptions {
        jitter: 2.0,
        ..WatchOptions::default()
    };
    let e = KeyWatch::start_on(rt.handle(), engine, WatchSource::File("k.json".into()), bad)
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_OPTIONS");
}
