//! A relayed answer's body on its way back: every chunk through the core's
//! [`BodyFilter`] (secret values redacted across chunks; a created response's id read and
//! recorded for the token's subject as soon as it is seen), with the subject's stream place
//! held until the body ends.

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use twinkey::token::{Admission, BodyFilter, StreamSlot};

use super::Relay;
use crate::EventStream;

struct State {
    upstream: EventStream,
    filter: BodyFilter,
    relay: Arc<Relay>,
    records: Option<Admission>,
    _slot: StreamSlot,
    ended: bool,
}

impl State {
    fn record(&mut self) {
        if let (Some(admission), Some(id)) = (&self.records, self.filter.take_response_id()) {
            self.relay.gate.record_response(admission, &id);
        }
    }
}

/// The body for an upstream answer.
pub(crate) fn body(
    upstream: EventStream,
    filter: BodyFilter,
    relay: Arc<Relay>,
    records: Option<Admission>,
    slot: StreamSlot,
) -> Body {
    let state = State {
        upstream,
        filter,
        relay,
        records,
        _slot: slot,
        ended: false,
    };
    let chunks = futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if st.ended {
                return None;
            }
            match st.upstream.next().await {
                Some(Ok(chunk)) => {
                    let out = st.filter.feed(&chunk);
                    st.record();
                    if !out.is_empty() {
                        return Some((Ok(Bytes::from(out)), st));
                    }
                }
                Some(Err(e)) => {
                    // A held tail could be the start of a secret value: it is dropped.
                    st.ended = true;
                    tracing::warn!(code = e.code(), "relay: the upstream body was cut");
                    return Some((Err(e), st));
                }
                None => {
                    st.ended = true;
                    let out = st.filter.finish();
                    st.record();
                    if st.filter.redactions() > 0 {
                        tracing::warn!(
                            redactions = st.filter.redactions(),
                            "relay: redacted secret values in an upstream body"
                        );
                    }
                    return (!out.is_empty()).then(|| (Ok(Bytes::from(out)), st));
                }
            }
        }
    });
    Body::from_stream(chunks)
}
