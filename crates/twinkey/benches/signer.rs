//! OCI request signing with an RSA-2048 key: one GET, one POST with a 1 KiB body, the same
//! POST without the RSA operation (the signer's own overhead), and verifying that POST.
//! scripts/bench/signing.sh compares these with `openssl speed rsa2048` and the SDK signers.
//!
//! With `TWINKEY_BENCH_CPU=1` it then times sign GET, sign POST and verify by the thread's
//! on-CPU time over 3 s each (`/proc/thread-self/schedstat`) and prints `cpu-time:` lines, so
//! the figures stay comparable with `openssl speed` (which divides by CPU time) on a machine
//! shared with other work.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use twinkey::Timestamp;
use twinkey::signer::{
    self, ReceivedRequest, RequestParts, SignOptions, Signer, VerifyOptions, VerifyingKey,
    verify_request,
};

const URL: &str = "https://generativeai.us-chicago-1.oci.oraclecloud.com/20231130/apikeys?compartmentId=ocid1.compartment.oc1..aaaaaaaatwinkey&limit=10";

fn signer() -> Signer {
    let keys: Value =
        serde_json::from_str(include_str!("../../../tests/vectors/signing/keys.json")).unwrap();
    let k = &keys["keys"]["rsa2048-pkcs1"];
    let key_id = format!(
        "ocid1.tenancy.oc1..aaaa/ocid1.user.oc1..bbbb/{}",
        k["fingerprint"].as_str().unwrap()
    );
    Signer::from_pem(&key_id, k["private_key_pem"].as_str().unwrap(), None).unwrap()
}

fn body() -> Vec<u8> {
    let mut b = br#"{"displayName":"bench","description":""#.to_vec();
    b.resize(1023, b'x');
    b.push(b'}');
    b
}

/// Nanoseconds this thread has run on a CPU (Linux schedstat), if available.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Runs `f` for about 3 s after a warm-up and prints its CPU and wall time per call.
fn cpu_time(name: &str, mut f: impl FnMut()) {
    for _ in 0..100 {
        f();
    }
    let (Some(c0), w0) = (thread_cpu_ns(), Instant::now()) else {
        return;
    };
    let mut n = 0u64;
    while w0.elapsed() < Duration::from_secs(3) {
        for _ in 0..50 {
            f();
        }
        n += 50;
    }
    let wall = w0.elapsed().as_nanos() as f64 / n as f64 / 1000.0;
    let cpu = thread_cpu_ns().unwrap_or(c0).saturating_sub(c0) as f64 / n as f64 / 1000.0;
    println!("cpu-time: {name}: {cpu:.1} us/op (wall {wall:.1} us/op, {n} ops)");
}

fn bench(c: &mut Criterion) {
    let s = signer();
    let now = Timestamp::parse_rfc3339("2026-01-21T10:00:00Z").unwrap();
    let opts = SignOptions::default();
    let body = body();
    let get = RequestParts::new("GET", URL);
    let post = RequestParts::new("POST", URL).body(&body);

    c.bench_function("sign GET (RSA-2048)", |b| {
        b.iter(|| black_box(s.sign(black_box(&get), &opts, now).unwrap()))
    });
    c.bench_function("sign POST 1 KiB (RSA-2048)", |b| {
        b.iter(|| black_box(s.sign(black_box(&post), &opts, now).unwrap()))
    });
    c.bench_function("plan POST 1 KiB (no RSA)", |b| {
        b.iter(|| black_box(signer::plan(black_box(&post), &opts, now).unwrap()))
    });

    let signed = s.sign(&post, &opts, now).unwrap();
    let key = VerifyingKey::from_pem(&s.public_key_pem()).unwrap();
    let target = &signed.url[signed.url.find("/20231130").unwrap()..];
    let received = ReceivedRequest {
        method: "POST",
        target,
        headers: signed
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
        body: &body,
    };
    let vopts = VerifyOptions::default();
    let verify =
        || verify_request(black_box(&received), &vopts, now, |_| Some(key.clone())).unwrap();
    c.bench_function("verify POST 1 KiB (RSA-2048)", |b| {
        b.iter(|| black_box(verify()))
    });

    if std::env::var_os("TWINKEY_BENCH_CPU").is_some() {
        cpu_time("sign GET (RSA-2048)", || {
            drop(black_box(s.sign(&get, &opts, now).unwrap()))
        });
        cpu_time("sign POST 1 KiB (RSA-2048)", || {
            drop(black_box(s.sign(&post, &opts, now).unwrap()))
        });
        cpu_time("verify POST 1 KiB (RSA-2048)", || drop(black_box(verify())));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
