//! Fuzzes the destination check (where a secret may be sent) differentially against the
//! WHATWG URL parser (`url`, what browsers, Node and reqwest follow): whenever twinkey allows a
//! URL, the host that parser sees is loopback, an OCI inference host or an allowed host, and
//! plain HTTP only goes where allowed. A URL twinkey allows but that parser would send elsewhere
//! is a parser-confusion hole.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use twinkey::destination::{Destinations, is_oci_inference_host};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    static D: OnceLock<Destinations> = OnceLock::new();
    let d = D.get_or_init(|| Destinations::new(["proxy.example.com", "*.corp.example", "http://gw.internal"]).unwrap());
    let Ok(()) = d.check(text) else { return };
    let parsed = url::Url::parse(text).expect("an allowed URL parses");
    let host = match parsed.host().expect("an allowed URL has a host") {
        url::Host::Domain(h) => h.trim_end_matches('.').to_string(),
        url::Host::Ipv4(ip) => {
            assert!(ip.is_loopback(), "allowed IPv4 {ip} is not loopback: {text:?}");
            return;
        }
        url::Host::Ipv6(ip) => {
            assert!(ip.is_loopback(), "allowed IPv6 {ip} is not loopback: {text:?}");
            return;
        }
    };
    let https = parsed.scheme() == "https";
    let ok = host == "localhost"
        || (https && is_oci_inference_host(&host))
        || (https && host == "proxy.example.com")
        || (https && host.ends_with(".corp.example"))
        || host == "gw.internal";
    assert!(ok, "twinkey allowed {text:?}, which goes to {}://{host}", parsed.scheme());
    assert!(parsed.username().is_empty() && parsed.password().is_none(), "user info in {text:?}");
});
