//! Fleets against a real `redis-server` (Debian's package) that the tests start on a free
//! loopback port, stop (SIGSTOP), kill and replace: a rejection in one engine reaches the
//! others before they send; with Redis away the engines keep serving from local state and
//! catch up when it is back; garbage on the channel or in the keys is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use twinkey::fleet::{FleetEvent, FleetMessage};
use twinkey::{ApiKey, Engine, EngineOptions, ResponseFacts, Secret, Verdict};
use twinkey_client::fleet::{FleetOptions, RedisFleet};

#[path = "common/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer as Redis;

const KEY_ID: &str = "ocid1.generativeaiapikey.oc1.us-chicago-1.fleettest";

fn engine() -> Engine {
    let mut key = ApiKey::new(
        Secret::new("key-one", "sk-fleet-redis-one-aaaaaaaaaaaa", None).unwrap(),
        Secret::new("key-two", "sk-fleet-redis-two-bbbbbbbbbbbb", None).unwrap(),
    )
    .unwrap();
    key.id = Some(KEY_ID.into());
    Engine::new(key, EngineOptions::default()).unwrap()
}

fn join(e: &Engine, redis: &Redis, origin: &str) -> RedisFleet {
    RedisFleet::start(
        e.clone(),
        FleetOptions {
            url: redis.url(),
            origin: Some(origin.into()),
            resync_interval: Duration::from_millis(200),
            ..FleetOptions::default()
        },
    )
    .unwrap()
}

