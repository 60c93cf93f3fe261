//! What every compatibility answer gets: the deprecation headers, mem0's error shape, the request counter and a
//! deprecation warning in the log once per client.
//!
//! - `Deprecation: @<unix seconds>` (RFC 9745), `Sunset: <HTTP date>` (RFC 8594) from `[compat]`, and
//!   `Link: </v1/...>; rel="successor-version"` naming the `/v1` route that replaces the one called.
//! - Errors become `{"detail": "<message>", "code": "<memlane code>", "request_id": "..."}` (plus `field` when
//!   known): mem0's clients read `detail`, FastAPI's shape.
//! - `memlane_compat_requests_total{api="mem0",route}` counts every request; an authenticated client (its
//!   tenant and its User-Agent) is warned once: the set of warned clients is bounded
//!   ([`MAX_CLIENTS`]); when full it is emptied, so a client may be warned again but memory stays bounded.
//!   `memlane_compat_deprecation_warnings_total` counts the warnings.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::routes;
use crate::http::auth::Tenant;
use crate::http::error::{ApiError, ErrorInfo};
use crate::http::request_id::RequestId;
use crate::http::AppState;
use crate::metrics::Metrics;

/// The `api` label of the mem0 routes.
const API: &str = "mem0";

/// The most clients remembered as warned.
pub(crate) const MAX_CLIENTS: usize = 10_000;

/// The longest User-Agent kept to tell clients apart (longer ones are cut).
const MAX_AGENT_BYTES: usize = 256;

/// The middleware's state.
#[derive(Clone, Debug)]
pub(crate) struct Deprecations {
    /// The precomputed `Deprecation` and `Sunset` values.
    deprecation: HeaderValue,
    sunset: HeaderValue,
    /// The sunset, for the warning.
    sunset_text: String,
    /// The server's metrics.
    metrics: Metrics,
    /// The clients already warned, as hashes of (tenant, User-Agent).
    warned: Arc<Mutex<HashSet<u64>>>,
    /// The `Retry-After` of 503 answers.
    retry_after: u64,
}

impl Deprecations {
    /// From the server's `[compat]` settings.
    pub(crate) fn new(state: &AppState) -> Self {
        let c = &state.config.compat;
        let secs = c.deprecated_since.as_millis().div_euclid(1000);
        let sunset = httpdate::fmt_http_date(to_system_time(c.sunset));
        Deprecations {
            deprecation: HeaderValue::from_str(&format!("@{secs}"))
                .unwrap_or(HeaderValue::from_static("@0")),
            sunset: HeaderValue::from_str(&sunset)
                .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT")),
            sunset_text: sunset,
            metrics: state.manager.metrics().clone(),
            warned: Arc::new(Mutex::new(HashSet::new())),
            retry_after: state.config.retry_after_secs(),
        }
    }

    /// Whether this client is new (and now remembered).
    fn first_time(&self, tenant: &str, agent: &str) -> bool {
        use std::hash::{BuildHasher, Hasher};
        // A fixed-key hasher: the set holds hashes only, never a key or a tenant name.
        let mut h =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .build_hasher();
        h.write(tenant.as_bytes());
        h.write_u8(0);
        h.write(agent.as_bytes());
        let key = h.finish();
        let Ok(mut warned) = self.warned.lock() else {
            return false;
        };
        if warned.contains(&key) {
            return false;
        }
        if warned.len() >= MAX_CLIENTS {
            warned.clear();
        }
        warned.insert(key);
        true
    }
}

fn to_system_time(t: memlane::Timestamp) -> std::time::SystemTime {
    let ms = t.as_millis();
    let d = std::time::Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        std::time::UNIX_EPOCH + d
    } else {
        std::time::UNIX_EPOCH - d
    }
}

/// The middleware.
pub(crate) async fn middleware(
    State(d): State<Deprecations>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let (route, template) = routes::lookup(
        &method,
        req.extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let link = format!(
        "<{}>; rel=\"successor-version\"",
        routes::successor(template, req.uri())
    );
    let agent: String = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(MAX_AGENT_BYTES)
        .collect();
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());

    let res = next.run(req).await;

    d.metrics.compat_request(API, route);
    // Only authenticated callers are remembered and warned: a flood of unauthenticated requests with made-up
    // User-Agents can neither fill the log nor churn the set.
    if let Some(tenant) = res.extensions().get::<Tenant>() {
        if d.first_time(tenant, &agent) {
            d.metrics.compat_warning(API);
            tracing::warn!(
                api = API,
                %method,
                route,
                tenant = %&**tenant,
                user_agent = %agent,
                sunset = %d.sunset_text,
                "a client uses memlane's deprecated mem0 compatibility routes: move it to the /v1 API \
                 (docs/migration/from-mem0.md); this is logged once per client"
            );
        }
    }
    let mut res = if res.status().is_client_error() || res.status().is_server_error() {
        mem0_error(res, &method, &path, request_id.as_deref(), d.retry_after)
    } else {
        res
    };
    let headers = res.headers_mut();
    headers.insert("deprecation", d.deprecation.clone());
    headers.insert("sunset", d.sunset.clone());
    if let Ok(v) = HeaderValue::from_str(&link) {
        headers.insert(header::LINK, v);
    }
    res
}

/// An error answer in mem0's shape: `{"detail", "code", "field"?, "request_id"}`.
fn mem0_error(
    res: Response,
    method: &axum::http::Method,
    path: &str,
    request_id: Option<&str>,
    retry_after: u64,
) -> Response {
    let status = res.status();
    let info = match res.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        None => {
            let ours = ApiError::for_status(status, method.as_str(), path).into_response();
            match ours.extensions().get::<ErrorInfo>() {
                Some(info) => info.clone(),
                None => return res,
            }
        }
    };
    let (mut parts, _) = res.into_parts();
    parts.extensions.remove::<ErrorInfo>();
    let mut body = json!({"detail": info.message, "code": info.code});
    if let Some(f) = &info.field {
        body["field"] = json!(f);
    }
    if let Some(id) = request_id {
        body["request_id"] = json!(id);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE && !parts.headers.contains_key(header::RETRY_AFTER)
    {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    }
    Response::from_parts(parts, Body::from(body.to_string()))
}
