//! Telling a body-read deadline from other body errors.

use tower_http::timeout::TimeoutError;

/// Whether a request-body read failed because [`crate::Limits::body_timeout`] passed (the
/// handler answers 408 then, not 400 or 413).
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<TimeoutError>() {
            return true;
        }
        current = e.source();
    }
    false
}
