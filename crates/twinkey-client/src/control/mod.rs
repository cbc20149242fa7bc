//! The API-key control plane over reqwest: [`ControlPlaneClient`] (the eight operations,
//! signed, retried), its per-call [`CallOptions`] and answers.

mod client;
mod ids;
mod options;

pub use client::{ControlPlaneClient, RawResponse, control_http_client};
pub use ids::{OsRng, request_id, retry_token};
pub use options::{ApiResponse, CallOptions, Page};
