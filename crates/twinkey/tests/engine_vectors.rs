//! Runs the shared engine vectors in `tests/vectors/engine/` (format: tests/vectors/README.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use twinkey::{
    ApiKey, Attempt, Engine, EngineOptions, Event, ManualClock, ResponseFacts, SecretState,
    Timestamp, Verdict,
};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/engine")
}

fn ms(v: &Value, name: &str) -> Option<Duration> {
    v.get(name)
        .and_then(Value::as_u64)
        .map(Duration::from_millis)
}

fn options(v: Option<&Value>) -> EngineOptions {
    let mut o = EngineOptions::default();
    let Some(v) = v else { return o };
    o.prefer = v.get("prefer").and_then(Value::as_str).map(str::to_string);
    if let Some(d) = ms(v, "expirySkewMs") {
        o.expiry_skew = d;
    }
    if let Some(d) = ms(v, "cooldownBaseMs") {
        o.cooldown_base = d;
    }
    if let Some(d) = ms(v, "cooldownMaxMs") {
        o.cooldown_max = d;
    }
    if let Some(d) = ms(v, "expiringSoonWindowMs") {
        o.expiring_soon_window = d;
    }
    if let Some(d) = ms(v, "probeLeaseMs") {
        o.probe_lease = d;
    }
    if let Some(n) = v.get("rejectionBurst").and_then(Value::as_u64) {
        o.alerts.rejection_burst = u32::try_from(n).unwrap();
    }
    if let Some(d) = ms(v, "rejectionBurstWindowMs") {
        o.alerts.rejection_burst_window = d;
    }
    o
}

/// An event as the vectors spell it.
fn event_json(e: &Event) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("kind".into(), json!(e.kind.as_str()));
    m.insert("secret".into(), json!(e.secret));
    if let Some(to) = &e.to {
        m.insert("to".into(), json!(to));
    }
    if let Some(r) = &e.reason {
        m.insert("reason".into(), json!(r.code()));
    }
    if let Some(s) = e.status {
        m.insert("status".into(), json!(s));
    }
    if let Some(t) = e.cooldown_until {
        m.insert("cooldownUntil".into(), json!(t.to_rfc3339()));
    }
    if let Some(t) = e.expires_at {
        m.insert("expiresAt".into(), json!(t.to_rfc3339()));
    }
    if let Some(n) = e.count {
        m.insert("count".into(), json!(n));
    }
    Value::Object(m)
}

/// `expected` is a subset of `actual` (objects: every expected field equal).
fn subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| subset(v, av))),
        _ => expected == actual,
    }
}

struct Run {
    engine: Engine,
    clock: ManualClock,
    events: Arc<Mutex<Vec<Event>>>,
    attempts: HashMap<String, Attempt>,
    last: Option<String>,
}

impl Run {
    fn take_events(&self) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .drain(..)
            .map(|e| event_json(&e))
            .collect()
    }

    fn label(&mut self, step: &Value, field: &str) -> String {
        match step.get(field).and_then(Value::as_str) {
            Some(l) => l.to_string(),
            None => {
                let n = format!("#{}", self.attempts.len());
                n
            }
        }
    }
}

fn check_error(expect: &Value, err: Option<&twinkey::Error>) -> Result<(), String> {
    let want = expect.get("error").and_then(Value::as_str);
    let got = err.map(twinkey::Error::code);
    if want != got {
        return Err(format!("error: want {want:?}, got {got:?} ({err:?})"));
    }
    if let (Some(reasons), Some(twinkey::Error::NoUsableSecret { reasons: got })) =
        (expect.get("reasons"), err)
    {
        let got: serde_json::Map<String, Value> = got
            .iter()
            .map(|r| (r.secret.clone(), json!(r.reason.code())))
            .collect();
        if !subset(reasons, &Value::Object(got.clone())) {
            return Err(format!("reasons: want {reasons}, got {got:?}"));
        }
    }
    if let Some(err) = err {
        for s in ["sk-one", "sk-two", "sk-new"] {
            if err.to_string().contains(s) {
                return Err(format!("error message leaks a secret: {err}"));
            }
        }
    }
    Ok(())
}

