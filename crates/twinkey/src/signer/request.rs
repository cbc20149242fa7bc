//! The facts of a request to sign, the URL rule (host and `(request-target)`), and header
//! validation.

use crate::error::{Error, Result};

/// The facts of an outgoing request, borrowed from the caller.
///
/// **URL rule.** `url` must be absolute `http://` or `https://` with a host. twinkey sends and
/// signs it as follows, so the signature matches what any transport puts on the wire:
/// - the host is lowercased; a default port (`:443` for https, `:80` for http) is dropped;
///   user info (`user:pass@`) and non-ASCII hosts (use the punycode form) are rejected;
/// - in the path and query, only characters that cannot appear in a URI are percent-encoded
///   (as UTF-8, uppercase hex): space, control characters, non-ASCII, `"`, `<`, `>`, `\`, `^`,
///   `` ` ``, `{`, `|`, `}`, and a `%` that does not start a `%XX` escape. Existing `%XX`
///   escapes, `+` and reserved characters are left exactly as they are; the query is never
///   reordered;
/// - `.` and `..` path segments are resolved (as every HTTP client does before sending), an
///   empty path becomes `/`, a trailing empty `?` and any `#fragment` are dropped.
///
/// The resulting URL is [`SignedRequest::url`](super::SignedRequest::url); its path and query
/// are the `(request-target)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestParts<'a> {
    /// HTTP method as sent (`GET`, `POST`, ...); the signing string uses it lowercased.
    pub method: &'a str,
    /// Absolute URL (see the URL rule above).
    pub url: &'a str,
    /// Headers the request already carries. Names are case-insensitive; a header that is
    /// signed must appear at most once. CR, LF and NUL are rejected in names and values. A
    /// signed header given here (`host`, `content-type`, `date`, ...) is signed as given,
    /// since it is what will be sent; `content-length` and `x-content-sha256` must match the
    /// body.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The body bytes; `None` is an empty body (POST/PUT/PATCH still sign
    /// `content-length: 0` and the hash of nothing).
    pub body: Option<&'a [u8]>,
}

