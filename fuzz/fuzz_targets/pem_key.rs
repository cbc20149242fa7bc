//! Fuzzes private-key loading (PEM: PKCS#1, PKCS#8, encrypted PKCS#8, OpenSSL legacy
//! encryption): any input loads or fails with a coded error, quickly (costly key-derivation
//! parameters are refused before deriving), and never echoes the pass phrase.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinkey::{RequestParts, SignOptions, Signer, Timestamp};

fuzz_target!(|data: &[u8]| {
    // First byte: whether a pass phrase is given (and how long it is).
    let Some((&p, rest)) = data.split_first() else { return };
    let n = usize::from(p % 24).min(rest.len());
    let (pass, pem) = rest.split_at(n);
    let (Ok(pass), Ok(pem)) = (std::str::from_utf8(pass), std::str::from_utf8(pem)) else {
        return;
    };
    let pass = (p & 0x80 != 0).then_some(pass);
    match Signer::from_pem("ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb", pem, pass) {
        Ok(signer) => {
            let req = RequestParts::new("GET", "https://example.oraclecloud.com/20231130/apikeys");
            let signed = signer.sign(&req, &SignOptions::default(), Timestamp::from_millis(1_800_000_000_000));
            assert!(signed.is_ok(), "a loaded key signs");
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            // Echoed = in the message with this pass phrase, not with another of its length
            // (a pass phrase that happens to spell fixed message text is not a leak).
            if let Some(pass) = pass.filter(|p| p.len() >= 8) {
                let other = "\u{1}".repeat(pass.len());
                let without = Signer::from_pem("ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb", pem, Some(&other));
                let leaked = e.to_string().contains(pass)
                    && !without.is_err_and(|w| w.to_string().contains(pass));
                assert!(!leaked, "the pass phrase is never echoed");
            }
        }
    }
});
