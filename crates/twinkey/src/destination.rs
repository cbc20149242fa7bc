//! Where a secret may be sent. An OCI Generative AI secret goes only to an OCI Generative AI
//! inference host (`https://inference.generativeai.<region>.oci.<realm domain>`), to loopback
//! (the emulator, a local relay), or to a host the user listed (`allowed_hosts`: `host` or
//! `*.domain`, HTTPS only; `http://host` to allow plain HTTP to it). Anything else is
//! `DESTINATION_NOT_ALLOWED`: the default base URL of an SDK (`api.openai.com`), a redirect to
//! another host, or a URL built to confuse a parser (user info, backslashes, percent-encoded
//! or non-ASCII host names, and their `xn--` forms, are refused rather than interpreted).

use crate::error::{Error, Result};

/// The domains of OCI's realms (`oc1` is `oraclecloud.com`).
pub const REALM_DOMAINS: [&str; 4] = [
    "oraclecloud.com",
    "oraclegovcloud.com",
    "oraclegovcloud.uk",
    "oraclecloud8.com",
];

/// One entry of `allowed_hosts`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    /// Lower-case host, or the domain after `*.`.
    host: String,
    /// `*.domain`: any host below `domain` (not `domain` itself).
    wildcard: bool,
    /// Plain HTTP allowed too (`http://host`).
    http: bool,
}

/// The destinations a secret may be sent to (OCI inference hosts, loopback, `allowed_hosts`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Destinations {
    allowed: Vec<Pattern>,
}

/// The parts of a URL the check reads.
struct Target<'a> {
    https: bool,
    host: &'a str,
    /// The host was written in brackets (an IPv6 literal).
    ipv6: bool,
}

fn refused(url: &str, why: impl Into<String>) -> Error {
    Error::DestinationNotAllowed {
        destination: shown(url),
        reason: why.into(),
    }
}

/// A URL as shown in an error: scheme and host only (a path or query could carry anything).
fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "a URL without scheme and host".to_string();
    };
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    format!("{scheme}://{authority}")
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect()
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                // An IDNA A-label is a non-ASCII name in disguise: WHATWG parsers decode it
                // (or reject it when the punycode is bad), so the check could disagree with them.
                && !label.starts_with("xn--")
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Empty (the scheme's default) or a number up to 65535.
fn valid_port(port: &str) -> bool {
    port.is_empty() || (port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok())
}

fn parse(url: &str) -> Result<Target<'_>> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| refused(url, "it is not an absolute http(s) URL"))?;
    let https = match scheme {
        s if s.eq_ignore_ascii_case("https") => true,
        s if s.eq_ignore_ascii_case("http") => false,
        _ => return Err(refused(url, "only http and https URLs carry a secret")),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.chars().any(|c| {
        matches!(c, '@' | '\\' | '%') || c.is_whitespace() || c.is_control() || !c.is_ascii()
    }) {
        return Err(refused(
            url,
            "the URL's authority holds user info, a backslash, percent-encoding or non-ASCII",
        ));
    }
    if rest[end..].starts_with('\\') {
        return Err(refused(url, "the URL holds a backslash"));
    }
    let ipv6 = authority.starts_with('[');
    let host = if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6
            .split_once(']')
            .ok_or_else(|| refused(url, "an IPv6 address without its closing bracket"))?;
        match after.strip_prefix(':') {
            Some(port) if valid_port(port) => inner,
            None if after.is_empty() => inner,
            _ => return Err(refused(url, "junk or a bad port after the IPv6 address")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, port)) if valid_port(port) => h,
            Some(_) => return Err(refused(url, "a port that is not a number up to 65535")),
            None => authority,
        }
    };
    Ok(Target { https, host, ipv6 })
}

/// A dotted-decimal octet as written canonically: digits only, no leading zero (`010` is
/// octal to some parsers and an error to others), at most 255.
fn canonical_octet(o: &str) -> bool {
    !o.is_empty()
        && o.bytes().all(|b| b.is_ascii_digit())
        && (o == "0" || !o.starts_with('0'))
        && o.parse::<u8>().is_ok()
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4 && octets[0] == "127" && octets.iter().all(|o| canonical_octet(o))
}

