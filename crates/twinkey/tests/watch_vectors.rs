//! Runs the key-watch schedule vectors (`tests/vectors/watch/schedule.json`); what an observed
//! document means is in the engine vectors (`engine/watch.json`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;
use twinkey::watch::{WatchOptions, WatchSource};

fn vectors() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/watch/schedule.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn watch_schedule_vectors() {
    let v = vectors();
    let cases = v["cases"].as_array().unwrap();
    let mut failing = Vec::new();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let source = WatchSource::parse(c["source"].as_str().unwrap()).unwrap();
        match (
            WatchOptions::from_json_value(&c["options"], source),
            c.get("error"),
        ) {
            (Err(e), Some(want)) if want == e.code() => {}
            (Err(e), want) => failing.push(format!("{name}: error {} (want {want:?})", e.code())),
            (Ok(_), Some(want)) => failing.push(format!("{name}: accepted, want {want}")),
            (Ok(o), None) => {
                for d in c["delays"].as_array().unwrap() {
                    let failures = u32::try_from(d[0].as_u64().unwrap()).unwrap();
                    let unit = d[1].as_f64().unwrap_or(f64::NAN);
                    let got = o.next_delay(failures, unit).as_millis();
                    if u128::from(d[2].as_u64().unwrap()) != got {
                        failing.push(format!("{name}: delay{d} got {got}"));
                    }
                }
                if let Some(g) = c.get("retireGraceMs").and_then(Value::as_u64)
                    && u128::from(g) != o.retire_grace().as_millis()
                {
                    failing.push(format!("{name}: grace {}", o.retire_grace().as_millis()));
                }
            }
        }
    }
    assert!(cases.len() >= 14);
    assert!(
        failing.is_empty(),
        "{} failing:\n{}",
        failing.len(),
        failing.join("\n")
    );
}

#[test]
fn retire_wait_counts_from_the_switch() {
    use std::time::Duration;
    use twinkey::Timestamp;
    let at = Timestamp::parse_rfc3339("2026-03-01T00:00:00Z").unwrap();
    let grace = Duration::from_secs(34);
    assert_eq!(twinkey::watch::retire_wait(at, grace, at), grace);
    let later = at.plus(Duration::from_secs(30));
    assert_eq!(
        twinkey::watch::retire_wait(at, grace, later),
        Duration::from_secs(4)
    );
    let past = at.plus(Duration::from_secs(60));
    assert_eq!(twinkey::watch::retire_wait(at, grace, past), Duration::ZERO);
    // A clock that went back does not wait longer than the grace.
    let before = at.minus(Duration::from_secs(60));
    assert_eq!(twinkey::watch::retire_wait(at, grace, before), grace);
}
