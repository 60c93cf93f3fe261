//! Authentication: an API key decides the tenant of every `/v1` request.
//!
//! The key comes as `Authorization: Bearer <key>` or `x-api-key: <key>`; it is hashed and compared with every
//! configured hash in constant time. A missing or wrong key is 401. With no keys configured the server is
//! single-tenant: every request is tenant [`DEFAULT_TENANT`], and (against DNS rebinding) only requests addressed
//! to a loopback host name are served.
//!
//! The compatibility routes (`/compat/mem0`, see [`super::compat`]) also take mem0's `Authorization: Token <key>`
//! ([`compat_middleware`]); `/v1` does not.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AppState;
use crate::config::{ApiKey, KeyHash};
use crate::ServerConfig;

/// The tenant of a single-tenant (keyless) server.
pub(crate) const DEFAULT_TENANT: &str = "default";

/// Which key is which tenant.
#[derive(Debug)]
pub(crate) enum Authenticator {
    /// No keys: everyone is [`DEFAULT_TENANT`].
    SingleTenant,
    /// These keys.
    Keys(Vec<ApiKey>),
}

/// The authenticated tenant of a request.
#[derive(Debug, Clone)]
pub(crate) struct Tenant(pub(crate) String);

impl std::ops::Deref for Tenant {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Authenticator {
    /// From the config's keys.
    pub(crate) fn from_config(config: &ServerConfig) -> Self {
        if config.auth.keys.is_empty() {
            Authenticator::SingleTenant
        } else {
            Authenticator::Keys(config.auth.keys.clone())
        }
    }

    /// The tenant of a request with these headers.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<Tenant, ApiError> {
        self.authenticate_schemes(headers, &["bearer"])
    }

    /// [`Self::authenticate`], with `Authorization: <scheme> <key>` for any of `schemes` (lowercase).
    pub(crate) fn authenticate_schemes(
        &self,
        headers: &HeaderMap,
        schemes: &[&str],
    ) -> Result<Tenant, ApiError> {
        let keys = match self {
            Authenticator::SingleTenant => {
                check_loopback_host(headers)?;
                return Ok(Tenant(DEFAULT_TENANT.to_owned()));
            }
            Authenticator::Keys(keys) => keys,
        };
        let presented = presented_key(headers, schemes)?;
        let hash = KeyHash::of(presented);
        let mut found: Option<&str> = None;
        for k in keys {
            // No early exit: every hash is compared.
            if k.key_sha256.ct_eq(&hash) && found.is_none() {
                found = Some(&k.tenant);
            }
        }
        found
            .map(|t| Tenant(t.to_owned()))
            .ok_or_else(|| ApiError::unauthorized("the API key is not valid"))
    }
}

/// The key a request presents, by `Authorization` with one of `schemes` or by `x-api-key`.
fn presented_key<'h>(headers: &'h HeaderMap, schemes: &[&str]) -> Result<&'h str, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
        let (scheme, key) = v.trim().split_once(' ').unwrap_or((v, ""));
        if !schemes.iter().any(|s| scheme.eq_ignore_ascii_case(s)) {
            return Err(ApiError::unauthorized(if schemes.len() > 1 {
                "unsupported Authorization scheme: use Authorization: Bearer <key> or Token <key>"
            } else {
                "unsupported Authorization scheme: use Authorization: Bearer <key>"
            }));
        }
        let key = key.trim();
        if key.is_empty() {
            return Err(ApiError::unauthorized("the Authorization key is empty"));
        }
        return Ok(key);
    }
    if let Some(v) = headers.get("x-api-key") {
        let key = v
            .to_str()
            .map_err(|_| ApiError::unauthorized("the x-api-key header is not text"))?
            .trim();
        if !key.is_empty() {
            return Ok(key);
        }
    }
    Err(ApiError::unauthorized(
        "missing API key: send Authorization: Bearer <key> or x-api-key: <key>",
    ))
}

