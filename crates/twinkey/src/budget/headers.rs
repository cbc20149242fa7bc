//! What a response's rate-limit headers say: `Retry-After` (seconds or an HTTP date),
//! `retry-after-ms`, and the OpenAI-style `x-ratelimit-limit-tokens`,
//! `x-ratelimit-remaining-tokens` and `x-ratelimit-reset-tokens` (a Go duration such as `6m0s`
//! or `9ms`). OCI documents none of them for inference (its limits are "adjusted dynamically";
//! `Retry-After` on a 429 is unconfirmed), so each is read when present and ignored when absent
//! or malformed; a 429 without any falls back to exponential back-off.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use crate::time::Timestamp;

/// The longest wait a header may ask for (a larger figure is capped, not trusted).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The rate-limit facts of one response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// How long the service asks to wait (`retry-after-ms`, else `Retry-After`).
    pub retry_after: Option<Duration>,
    /// `x-ratelimit-limit-tokens`.
    pub limit_tokens: Option<u64>,
    /// `x-ratelimit-remaining-tokens`.
    pub remaining_tokens: Option<u64>,
    /// `x-ratelimit-reset-tokens`: when the remaining tokens are back to the limit.
    pub reset_tokens: Option<Duration>,
}

fn capped(d: Duration) -> Duration {
    d.min(MAX_RETRY_AFTER)
}

/// `Retry-After`: delay-seconds or an HTTP date (relative to `now`; a date in the past is 0).
fn retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(capped(Duration::from_secs(
            v.parse::<u64>().unwrap_or(u64::MAX),
        )));
    }
    // IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT") is RFC 2822 with an obsolete zone.
    let at = OffsetDateTime::parse(v, &Rfc2822).ok()?;
    let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()?;
    Some(capped(Timestamp::from_millis(ms).since(now)))
}

/// `retry-after-ms`: milliseconds, possibly fractional.
fn retry_after_ms(value: &str) -> Option<Duration> {
    let ms: f64 = value.trim().parse().ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| capped(Duration::from_secs_f64(ms.min(3.6e6) / 1000.0)))
}

/// A Go duration: one or more `<number><unit>` with units `h`, `m`, `s`, `ms`, `us`, `ns`.
fn go_duration(value: &str) -> Option<Duration> {
    let mut rest = value.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[u..];
        total += number * scale;
    }
    (total.is_finite() && total >= 0.0).then(|| capped(Duration::from_secs_f64(total.min(3600.0))))
}

fn count(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

/// Keeps the first value of a repeated header.
fn set<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

impl RateLimitHeaders {
    /// Reads the headers (names compared case-insensitively; the first of a repeated one).
    pub fn parse<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
        now: Timestamp,
    ) -> Self {
        let mut out = RateLimitHeaders::default();
        let mut ms = None;
        for (name, value) in headers {
            let name = name.trim();
            if name.eq_ignore_ascii_case("retry-after") {
                set(&mut out.retry_after, retry_after(value, now));
            } else if name.eq_ignore_ascii_case("retry-after-ms") {
                set(&mut ms, retry_after_ms(value));
            } else if name.eq_ignore_ascii_case("x-ratelimit-limit-tokens") {
                set(&mut out.limit_tokens, count(value));
            } else if name.eq_ignore_ascii_case("x-ratelimit-remaining-tokens") {
                set(&mut out.remaining_tokens, count(value));
            } else if name.eq_ignore_ascii_case("x-ratelimit-reset-tokens") {
                set(&mut out.reset_tokens, go_duration(value));
            }
        }
        if ms.is_some() {
            out.retry_after = ms;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_445_412_480_000); // 2015-10-21T07:28:00Z

    fn parse(h: &[(&str, &str)]) -> RateLimitHeaders {
        RateLimitHeaders::parse(h.iter().copied(), NOW)
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(
            parse(&[("Retry-After", "7")]).retry_after,
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse(&[("retry-after", "Wed, 21 Oct 2015 07:28:05 GMT")]).retry_after,
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse(&[("retry-after", "Wed, 21 Oct 2015 07:27:00 GMT")]).retry_after,
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse(&[("Retry-After", "7"), ("retry-after-ms", "1500.5")]).retry_after,
            Some(Duration::from_micros(1_500_500))
        );
        assert_eq!(parse(&[("Retry-After", "soon")]).retry_after, None);
        assert_eq!(parse(&[("Retry-After", "-3")]).retry_after, None);
        assert_eq!(
            parse(&[("Retry-After", "99999999999999999999")]).retry_after,
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn openai_token_headers() {
        let h = parse(&[
            ("x-ratelimit-limit-tokens", "30000"),
            ("X-RateLimit-Remaining-Tokens", "29000"),
            ("x-ratelimit-reset-tokens", "1m30.5s"),
        ]);
        assert_eq!(h.limit_tokens, Some(30000));
        assert_eq!(h.remaining_tokens, Some(29000));
        assert_eq!(h.reset_tokens, Some(Duration::from_millis(90_500)));
        assert_eq!(
            parse(&[("x-ratelimit-reset-tokens", "9ms")]).reset_tokens,
            Some(Duration::from_millis(9))
        );
        assert_eq!(
            parse(&[("x-ratelimit-reset-tokens", "9 parsecs")]).reset_tokens,
            None
        );
        assert_eq!(
            parse(&[("x-ratelimit-remaining-tokens", "-1")]).remaining_tokens,
            None
        );
    }
}
