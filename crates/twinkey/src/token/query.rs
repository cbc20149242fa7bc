//! Query strings on relayed requests: forwarded only when every parameter is on the
//! endpoint's allow-list ([`Endpoint::allowed_query`]); anything else is refused, so a page
//! cannot reach upstream options the relay does not know.

use super::scope::Endpoint;
use crate::error::{Error, Result};

/// The longest query string the relay forwards.
pub const MAX_QUERY_BYTES: usize = 1024;

/// `%XX` decoding of a parameter name (enough to compare it; invalid escapes stay as they
/// are, and so never match an allowed name).
fn decode_name(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| hex(*c)),
                b.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn refuse(reason: String) -> Error {
    Error::InvalidRequest { reason }
}

/// The query string to forward for a request (`None`: none), or a refusal naming the first
/// parameter that is not allowed.
pub fn check_query(
    endpoint: Endpoint,
    method: &str,
    query: Option<&str>,
) -> Result<Option<String>> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if query.len() > MAX_QUERY_BYTES {
        return Err(refuse(format!(
            "the query string is over {MAX_QUERY_BYTES} bytes"
        )));
    }
    let allowed = endpoint.allowed_query(method);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let name = decode_name(pair.split('=').next().unwrap_or(""));
        if !allowed.contains(&name.as_str()) {
            let shown: String = name.escape_debug().take(40).collect();
            return Err(refuse(if allowed.is_empty() {
                format!(
                    "the relay forwards no query parameters to {} (got \"{shown}\")",
                    endpoint.name()
                )
            } else {
                format!(
                    "query parameter \"{shown}\" is not forwarded to {} (allowed: {})",
                    endpoint.name(),
                    allowed.join(", ")
                )
            }));
        }
    }
    Ok(Some(query.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_parameters_pass() {
        let r = Endpoint::Responses;
        assert_eq!(check_query(r, "GET", None).unwrap(), None);
        assert_eq!(check_query(r, "GET", Some("")).unwrap(), None);
        assert_eq!(
            check_query(
                r,
                "GET",
                Some("include%5B%5D=file_search_call.results&stream=false")
            )
            .unwrap()
            .as_deref(),
            Some("include%5B%5D=file_search_call.results&stream=false")
        );
        for (e, m, q) in [
            (r, "GET", "api-version=1"),
            (r, "DELETE", "stream=true"),
            (r, "GET", "stream=true&x=1"),
            (Endpoint::ChatCompletions, "POST", "stream=true"),
            (Endpoint::Models, "GET", "a"),
            (r, "GET", "%73tream%=1"),
        ] {
            let err = check_query(e, m, Some(q)).unwrap_err();
            assert_eq!(err.code(), "INVALID_REQUEST", "{q}");
        }
        assert!(check_query(r, "GET", Some(&"stream=1&".repeat(200))).is_err());
        assert_eq!(decode_name("%73tream"), "stream");
        assert_eq!(decode_name("a%zz%4"), "a%zz%4");
    }
}