fn check_attempt(expect: &Value, a: &Attempt) -> Result<(), String> {
    if let Some(s) = expect.get("secret").and_then(Value::as_str)
        && a.secret_name() != s
    {
        return Err(format!("secret: want {s}, got {}", a.secret_name()));
    }
    if let Some(p) = expect.get("probe").and_then(Value::as_bool)
        && a.is_probe() != p
    {
        return Err(format!("probe: want {p}, got {}", a.is_probe()));
    }
    Ok(())
}

fn step(run: &mut Run, step: &Value) -> Result<(), String> {
    let op = step["op"].as_str().ok_or("step without op")?;
    let expect = step.get("expect").cloned().unwrap_or(json!({}));
    match op {
        "begin" => {
            let label = run.label(step, "as");
            match run.engine.begin() {
                Ok(a) => {
                    check_error(&expect, None)?;
                    check_attempt(&expect, &a)?;
                    run.attempts.insert(label.clone(), a);
                    run.last = Some(label);
                }
                Err(e) => check_error(&expect, Some(&e))?,
            }
        }
        "respond" => {
            let label = step
                .get("attempt")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| run.last.clone())
                .ok_or("respond without attempt")?;
            let attempt = run
                .attempts
                .get(&label)
                .ok_or(format!("no attempt {label}"))?;
            let status = step["status"].as_u64().ok_or("respond without status")? as u16;
            let headers: Vec<(String, String)> = step
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let body = step.get("body").and_then(Value::as_str).unwrap_or("");
            let mut facts = ResponseFacts::status(status);
            for (k, v) in &headers {
                facts = facts.header(k, v);
            }
            let mut verdict = run.engine.complete(attempt, &facts);
            let needed_body = matches!(verdict, Verdict::NeedBody);
            if needed_body {
                verdict = run
                    .engine
                    .complete(attempt, &facts.clone().with_body(body.as_bytes()));
            }
            if let Some(nb) = expect.get("needBody").and_then(Value::as_bool)
                && nb != needed_body
            {
                return Err(format!("needBody: want {nb}, got {needed_body}"));
            }
            let want = expect["verdict"]
                .as_str()
                .ok_or("respond without expect.verdict")?;
            if verdict.kind() != want {
                return Err(format!("verdict: want {want}, got {verdict:?}"));
            }
            match verdict {
                Verdict::Accept { retry_after } => {
                    let want = expect.get("retryAfterMs").and_then(Value::as_u64);
                    let got = retry_after.map(|d| d.as_millis() as u64);
                    if want != got {
                        return Err(format!("retryAfterMs: want {want:?}, got {got:?}"));
                    }
                }
                Verdict::Replay(next) => {
                    check_attempt(&expect, &next)?;
                    if !next.is_replay() {
                        return Err("replay attempt not marked as replay".into());
                    }
                    let l = run.label(&expect, "as");
                    run.attempts.insert(l.clone(), next);
                    run.last = Some(l);
                }
                Verdict::Fail(e) => check_error(&expect, Some(&e))?,
                Verdict::NeedBody => return Err("NeedBody twice".into()),
            }
        }
        "abandon" => {
            let label = step
                .get("attempt")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| run.last.clone())
                .ok_or("abandon without attempt")?;
            let attempt = run
                .attempts
                .get(&label)
                .ok_or(format!("no attempt {label}"))?;
            check_error(&expect, run.engine.abandon(attempt).err().as_ref())?;
        }
        "advance" => run
            .clock
            .advance_ms(step["ms"].as_i64().ok_or("advance without ms")?),
        "activate" | "deactivate" | "revoke" | "renew" | "syncState" => {
            let name = step["secret"].as_str().ok_or("transition without secret")?;
            let r = match op {
                "activate" => run.engine.activate(name),
                "deactivate" => run.engine.deactivate(name),
                "revoke" => run.engine.revoke(name),
                "renew" => {
                    let expiry = step
                        .get("expiry")
                        .and_then(Value::as_str)
                        .map(|t| Timestamp::parse_rfc3339(t).unwrap());
                    run.engine
                        .renew(name, step["value"].as_str().unwrap_or(""), expiry)
                }
                _ => run.engine.sync_state(
                    name,
                    SecretState::parse(step["state"].as_str().unwrap_or("")),
                ),
            };
            check_error(&expect, r.err().as_ref())?;
        }
        "follow" => {
            let doc = ApiKey::from_json(&step["doc"].to_string()).map_err(|e| e.to_string())?;
            let source =
                twinkey::watch::WatchSource::parse(step["source"].as_str().unwrap_or("file"))
                    .map_err(|e| e.to_string())?;
            match run.engine.follow_key(&doc, source) {
                Ok(update) => {
                    check_error(&expect, None)?;
                    let got = update.to_json_value();
                    for field in ["changes", "prefer"] {
                        let want = expect.get(field).unwrap_or(&Value::Null);
                        if &got[field] != want {
                            return Err(format!("{field}: want {want}, got {}", got[field]));
                        }
                    }
                }
                Err(e) => check_error(&expect, Some(&e))?,
            }
        }
        "prefer" => {
            let r = run
                .engine
                .set_preferred(step.get("secret").and_then(Value::as_str));
            check_error(&expect, r.err().as_ref())?;
        }
        "status" => {
            let st = run.engine.status();
            let got: serde_json::Map<String, Value> = st
                .secrets
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        json!({
                            "state": s.state.as_str(),
                            "usable": s.usable,
                            "reason": s.reason.as_ref().map(|r| r.code()),
                            "health": s.health.as_str(),
                            "cooldownUntil": s.cooldown_until.map(|t| t.to_rfc3339()),
                            "consecutiveRejections": s.consecutive_rejections,
                            "current": s.current,
                            "preferred": s.preferred,
                            "counters": {
                                "attempts": s.counters.attempts,
                                "accepted": s.counters.accepted,
                                "rejected": s.counters.rejected,
                                "inconclusive": s.counters.inconclusive,
                            },
                        }),
                    )
                })
                .collect();
            let got = Value::Object(got);
            let want = expect
                .get("secrets")
                .ok_or("status without expect.secrets")?;
            if !subset(want, &got) {
                return Err(format!("status: want {want}, got {got}"));
            }
        }
        other => return Err(format!("unknown op {other}")),
    }
    let events = run.take_events();
    let want = expect
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if want.len() != events.len() || !want.iter().zip(&events).all(|(w, g)| subset(w, g)) {
        return Err(format!(
            "events: want {}, got {}",
            Value::Array(want),
            Value::Array(events)
        ));
    }
    Ok(())
}

