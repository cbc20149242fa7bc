//! Fuzzes `~/.oci/config` parsing (INI, profiles, `DEFAULT` inheritance): any text parses or
//! fails with a coded error; a parsed profile answers every question without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinkey::signer::OciProfile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let profile = text.lines().next().unwrap_or("DEFAULT").get(..16).unwrap_or("DEFAULT");
    for name in ["DEFAULT", profile] {
        match OciProfile::parse(text, name) {
            Ok(p) => {
                let _ = p.user_key_id();
                let _ = p.pass_phrase();
                for key in ["user", "tenancy", "fingerprint", "key_file", "region", "security_token_file"] {
                    let _ = p.get(key);
                }
                // Never reads files it was not asked to: only the parse is fuzzed here.
            }
            Err(e) => assert!(!e.code().is_empty() && !e.to_string().is_empty()),
        }
    }
});
