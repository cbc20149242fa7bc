//! Fuzzes the control-plane answer parsers (an API key, a collection, a service error): any
//! body parses or fails with a coded error; an error's message never carries a secret value
//! from the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinkey::control::{parse_api_key, parse_collection, service_error};

fuzz_target!(|data: &[u8]| {
    let status = data.first().map_or(500, |b| 400 + u16::from(*b) % 200);
    let _ = service_error(status, data, Some("req-1")).code();
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_api_key(text) {
        Ok(key) => {
            let again = parse_api_key(&key.to_json());
            assert!(again.is_ok(), "own output parses");
        }
        Err(e) => assert!(!e.code().is_empty()),
    }
    if let Err(e) = parse_collection(text) {
        assert!(!e.code().is_empty());
    }
});