impl<'a> RequestParts<'a> {
    /// A request without headers or body.
    pub fn new(method: &'a str, url: &'a str) -> Self {
        RequestParts {
            method,
            url,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header the request carries.
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = Some(body);
        self
    }
}

/// A URL split and normalized by the URL rule.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ParsedUrl {
    /// The URL to send.
    pub url: String,
    /// `host[:port]` as signed.
    pub host: String,
    /// Path and query as sent.
    pub target: String,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidRequest {
        reason: reason.into(),
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A method is an RFC 9110 token.
pub(crate) fn validate_method(method: &str) -> Result<()> {
    if !method.is_empty() && method.bytes().all(is_tchar) {
        Ok(())
    } else {
        Err(invalid(format!("bad HTTP method {method:?}")))
    }
}

/// A header name is a token; a value has no CR, LF, NUL or other control character except
/// horizontal tab (header injection). The value is never echoed in the error.
pub(crate) fn validate_header(name: &str, value: &str) -> Result<()> {
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(invalid(format!("bad header name {name:?}")));
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(invalid(format!(
            "header {name} has a control character (CR, LF, NUL, ...) in its value"
        )));
    }
    Ok(())
}

/// Splits and normalizes `url` by the URL rule of [`RequestParts`].
pub(crate) fn parse_url(url: &str) -> Result<ParsedUrl> {
    let url = url.trim_matches(|c: char| c <= ' ');
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("URL has no host (expected http://host/... or https://host/...)"))?;
    let (scheme, default_port) = if scheme.eq_ignore_ascii_case("https") {
        ("https", "443")
    } else if scheme.eq_ignore_ascii_case("http") {
        ("http", "80")
    } else {
        return Err(invalid(format!("unsupported URL scheme {scheme:?}")));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(end);
    let host = normalize_authority(authority, default_port)?;

    let (rest, _fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let mut target = remove_dot_segments(&encode(path));
    if target.is_empty() {
        target.push('/');
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        target.push('?');
        // WHATWG URL parsers (reqwest's `url`, undici, browsers) send `'` in a query as
        // `%27`; encoding it here keeps the URL a fixed point, so what is sent is what is signed.
        target.push_str(&encode(q).replace('\'', "%27"));
    }
    Ok(ParsedUrl {
        url: format!("{scheme}://{host}{target}"),
        host,
        target,
    })
}

/// `host[:port]`, lowercased, default port dropped.
fn normalize_authority(authority: &str, default_port: &str) -> Result<String> {
    if authority.contains('@') {
        return Err(invalid("URL must not contain user info (user:password@)"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| invalid("URL has an unterminated IPv6 host"))?;
        if addr.is_empty()
            || !addr
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(invalid("URL has a bad IPv6 host"));
        }
        let port = match after {
            "" => "",
            p => p
                .strip_prefix(':')
                .ok_or_else(|| invalid("URL has junk after its IPv6 host"))?,
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (h, p) = authority.split_once(':').unwrap_or((authority, ""));
        if h.is_empty() {
            return Err(invalid("URL has no host"));
        }
        if !h.is_ascii() {
            return Err(invalid(
                "URL host is not ASCII; use its punycode (xn--) form",
            ));
        }
        if !h
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(invalid(format!(
                "URL host {h:?} has characters a host cannot have"
            )));
        }
        (h.to_ascii_lowercase(), p)
    };
    if port.is_empty() {
        return Ok(host);
    }
    let number: u16 = port
        .parse()
        .ok()
        .filter(|_| port.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| invalid(format!("URL has a bad port {port:?}")))?;
    if number.to_string() == default_port {
        Ok(host)
    } else {
        Ok(format!("{host}:{number}"))
    }
}

/// Characters left as they are: unreserved, reserved (gen- and sub-delims) and `%` (checked
/// separately).
fn is_uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b)
}

