//! URL encoding as the Python SDK does it: path parameters with `quote(v, safe='')`, query
//! strings with `urlencode` (form encoding: space as `+`), parameters in the given order.

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn push_escaped(out: &mut String, b: u8) {
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xf)]));
}

/// Percent-encodes one path segment: everything but `A-Z a-z 0-9 - . _ ~` (UTF-8, uppercase
/// hex), so an id can never add a `/`, `?` or `#` to the path.
pub fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if unreserved(b) {
            out.push(char::from(b));
        } else {
            push_escaped(&mut out, b);
        }
    }
    out
}

/// Form-encodes one query name or value: like [`path_segment`], with space as `+`.
pub fn form_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if unreserved(b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            push_escaped(&mut out, b);
        }
    }
    out
}

/// `name=value&...` in the given order (empty when there are no parameters).
pub fn query_string(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", form_component(k), form_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes a form-encoded component (`+` is a space); `None` on a bad escape or bad UTF-8.
pub fn form_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Splits a query string into decoded `(name, value)` pairs; `None` if any part is malformed.
pub fn parse_query(query: &str) -> Option<Vec<(String, String)>> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((form_decode(k)?, form_decode(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn like_the_python_sdk() {
        assert_eq!(
            form_component("team key/prod:v1&x+y"),
            "team+key%2Fprod%3Av1%26x%2By"
        );
        assert_eq!(form_component("é"), "%C3%A9");
        assert_eq!(path_segment("a b/c?d#e"), "a%20b%2Fc%3Fd%23e");
        assert_eq!(
            path_segment("ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaa"),
            "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaa"
        );
        assert_eq!(
            query_string(&[
                ("displayName", "team key".into()),
                ("page", "AAAAAQ==".into())
            ]),
            "displayName=team+key&page=AAAAAQ%3D%3D"
        );
    }

    #[test]
    fn decoding_round_trips_and_rejects_bad_escapes() {
        for s in ["team key/prod:v1&x+y", "é", "", "a=b"] {
            assert_eq!(form_decode(&form_component(s)).unwrap(), s);
        }
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%ff"), None);
        assert_eq!(
            parse_query("a=1&b=x+y&&c").unwrap(),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "x y".to_string()),
                ("c".to_string(), String::new())
            ]
        );
    }
}