fn run_scenario(file_keys: &Value, sc: &Value) -> Result<(), String> {
    let key = match &sc["key"] {
        Value::String(name) => file_keys
            .get(name)
            .cloned()
            .ok_or(format!("no key {name}"))?,
        v => v.clone(),
    };
    let key = ApiKey::from_json(&key.to_string()).map_err(|e| format!("key: {e}"))?;
    let start = Timestamp::parse_rfc3339(sc["start"].as_str().ok_or("no start")?).unwrap();
    let clock = ManualClock::new(start);
    let engine = match Engine::with_clock(key, options(sc.get("options")), Arc::new(clock.clone()))
    {
        Ok(e) => e,
        Err(e) => {
            let want = sc.get("constructError").and_then(Value::as_str);
            return if want == Some(e.code()) {
                Ok(())
            } else {
                Err(format!("engine: {e}"))
            };
        }
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    engine.subscribe(move |e| sink.lock().unwrap().push(e.clone()));
    let mut run = Run {
        engine,
        clock,
        events,
        attempts: HashMap::new(),
        last: None,
    };
    for (i, s) in sc["steps"].as_array().ok_or("no steps")?.iter().enumerate() {
        step(&mut run, s).map_err(|e| format!("step {i} ({}): {e}", s["op"]))?;
    }
    Ok(())
}

#[test]
fn engine_vectors() {
    let mut files: Vec<_> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut count = 0;
    let mut failures = Vec::new();
    for f in &files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let keys = doc.get("keys").cloned().unwrap_or(json!({}));
        for sc in doc["scenarios"].as_array().unwrap() {
            count += 1;
            if let Err(e) = run_scenario(&keys, sc) {
                failures.push(format!(
                    "{} / {}: {e}",
                    f.file_name().unwrap().to_string_lossy(),
                    sc["name"]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count >= 40, "only {count} engine scenarios");
    println!("{count} engine scenarios passed");
}
