//! Fuzzes request signing with structured requests (method, path and query, headers, body):
//! signing succeeds or fails with a coded error, and whatever twinkey signs, twinkey's own
//! verifier (the emulator's) accepts, with exactly the signed header list.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use twinkey::signer::{ReceivedRequest, VerifyOptions, VerifyingKey, verify_request};
use twinkey::{RequestParts, SignOptions, Timestamp};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: u8,
    path: &'a str,
    headers: Vec<(u8, &'a str)>,
    body: Option<&'a [u8]>,
    x_date: bool,
    now_s: u32,
}

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];
// No `date`/`x-date`: a caller-given date is signed as given (the signer adds a valid one
// when the request lacks it), so a fuzzed date would only test the verifier's date check.
const NAMES: [&str; 7] = [
    "content-type",
    "opc-request-id",
    "if-match",
    "opc-retry-token",
    "x-extra",
    "content-length",
    "Host",
];

fuzz_target!(|input: Input<'_>| {
    let signer = twinkey_fuzz::signer();
    let method = METHODS[usize::from(input.method) % METHODS.len()];
    let url = format!("https://generativeai.us-chicago-1.oci.oraclecloud.com/{}", input.path);
    let mut parts = RequestParts::new(method, &url);
    for (n, v) in input.headers.iter().take(6) {
        parts = parts.header(NAMES[usize::from(*n) % NAMES.len()], v);
    }
    if let Some(b) = input.body {
        parts = parts.body(b);
    }
    let options = if input.x_date { SignOptions::x_date() } else { SignOptions::default() };
    let now = Timestamp::from_millis(1_700_000_000_000 + i64::from(input.now_s % 1_000_000) * 1000);
    let signed = match signer.sign(&parts, &options, now) {
        Ok(s) => s,
        Err(e) => {
            assert!(matches!(e.code(), "INVALID_REQUEST" | "SIGNING_FAILED"), "{}", e.code());
            return;
        }
    };
    // What goes on the wire: the caller's headers, replaced by the signer's of the same name.
    let mut wire: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter(|(n, _)| signed.header(n).is_none())
        .copied()
        .collect();
    wire.extend(signed.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let target = signed
        .url
        .split_once("oraclecloud.com")
        .map_or("/", |(_, t)| if t.is_empty() { "/" } else { t });
    let received = ReceivedRequest {
        method,
        target,
        headers: wire,
        body: input.body.unwrap_or_default(),
    };
    let key = VerifyingKey::from_pem(&signer.public_key_pem()).unwrap();
    let verified = verify_request(&received, &VerifyOptions::default(), now, |id| {
        (id == twinkey_fuzz::KEY_ID).then(|| key.clone())
    });
    match verified {
        Ok(v) => assert_eq!(v.key_id, twinkey_fuzz::KEY_ID),
        Err(e) => panic!("twinkey refused its own signature: {} {e:?}\n{signed:?}", e.code()),
    }
});
