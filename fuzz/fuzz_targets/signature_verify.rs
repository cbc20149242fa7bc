//! Fuzzes the server side of OCI request signatures (the emulator's control plane): any
//! `Authorization` value and header set is refused with a coded reason, never a panic, and
//! never accepted without the real key's signature.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use twinkey::Timestamp;
use twinkey::signer::{ReceivedRequest, SignatureParams, VerifyOptions, VerifyingKey, verify_request};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    authorization: &'a str,
    method: &'a str,
    target: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    if let Err(e) = SignatureParams::parse(input.authorization) {
        assert!(!e.code().is_empty());
    }
    let mut headers = input.headers.clone();
    headers.push(("authorization", input.authorization));
    let received = ReceivedRequest {
        method: input.method,
        target: input.target,
        headers,
        body: input.body,
    };
    let key = VerifyingKey::from_pem(&twinkey_fuzz::signer().public_key_pem()).unwrap();
    let now = Timestamp::from_millis(1_800_000_000_000);
    let out = verify_request(&received, &VerifyOptions::default(), now, |_| Some(key.clone()));
    assert!(out.is_err(), "a fuzzed request cannot carry a valid RSA signature");
});
