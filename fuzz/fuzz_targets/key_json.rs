//! Fuzzes the key parser: any input either parses or fails with a coded error; a parsed key
//! round-trips through its JSON, and the safe output carries no inline secret value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinkey::ApiKey;
use twinkey::json::NoSource;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ApiKey::from_json_with(text, &NoSource) {
        Ok(key) => {
            let out = key.to_json();
            let again = ApiKey::from_json_with(&out, &NoSource).expect("own output must parse");
            assert_eq!(again.to_json(), out, "round trip changed the document");
            let doc: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
            for (i, s) in key.secrets().iter().enumerate() {
                let written = doc["keys"][i].get("key");
                assert!(written.is_none() || s.reference.is_some(), "inline secret written out");
            }
        }
        Err(e) => assert!(!e.code().is_empty() && !e.to_string().is_empty()),
    }
});