/// Whether `host` (lower case) is an OCI Generative AI inference host of some region and realm.
pub fn is_oci_inference_host(host: &str) -> bool {
    let Some(rest) = host.strip_prefix("inference.generativeai.") else {
        return false;
    };
    REALM_DOMAINS.iter().any(|domain| {
        rest.strip_suffix(domain)
            .and_then(|r| r.strip_suffix(".oci."))
            .is_some_and(|region| {
                !region.is_empty()
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    })
}

impl Destinations {
    /// OCI inference hosts and loopback, plus `allowed_hosts` (`host`, `*.domain`, either with
    /// `http://` in front to allow plain HTTP). `INVALID_OPTIONS` for an entry that is not a
    /// host name.
    pub fn new<I, S>(allowed_hosts: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut allowed = Vec::new();
        for entry in allowed_hosts {
            let raw = entry.as_ref().trim();
            let bad = || Error::InvalidOptions {
                reason: format!(
                    "allowed_hosts entry {:?} is not a host name (`host`, `*.domain`, \
                     `http://host`)",
                    raw.chars().take(80).collect::<String>()
                ),
            };
            let lower = raw.to_ascii_lowercase();
            let (http, rest) = match lower.strip_prefix("http://") {
                Some(r) => (true, r),
                None => (false, lower.strip_prefix("https://").unwrap_or(&lower)),
            };
            let rest = rest.trim_end_matches('/');
            let (wildcard, host) = match rest.strip_prefix("*.") {
                Some(h) => (true, h),
                None => (false, rest),
            };
            if !valid_host(host) || (wildcard && !host.contains('.')) {
                return Err(bad());
            }
            allowed.push(Pattern {
                host: host.to_string(),
                wildcard,
                http,
            });
        }
        Ok(Destinations { allowed })
    }

    /// The user's own entries, as given to [`Destinations::new`] (normalised).
    pub fn allowed_hosts(&self) -> Vec<String> {
        self.allowed
            .iter()
            .map(|p| {
                let scheme = if p.http { "http://" } else { "" };
                let star = if p.wildcard { "*." } else { "" };
                format!("{scheme}{star}{}", p.host)
            })
            .collect()
    }

    /// `Ok` when a secret may be sent to `url`; `DESTINATION_NOT_ALLOWED` (naming the scheme
    /// and host only) otherwise.
    pub fn check(&self, url: &str) -> Result<()> {
        let t = parse(url)?;
        if t.ipv6 {
            return if t.host == "::1" {
                Ok(())
            } else {
                Err(refused(
                    url,
                    "the only IPv6 address a secret goes to is ::1",
                ))
            };
        }
        let host = t.host.to_ascii_lowercase();
        let host = host.strip_suffix('.').unwrap_or(&host);
        if is_loopback(host) {
            return Ok(());
        }
        if !valid_host(host) {
            return Err(refused(
                url,
                "the host is not a DNS name or loopback address",
            ));
        }
        if is_oci_inference_host(host) {
            return if t.https {
                Ok(())
            } else {
                Err(refused(
                    url,
                    "OCI inference hosts are reached over https only",
                ))
            };
        }
        let listed = self.allowed.iter().find(|p| {
            if p.wildcard {
                host.strip_suffix(p.host.as_str())
                    .is_some_and(|r| r.len() > 1 && r.ends_with('.'))
            } else {
                host == p.host
            }
        });
        match listed {
            Some(p) if t.https || p.http => Ok(()),
            Some(_) => Err(refused(
                url,
                "the host is listed for https only (list it as http://host to allow http)",
            )),
            None => Err(refused(
                url,
                "it is not an OCI Generative AI host, loopback, or in allowed_hosts",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_show_scheme_and_host_only() {
        let d = Destinations::default();
        let e = d
            .check("https://api.openai.com/v1/chat?key=sk-123")
            .unwrap_err();
        assert_eq!(e.code(), "DESTINATION_NOT_ALLOWED");
        let text = e.to_string();
        assert!(text.contains("https://api.openai.com"), "{text}");
        assert!(!text.contains("sk-123") && !text.contains("/v1"), "{text}");
    }

    #[test]
    fn entries_are_normalised() {
        let d =
            Destinations::new(["Proxy.Example.com", "*.corp.example", "http://gw.local"]).unwrap();
        assert_eq!(
            d.allowed_hosts(),
            ["proxy.example.com", "*.corp.example", "http://gw.local"]
        );
        for bad in ["", "*.com", "a b", "https://x/y", "user@host", "*"] {
            assert_eq!(
                Destinations::new([bad]).unwrap_err().code(),
                "INVALID_OPTIONS",
                "{bad}"
            );
        }
    }
}
