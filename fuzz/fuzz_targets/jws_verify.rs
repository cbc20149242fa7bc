//! Fuzzes server-token verification (compact JWS: header, payload, signature; EdDSA and
//! HS256) and the browser client's `peek_lifetime`: every input is refused with a token code
//! unless it is a token the ring really signed; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinkey::Timestamp;
use twinkey::token::{VerifyOptions, peek_lifetime};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let ring = twinkey_fuzz::shared_ring();
    let now = Timestamp::from_millis(1_800_000_100_000);
    match ring.verify(token, &VerifyOptions::new("twinkey-relay"), now) {
        Ok(v) => {
            assert!(!v.claims.subject.is_empty());
            assert!(!v.claims.subject.chars().any(char::is_control));
        }
        Err(e) => assert!(e.code().starts_with("TOKEN_") || e.code() == "INVALID_TOKEN", "{}", e.code()),
    }
    let _ = peek_lifetime(token);
});