/// In single-tenant mode, refuses requests addressed to a non-loopback host name (DNS rebinding).
fn check_loopback_host(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(host) = headers.get(header::HOST) else {
        return Ok(());
    };
    let host = host.to_str().unwrap_or("");
    if is_loopback_host(host) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "this server runs without API keys and only answers requests addressed to localhost or a loopback address",
    ))
}

/// Whether a `Host` header names a loopback host (`localhost`, `127.0.0.1:7878`, `[::1]`, ...).
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Authenticates a `/v1` request: records the tenant in the request's span and extensions.
pub(crate) async fn middleware(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, Response> {
    let tenant = match state.auth.authenticate(req.headers()) {
        Ok(t) => t,
        Err(e) => return Err(refuse(req, e).await),
    };
    tracing::Span::current().record("tenant", &*tenant);
    req.extensions_mut().insert(tenant);
    Ok(next.run(req).await)
}

/// Authenticates a compatibility-route request, also taking mem0's `Authorization: Token <key>`; the tenant goes
/// into the request's extensions and the answer's (for the once-per-client deprecation warning).
pub(crate) async fn compat_middleware(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, Response> {
    let tenant = match state
        .auth
        .authenticate_schemes(req.headers(), &["bearer", "token"])
    {
        Ok(t) => t,
        Err(e) => return Err(refuse(req, e).await),
    };
    tracing::Span::current().record("tenant", &*tenant);
    req.extensions_mut().insert(tenant.clone());
    let mut res = next.run(req).await;
    res.extensions_mut().insert(tenant);
    Ok(res)
}

/// How much of a refused request's body is read and dropped, so that the client can send its next request on the
/// same connection; a larger (or slower) body is left unread and the connection closed.
const DRAIN_MAX: usize = 64 * 1024;
/// How long reading that body may take.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// The answer to a request refused before its body was read. HTTP/1.1 can only reuse the connection once the body
/// is consumed: a small one is read here (bounded by [`DRAIN_MAX`] and [`DRAIN_TIME`]); otherwise the answer says
/// `Connection: close` rather than leaving the client to find the connection cut.
async fn refuse(req: Request, err: ApiError) -> Response {
    let mut res = err.into_response();
    let headers = req.headers();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    if headers.contains_key(header::EXPECT) {
        // `Expect: 100-continue`: the client waits for this answer before sending its body; nothing to drain.
        return res;
    }
    let drained = match declared {
        Some(0) => true,
        None if !chunked => true,
        Some(n) if n > DRAIN_MAX as u64 => false,
        _ => tokio::time::timeout(DRAIN_TIME, axum::body::to_bytes(req.into_body(), DRAIN_MAX))
            .await
            .is_ok_and(|r| r.is_ok()),
    };
    if !drained {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Tenant>().cloned().ok_or_else(|| {
            tracing::error!("a route that needs a tenant is not behind the auth middleware");
            ApiError::internal()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:7878",
            "127.0.0.1:1",
            "[::1]:80",
            "[::1]",
            "127.8.9.1",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "evil.example",
            "evil.example:7878",
            "10.0.0.1",
            "[fe80::1]:3",
            "localhost.evil",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn keys_pick_the_tenant() {
        let auth = Authenticator::Keys(vec![
            ApiKey::from_secret("a", "key-of-a-0123456789"),
            ApiKey::from_secret("b", "key-of-b-0123456789"),
        ]);
        let mut h = HeaderMap::new();
        assert!(auth.authenticate(&h).is_err());
        h.insert("x-api-key", HeaderValue::from_static("key-of-b-0123456789"));
        assert_eq!(auth.authenticate(&h).expect("b").0, "b");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer key-of-a-0123456789"),
        );
        assert_eq!(auth.authenticate(&h).expect("a").0, "a");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer nope"),
        );
        assert!(auth.authenticate(&h).is_err());
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic eDp5"),
        );
        assert!(auth.authenticate(&h).is_err());
        // mem0's scheme, on the compatibility routes only.
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Token key-of-b-0123456789"),
        );
        assert!(auth.authenticate(&h).is_err());
        let compat = auth.authenticate_schemes(&h, &["bearer", "token"]);
        assert_eq!(compat.expect("b").0, "b");
    }
}
