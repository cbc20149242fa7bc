//! twinkey's HTTP listeners with limits. Every server twinkey runs (the relay, the emulator)
//! is attack surface, so each one is served by [`serve`] with [`Limits`]:
//!
//! - a **header-read timeout**: a connection must deliver a complete request head within
//!   [`Limits::header_timeout`] of opening; a partial head or a connection that sends nothing
//!   is closed (slow loris);
//! - an **idle keep-alive timeout**: after a response ends, the next request head must
//!   arrive within [`Limits::idle_timeout`], or the connection is closed;
//! - a **body-read deadline**: a request body must arrive whole within
//!   [`Limits::body_timeout`] (a hard deadline, not a gap between chunks); the handler's read
//!   fails and [`is_body_timeout`] tells it why;
//! - a **connection cap**: beyond [`Limits::max_connections`] open connections a new one is
//!   answered `503` (`x-twinkey-error: TOO_MANY_CONNECTIONS`) and closed at once, so one client
//!   cannot use up the process's files;
//! - a **graceful drain**: [`Served::shutdown`] stops accepting, lets requests in flight
//!   (streams included) finish for up to [`Limits::drain_timeout`] and refuses new requests on
//!   open connections, then drops what is left.
//!
//! The decisions about requests stay in the core and the servers' handlers; this crate only
//! keeps connections within bounds.

mod body;
mod idle;
mod limits;
mod server;

pub use body::is_body_timeout;
pub use limits::Limits;
pub use server::{Served, serve};
