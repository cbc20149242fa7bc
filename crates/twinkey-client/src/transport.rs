//! Mapping reqwest's failures to twinkey's error, and bounded body reads.

use bytes::Bytes;
use twinkey::Error;

/// The text of an error and its sources, de-duplicated (never headers, so never a secret).
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// A failed exchange as [`Error::Transport`]. The URL is left out (it may carry user info).
pub(crate) fn transport(e: reqwest::Error) -> Error {
    Error::Transport {
        reason: describe(&e.without_url()),
    }
}

/// Reads chunks until more than `limit` bytes arrived or the body ended.
pub(crate) async fn read_prefix(
    resp: &mut reqwest::Response,
    limit: usize,
) -> reqwest::Result<Vec<Bytes>> {
    let mut chunks = Vec::new();
    let mut total = 0usize;
    while total <= limit {
        match resp.chunk().await? {
            Some(c) => {
                total += c.len();
                chunks.push(c);
            }
            None => break,
        }
    }
    Ok(chunks)
}

/// Reads and drops a small body so the connection can be reused (bounded; errors ignored).
pub(crate) async fn drain(mut resp: reqwest::Response, limit: usize) {
    let mut total = 0usize;
    while total <= limit {
        match resp.chunk().await {
            Ok(Some(c)) => total += c.len(),
            _ => return,
        }
    }
}

/// A URL as logs and errors show it: without user info and query (either may hold
/// credentials: a collector's token, a Redis password).
pub fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(not a URL)".to_string(),
    }
}
