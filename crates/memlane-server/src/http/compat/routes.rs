//! The table of compatibility routes: each one's metric label and its `/v1` successor (for the `Link` header),
//! and the answer for anything else under the prefix.

use axum::extract::OriginalUri;
use axum::http::{Method, StatusCode, Uri};

use crate::http::error::ApiError;

/// Where the mem0 routes are mounted.
pub(crate) const PREFIX: &str = "/compat/mem0";

macro_rules! routes {
    ($(($method:ident, $pattern:literal, $successor:literal)),* $(,)?) => {
        /// Every compatibility route, as (method, pattern under [`PREFIX`], successor).
        pub(crate) const TABLE: &[(&str, &str, &str)] = &[$((stringify!($method), $pattern, $successor)),*];
    };
}

routes![
    (POST, "/memories", "/v1/memories"),
    (GET, "/memories", "/v1/memories/list"),
    (DELETE, "/memories", "/v1/forget"),
    (GET, "/memories/{memory_id}", "/v1/memories/{id}"),
    (PUT, "/memories/{memory_id}", "/v1/memories/{id}"),
    (DELETE, "/memories/{memory_id}", "/v1/memories/{id}"),
    (GET, "/memories/{memory_id}/history", "/v1/memories/{id}"),
    (POST, "/search", "/v1/search"),
    (POST, "/reset", "/v1/forget"),
    (POST, "/configure", "/v1/capabilities"),
    (GET, "/v1/ping/", "/v1/capabilities"),
    (POST, "/v3/memories/add/", "/v1/memories"),
    (POST, "/v3/memories/", "/v1/memories/list"),
    (POST, "/v3/memories/search/", "/v1/search"),
    (GET, "/v1/memories/{memory_id}/", "/v1/memories/{id}"),
    (PUT, "/v1/memories/{memory_id}/", "/v1/memories/{id}"),
    (DELETE, "/v1/memories/{memory_id}/", "/v1/memories/{id}"),
    (DELETE, "/v1/memories/", "/v1/forget"),
    (
        GET,
        "/v1/memories/{memory_id}/history/",
        "/v1/memories/{id}"
    ),
];

/// Every compatibility route as (full path pattern, method), for the router's tests.
#[cfg(test)]
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("/compat/mem0/memories", "POST"),
    ("/compat/mem0/memories", "GET"),
    ("/compat/mem0/memories", "DELETE"),
    ("/compat/mem0/memories/{memory_id}", "GET"),
    ("/compat/mem0/memories/{memory_id}", "PUT"),
    ("/compat/mem0/memories/{memory_id}", "DELETE"),
    ("/compat/mem0/memories/{memory_id}/history", "GET"),
    ("/compat/mem0/search", "POST"),
    ("/compat/mem0/reset", "POST"),
    ("/compat/mem0/configure", "POST"),
    ("/compat/mem0/v1/ping/", "GET"),
    ("/compat/mem0/v3/memories/add/", "POST"),
    ("/compat/mem0/v3/memories/", "POST"),
    ("/compat/mem0/v3/memories/search/", "POST"),
    ("/compat/mem0/v1/memories/{memory_id}/", "GET"),
    ("/compat/mem0/v1/memories/{memory_id}/", "PUT"),
    ("/compat/mem0/v1/memories/{memory_id}/", "DELETE"),
    ("/compat/mem0/v1/memories/", "DELETE"),
    ("/compat/mem0/v1/memories/{memory_id}/history/", "GET"),
];

/// The metric label used for requests that match no compatibility route.
pub(crate) const UNSUPPORTED: &str = "unsupported";

/// The successor of unsupported routes: the API reference.
const UNSUPPORTED_SUCCESSOR: &str = "/docs";

/// The route `method` + matched `pattern` (full, with [`PREFIX`]) is, as (metric label, successor template).
pub(crate) fn lookup(method: &Method, pattern: Option<&str>) -> (&'static str, &'static str) {
    let Some(pattern) = pattern.and_then(|p| p.strip_prefix(PREFIX)) else {
        return (UNSUPPORTED, UNSUPPORTED_SUCCESSOR);
    };
    TABLE
        .iter()
        .find(|(m, p, _)| *p == pattern && *m == method.as_str())
        .map_or((UNSUPPORTED, UNSUPPORTED_SUCCESSOR), |(_, p, s)| (*p, *s))
}

/// The successor of a request: `template` with `{id}` replaced by the memory id in `uri`'s path (only a UUID;
/// without one, the collection: `/v1/memories`).
pub(crate) fn successor(template: &str, uri: &Uri) -> String {
    if !template.contains("{id}") {
        return template.to_owned();
    }
    let id = uri
        .path()
        .split('/')
        .find_map(|seg| uuid::Uuid::parse_str(seg).ok());
    match id {
        Some(id) => template.replace("{id}", &id.to_string()),
        None => template.replace("/{id}", ""),
    }
}

/// Anything else under [`PREFIX`]: a 404 naming the route as unsupported.
pub(crate) async fn unsupported(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "{method} {} is not a route of memlane's mem0 compatibility layer: it serves mem0's self-hosted \
             routes (/memories, /search, ...) and the platform routes that MemoryClient's add, get, get_all, \
             search, update, history, delete and delete_all use; see /docs for memlane's own /v1 API",
            uri.path()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_one_entry() {
        assert_eq!(TABLE.len(), ROUTES.len());
        for (path, method) in ROUTES {
            let m = Method::from_bytes(method.as_bytes()).expect("method");
            let (label, succ) = lookup(&m, Some(path));
            assert_ne!(label, UNSUPPORTED, "{method} {path}");
            assert!(succ.starts_with("/v1/"), "{succ}");
        }
        assert_eq!(
            lookup(&Method::PATCH, Some("/compat/mem0/memories")).0,
            UNSUPPORTED
        );
        assert_eq!(lookup(&Method::GET, None).0, UNSUPPORTED);
    }

    #[test]
    fn successor_takes_the_id() {
        let uri: Uri = "/compat/mem0/v1/memories/019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b/history/"
            .parse()
            .expect("uri");
        assert_eq!(
            successor("/v1/memories/{id}", &uri),
            "/v1/memories/019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b"
        );
        let bad: Uri = "/compat/mem0/memories/not-an-id".parse().expect("uri");
        assert_eq!(successor("/v1/memories/{id}", &bad), "/v1/memories");
        assert_eq!(successor("/v1/search", &bad), "/v1/search");
    }
}
