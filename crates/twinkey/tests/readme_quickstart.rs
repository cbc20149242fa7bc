//! README's Rust quick start, compiled and run as written: `quick_start` holds the README's
//! code between its markers (with a stand-in for "your HTTP call"), and
//! `readme_shows_this_code` checks that the README shows exactly that code.
#![allow(clippy::unwrap_used, missing_docs)]

/// "Your HTTP call": the first secret is refused (as after a revocation), the second accepted.
fn send_with_header(authorization: String) -> Result<u16, Box<dyn std::error::Error>> {
    assert!(authorization.starts_with("Bearer sk-readme-"));
    Ok(if authorization.ends_with("one-0123456789") {
        401
    } else {
        200
    })
}

#[rustfmt::skip]
fn quick_start() -> Result<(), Box<dyn std::error::Error>> {
    // README:begin
    use twinkey::{ApiKey, Engine, EngineOptions, ResponseFacts, Verdict};

    // An ApiKey in OCI's own JSON shape (as `oci generative-ai api-key get` prints it); secret
    // values inline, or by reference: "env:OCI_GENAI_KEY_ONE", "file:secrets/key-two.txt".
    let key = ApiKey::from_json(r#"{
      "displayName": "prod",
      "keys": [
        {"keyName": "key-one", "key": "env:OCI_GENAI_KEY_ONE", "state": "ACTIVE", "timeExpiry": "2026-12-01T00:00:00Z"},
        {"keyName": "key-two", "key": "env:OCI_GENAI_KEY_TWO", "state": "ACTIVE", "timeExpiry": "2027-03-01T00:00:00Z"}
      ]
    }"#)?;
    let engine = Engine::new(key, EngineOptions::default())?;
    engine.subscribe(|event| eprintln!("twinkey: {event}")); // failed_over, expiring_soon, ...

    // For each request: ask for a secret, send, report the response; replay once if told to.
    let mut attempt = engine.begin()?;                      // NO_USABLE_SECRET: nothing is sent
    loop {
        let status = send_with_header(attempt.authorization())?;   // your HTTP call
        match engine.complete(&attempt, &ResponseFacts::status(status)) {
            Verdict::Accept { retry_after: _ } => break,   // hand the response on (429: retry_after)
            Verdict::Replay(next) => attempt = next,       // 401: same request, other secret, once
            Verdict::NeedBody => { /* 403: call complete again with .with_body(body) */ break }
            Verdict::Fail(e) => return Err(e.into()),      // e.code() == "NO_USABLE_SECRET", ...
        }
    }
    // README:end
    assert_eq!(engine.current(), "key-two"); // the 401 moved traffic to the other secret
    Ok(())
}

#[test]
fn the_quick_start_runs() {
    // The only environment write of this test binary, before anything reads it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("OCI_GENAI_KEY_ONE", "sk-readme-one-0123456789");
        std::env::set_var("OCI_GENAI_KEY_TWO", "sk-readme-two-9876543210");
    }
    quick_start().unwrap();
}

#[test]
fn readme_shows_this_code() {
    let readme = include_str!("../../../README.md");
    let start = readme.find("```rust\n").expect("a rust block in README.md") + "```rust\n".len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let this = include_str!("readme_quickstart.rs");
    let begin = this.find("// README:begin\n").unwrap() + "// README:begin\n".len();
    let end = this.find("    // README:end").unwrap();
    let here: String = this[begin..end]
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        here, shown,
        "README's Rust quick start differs from the tested copy"
    );
}
