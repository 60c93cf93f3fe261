//! A span per request and the HTTP metrics.
//!
//! The span `request` has `method`, `route` (the pattern, e.g. `/v1/memories/{id}`), `request_id`, `trace_id` (from
//! `traceparent`, or new; with OTLP export on, the exported trace's, see [`crate::otel`]), `parent_span_id` (the
//! caller's, when given), `tenant` (set by authentication) and `status`; every log line of the request, including the store's, carries them. When the request is answered, an
//! event logs its status and latency, and `memlane_http_request_duration_seconds` records it.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::field::Empty;
use tracing::Instrument;

use super::request_id::RequestId;
use super::{traceparent, AppState};

/// The middleware.
pub(crate) async fn middleware(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let parent = traceparent::from_headers(req.headers());
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        request_id = %request_id,
        trace_id = Empty,
        parent_span_id = parent.as_ref().map(|p| p.parent_id.as_str()),
        tenant = Empty,
        status = Empty,
    );
    let trace_id = crate::otel::continue_trace(&span, req.headers())
        .or_else(|| parent.as_ref().map(|p| p.trace_id.clone()))
        .unwrap_or_else(traceparent::new_trace_id);
    span.record("trace_id", trace_id.as_str());

    let start = Instant::now();
    // A composite store reports degraded reads (a tier skipped, a search fallen back) to `observe`: the header says so.
    let (mut res, degraded) =
        memlane::composite::observe(next.run(req).instrument(span.clone())).await;
    if let Some(v) = degraded.and_then(|d| axum::http::HeaderValue::from_str(&d.to_string()).ok()) {
        res.headers_mut().insert("memlane-degraded", v);
    }
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    state
        .manager
        .metrics()
        .http_request(&method, &route, status, elapsed);

    span.record("status", status);
    let _entered = span.enter();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if res.status().is_server_error() {
        tracing::warn!(status, latency_ms, "request failed");
    } else {
        tracing::info!(status, latency_ms, "request answered");
    }
    drop(_entered);
    res
}