/// Percent-encodes what cannot appear in a URI; keeps valid `%XX` escapes.
fn encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape_start = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if is_uri_char(b) || escape_start {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

/// `.` or its encoded forms, as WHATWG URL parsers (and so HTTP clients) treat them.
fn is_single_dot(seg: &str) -> bool {
    seg == "." || seg.eq_ignore_ascii_case("%2e")
}

fn is_double_dot(seg: &str) -> bool {
    matches!(
        seg.to_ascii_lowercase().as_str(),
        ".." | ".%2e" | "%2e." | "%2e%2e"
    )
}

/// RFC 3986 5.2.4 on an absolute path (segments `.` and `..`, also percent-encoded).
fn remove_dot_segments(path: &str) -> String {
    let Some(rest) = path.strip_prefix('/') else {
        return path.to_string();
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        if is_single_dot(seg) {
            if i == last {
                out.push("");
            }
        } else if is_double_dot(seg) {
            out.pop();
            if i == last {
                out.push("");
            }
        } else {
            out.push(seg);
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn target(url: &str) -> String {
        parse_url(url).unwrap().target
    }

    #[test]
    fn keeps_escapes_plus_and_reserved_and_order() {
        let u =
            "https://h/20231130/apikeys?b=1&a=team%20key%2Fprod%3Av1%26x%2By&q=a+b&r=:@!$%27()*,;=";
        assert_eq!(target(u), u.trim_start_matches("https://h"));
    }

    #[test]
    fn encodes_what_cannot_appear_in_a_uri() {
        assert_eq!(
            target("https://h/a b/é?x=日 本&y=\"<>\\^`{|}&z=50%off&w=%zz"),
            "/a%20b/%C3%A9?x=%E6%97%A5%20%E6%9C%AC&y=%22%3C%3E%5C%5E%60%7B%7C%7D&z=50%25off&w=%25zz"
        );
        assert_eq!(target("https://h/p?\t\u{7f}"), "/p?%09%7F");
        assert_eq!(target("https://h/it's?q=it's"), "/it's?q=it%27s");
    }

    #[test]
    fn empty_path_query_and_fragment() {
        assert_eq!(target("https://h"), "/");
        assert_eq!(target("https://h?"), "/");
        assert_eq!(target("https://h/x?"), "/x");
        assert_eq!(target("https://h/x?a=1#frag?b"), "/x?a=1");
        assert_eq!(target("https://h?a=1"), "/?a=1");
    }

    #[test]
    fn dot_segments_are_resolved() {
        assert_eq!(target("https://h/a/./b/../c"), "/a/c");
        assert_eq!(target("https://h/a/b/.."), "/a/");
        assert_eq!(target("https://h/a/%2E%2e/b/%2e"), "/b/");
        assert_eq!(target("https://h/../../x"), "/x");
        assert_eq!(target("https://h/a..b/.x"), "/a..b/.x");
    }

    #[test]
    fn host_normalization() {
        let p = parse_url("HTTPS://IAAS.Example.COM:443/x").unwrap();
        assert_eq!(
            (p.host.as_str(), p.url.as_str()),
            ("iaas.example.com", "https://iaas.example.com/x")
        );
        assert_eq!(parse_url("http://h:80/").unwrap().host, "h");
        assert_eq!(parse_url("http://h:443/").unwrap().host, "h:443");
        assert_eq!(
            parse_url("https://localhost:8443/").unwrap().host,
            "localhost:8443"
        );
        assert_eq!(parse_url("https://h:/").unwrap().host, "h");
        assert_eq!(parse_url("http://[::1]:8080/").unwrap().host, "[::1]:8080");
        assert_eq!(parse_url("https://[FE80::1]/").unwrap().host, "[fe80::1]");
    }

    #[test]
    fn urls_without_host_or_with_bad_parts_are_invalid_request() {
        for bad in [
            "/20231130/apikeys",
            "https:///x",
            "https://",
            "https://:443/x",
            "ftp://h/x",
            "https://user:pw@h/x",
            "https://h:99999/x",
            "https://h:8a/x",
            "https://hé/x",
            "https://h h/x",
            "https://[::1/x",
            "",
        ] {
            let e = parse_url(bad).unwrap_err();
            assert_eq!(e.code(), "INVALID_REQUEST", "{bad}");
        }
    }

    proptest::proptest! {
        /// The URL to send is a fixed point: signing it again changes nothing, so a transport
        /// that re-parses it sends the signed target.
        #[test]
        fn normalized_urls_are_fixed_points(path in "[ -~é日%/.?#]{0,40}") {
            let p = parse_url(&format!("https://h.example{}", if path.starts_with('/') { path.clone() } else { format!("/{path}") })).unwrap();
            let again = parse_url(&p.url).unwrap();
            proptest::prop_assert_eq!(&again, &p);
            proptest::prop_assert!(p.target.starts_with('/'));
            proptest::prop_assert!(p.target.bytes().all(|b| b.is_ascii_graphic()));
        }
    }

    #[test]
    fn header_injection_is_rejected() {
        assert!(validate_header("x-a", "ok\tvalue").is_ok());
        for (n, v) in [
            ("x-a", "v\r\nx-b: evil"),
            ("x-a", "v\n"),
            ("x-a", "v\0"),
            ("x-a\r\n", "v"),
            ("x a", "v"),
            ("", "v"),
            ("x:a", "v"),
        ] {
            let e = validate_header(n, v).unwrap_err();
            assert_eq!(e.code(), "INVALID_REQUEST");
            assert!(!e.to_string().contains("evil"));
        }
        assert!(validate_method("GET").is_ok());
        assert!(validate_method("GET /x").is_err());
        assert!(validate_method("").is_err());
    }
}
