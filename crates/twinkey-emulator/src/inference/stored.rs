//! Stored responses (OpenAI Responses API `store`, on by default): `GET responses/{id}`,
//! `DELETE responses/{id}`, and `previous_response_id` must name a stored one (404 otherwise).
//!
//! Bounded: past [`MAX_STORED`] responses the oldest are forgotten, so a client creating
//! responses in a loop cannot grow the emulator without limit.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{admit, json_response};
use crate::Emulator;
use crate::faults::Route;
use crate::oci_error::OciError;

/// How many responses are kept.
pub const MAX_STORED: usize = 10_000;

/// The stored `response` objects by id, oldest first for eviction.
#[derive(Default)]
pub struct StoredResponses {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Value>,
    order: VecDeque<String>,
}

impl std::fmt::Debug for StoredResponses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredResponses")
            .field("len", &self.len())
            .finish()
    }
}

impl StoredResponses {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a finished response under its `id`.
    pub fn insert(&self, response: Value) {
        let Some(id) = response
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return;
        };
        let mut inner = self.lock();
        if inner.by_id.insert(id.clone(), response).is_none() {
            inner.order.push_back(id);
        }
        while inner.order.len() > MAX_STORED {
            if let Some(old) = inner.order.pop_front() {
                inner.by_id.remove(&old);
            }
        }
    }

    /// The stored response with this id.
    pub fn get(&self, id: &str) -> Option<Value> {
        self.lock().by_id.get(id).cloned()
    }

    /// Whether a response with this id is stored.
    pub fn contains(&self, id: &str) -> bool {
        self.lock().by_id.contains_key(id)
    }

    /// Forgets a response; whether it was there.
    pub fn remove(&self, id: &str) -> bool {
        let mut inner = self.lock();
        let found = inner.by_id.remove(id).is_some();
        if found {
            inner.order.retain(|o| o != id);
        }
        found
    }

    /// How many responses are stored.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether none is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn not_found(id: &str) -> OciError {
    let shown: String = id.chars().filter(char::is_ascii_graphic).take(64).collect();
    OciError::new(
        StatusCode::NOT_FOUND,
        "NotAuthorizedOrNotFound",
        format!("No stored response with id '{shown}'."),
    )
}

/// `previous_response_id` (when given) must name a stored response.
pub(crate) fn check_previous(emu: &Emulator, id: Option<&str>) -> Result<(), OciError> {
    match id {
        Some(id) if !emu.stored_responses().contains(id) => Err(not_found(id)),
        _ => Ok(()),
    }
}

/// `GET responses/{id}`.
pub(crate) async fn get(
    State(emu): State<Emulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        admit(&emu, Route::Responses, &headers).await?;
        let v = emu
            .stored_responses()
            .get(&id)
            .ok_or_else(|| not_found(&id))?;
        Ok::<_, OciError>(json_response(StatusCode::OK, &v))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `DELETE responses/{id}`.
pub(crate) async fn delete(
    State(emu): State<Emulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        admit(&emu, Route::Responses, &headers).await?;
        if !emu.stored_responses().remove(&id) {
            return Err(not_found(&id));
        }
        Ok(json_response(
            StatusCode::OK,
            &json!({"id": id, "object": "response", "deleted": true}),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_removable() {
        let s = StoredResponses::default();
        for i in 0..MAX_STORED + 5 {
            s.insert(json!({"id": format!("resp_{i}")}));
        }
        assert_eq!(s.len(), MAX_STORED);
        assert!(!s.contains("resp_0") && !s.contains("resp_4"));
        assert!(s.contains("resp_5"));
        assert!(s.remove("resp_5"));
        assert!(!s.remove("resp_5"));
        assert_eq!(s.len(), MAX_STORED - 1);
        s.insert(json!({"no": "id"}));
        assert_eq!(s.len(), MAX_STORED - 1);
    }
}