/// One request's attempt on `e` answered with `status`; returns the secret it went to.
fn answer(e: &Engine, status: u16) -> String {
    let a = e.begin().unwrap();
    let name = a.secret_name().to_string();
    if let Verdict::Replay(next) = e.complete(&a, &ResponseFacts::status(status)) {
        let _ = e.complete(&next, &ResponseFacts::status(200));
    }
    name
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(15);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_reaches_the_fleet_and_survives_redis_going_away() {
    let redis = Redis::start(None);
    let (a, b, c) = (engine(), engine(), engine());
    let fa = join(&a, &redis, "proc-a");
    let fb = join(&b, &redis, "proc-b");
    let fc = join(&c, &redis, "proc-c");
    until("all three connected", || {
        fa.stats().connected && fb.stats().connected && fc.stats().connected
    })
    .await;
    // Subscriptions settle after the first connection; give the channel a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A sees key-one rejected; B and C switch before sending anything with it.
    assert_eq!(answer(&a, 401), "key-one");
    until("B and C to switch", || {
        b.current() == "key-two" && c.current() == "key-two"
    })
    .await;
    assert_eq!(b.status().secrets[0].health.as_str(), "cooling_down");
    assert_eq!(
        b.status().secrets[0].counters.attempts,
        0,
        "B never sent with key-one"
    );
    let state = redis.cli(&["KEYS", "twinkey:*:rejected"]);
    assert!(state.contains(KEY_ID), "{state}");
    let stored = redis.cli(&["GET", &state]);
    assert!(!stored.contains("sk-fleet"), "a secret value is in Redis");

    // Redis frozen: requests go on from local state (nothing waits on Redis).
    redis.signal("-STOP");
    for _ in 0..50 {
        assert_eq!(answer(&b, 200), "key-two");
    }
    redis.signal("-CONT");

    // Redis killed: C learns of a rejection of key-two while it is away...
    let port = redis.kill();
    assert_eq!(answer(&c, 401), "key-two");
    until("C to notice Redis is gone", || fc.stats().errors > 0).await;
    for _ in 0..20 {
        let _ = b.begin().map(|t| b.abandon(&t));
    }
    // ...and a new, empty Redis on the same port gets it, and A and B hear of it.
    let fresh = Redis::start(Some(port));
    until("A and B to see key-two cooling", || {
        a.status().secrets[1].health.as_str() == "cooling_down"
            && b.status().secrets[1].health.as_str() == "cooling_down"
    })
    .await;
    assert_eq!(
        fc.stats().sent,
        1,
        "sent once Redis was back: {:?}",
        fc.stats()
    );

    // Garbage on the channel and a key of the wrong type are dropped; nothing breaks.
    let channel = format!("twinkey:{KEY_ID}:fleet");
    fresh.cli(&["PUBLISH", &channel, "{not json"]);
    fresh.cli(&["PUBLISH", &channel, r#"{"v":9}"#]);
    let fp_one = a.status().secrets[0].fingerprint.clone();
    let errors = fa.stats().errors;
    fresh.cli(&["DEL", &format!("twinkey:{KEY_ID}:{fp_one}:rejected")]);
    fresh.cli(&["LPUSH", &format!("twinkey:{KEY_ID}:{fp_one}:rejected"), "x"]);
    until("the garbage to be counted", || fa.stats().invalid >= 2).await;
    until("the wrong-type key to be met", || {
        fa.stats().errors > errors
    })
    .await;
    // The link still works: another process's recovery of key-one reaches A.
    let recovery = FleetMessage {
        key_id: KEY_ID.into(),
        secret: "key-one".into(),
        fingerprint: fp_one,
        at: twinkey::Clock::now(&twinkey::SystemClock),
        origin: "proc-x".into(),
        event: FleetEvent::Recovered,
    };
    fresh.cli(&["PUBLISH", &channel, &recovery.to_json()]);
    until("A to take the recovery", || {
        a.status().secrets[0].health.as_str() == "healthy"
    })
    .await;
    assert_eq!(answer(&a, 200), "key-one");
    drop((fa, fb, fc));
}

#[tokio::test]
async fn bad_options_are_refused_and_an_unreachable_redis_costs_nothing() {
    let e = engine();
    let bad = |url: &str| {
        RedisFleet::start(
            e.clone(),
            FleetOptions {
                url: url.into(),
                ..FleetOptions::default()
            },
        )
        .unwrap_err()
    };
    assert_eq!(bad("http://127.0.0.1:6379").code(), "INVALID_OPTIONS");
    let e2 = bad("redis://user:hunter2-secret@[::1");
    assert!(!e2.to_string().contains("hunter2"), "{e2}");
    let mut no_id = e.key();
    no_id.id = None;
    let anonymous = Engine::new(no_id, EngineOptions::default()).unwrap();
    let err = RedisFleet::start(anonymous, FleetOptions::default()).unwrap_err();
    assert_eq!(err.code(), "INVALID_OPTIONS");

    // Nothing listens on this port: the engine serves, the link counts errors.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = RedisFleet::start(
        e.clone(),
        FleetOptions {
            url: format!("redis://127.0.0.1:{port}"),
            ..FleetOptions::default()
        },
    )
    .unwrap();
    assert_eq!(answer(&e, 401), "key-one");
    assert_eq!(answer(&e, 200), "key-two");
    until("errors counted", || f.stats().errors > 0).await;
    assert!(!f.stats().connected);
    assert!(!format!("{f:?}").contains("sk-fleet"));
}

/// Two engines on `url` (with `ca_file`): a rejection in A reaches B, or the test fails.
async fn shares_a_rejection(url: &str, ca_file: Option<std::path::PathBuf>) {
    let (a, b) = (engine(), engine());
    let join = |e: &Engine, origin: &str| {
        RedisFleet::start(
            e.clone(),
            FleetOptions {
                url: url.into(),
                ca_file: ca_file.clone(),
                origin: Some(origin.into()),
                ..FleetOptions::default()
            },
        )
        .unwrap()
    };
    let (fa, fb) = (join(&a, "proc-a"), join(&b, "proc-b"));
    until("both connected", || {
        fa.stats().connected && fb.stats().connected
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(answer(&a, 401), "key-one");
    until("B to adopt the rejection", || b.current() == "key-two").await;
    drop((fa, fb));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acl_user_works_and_a_wrong_password_is_a_logged_error() {
    let redis = Redis::start(None);
    let rule = "~twinkey:* &twinkey:* +@all -@dangerous +ping";
    let mut args = vec!["ACL", "SETUSER", "fleet", "on", ">fleet-pass-3141"];
    args.extend(rule.split(' '));
    assert_eq!(redis.cli(&args), "OK");
    assert_eq!(
        redis.cli(&["CONFIG", "SET", "requirepass", "default-pass-2718"]),
        "OK"
    );
    let good = format!("redis://fleet:fleet-pass-3141@127.0.0.1:{}", redis.port);
    shares_a_rejection(&good, None).await;

    let e = engine();
    let wrong = RedisFleet::start(
        e.clone(),
        FleetOptions {
            url: format!("redis://fleet:not-the-pass-9999@127.0.0.1:{}", redis.port),
            ..FleetOptions::default()
        },
    )
    .unwrap();
    until("the refusal counted", || wrong.stats().errors > 0).await;
    assert!(!wrong.stats().connected);
    // The engine serves regardless; no password in what the link shows.
    assert_eq!(answer(&e, 200), "key-one");
    let shown = format!(
        "{wrong:?} {:?}",
        FleetOptions {
            url: format!("redis://fleet:not-the-pass-9999@127.0.0.1:{}", redis.port),
            ..FleetOptions::default()
        }
    );
    assert!(!shown.contains("not-the-pass"), "{shown}");
}

/// A CA and a certificate for 127.0.0.1 it signed, made by `openssl` in `dir`.
fn make_certs(dir: &std::path::Path) {
    let sh = |args: &str| {
        let ok = std::process::Command::new("sh")
            .arg("-c")
            .arg(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "{args}");
    };
    sh(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=twinkey-test-ca \
        -keyout ca.key -out ca.pem",
    );
    sh(
        "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key \
        -out server.csr",
    );
    sh(
        "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && openssl x509 -req -in server.csr \
        -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_with_a_private_ca() {
    let dir = std::env::temp_dir().join(format!("twinkey-fleet-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    make_certs(&dir);
    let port = redis_server::free_port();
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let (cert, key, ca) = (p("server.pem"), p("server.key"), p("ca.pem"));
    let redis = Redis::start_with(
        None,
        &[
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
            "--tls-auth-clients",
            "no",
        ],
    );
    let url = format!("rediss://127.0.0.1:{port}");
    shares_a_rejection(&url, Some(dir.join("ca.pem"))).await;

    // Without the CA the server is not trusted: an error, and the engine serves regardless.
    let e = engine();
    let untrusted = RedisFleet::start(
        e.clone(),
        FleetOptions {
            url: url.clone(),
            ..FleetOptions::default()
        },
    )
    .unwrap();
    until("the refusal counted", || untrusted.stats().errors > 0).await;
    assert!(!untrusted.stats().connected);
    assert_eq!(answer(&e, 200), "key-one");
    // A CA file with a plain URL is refused.
    let plain = RedisFleet::start(
        e.clone(),
        FleetOptions {
            url: redis.url(),
            ca_file: Some(dir.join("ca.pem")),
            ..FleetOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(plain.code(), "INVALID_OPTIONS");
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}
