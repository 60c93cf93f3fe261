//! The server over real HTTP: a server on 127.0.0.1:0 over a temp-dir embedded store, and a real client.

mod api;
mod degraded;
mod errors;
mod isolation;
mod lifecycle;
mod observability;
mod support;
