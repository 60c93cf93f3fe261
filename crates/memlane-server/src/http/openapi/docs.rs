//! `GET /docs`: the API reference page, rendered in the browser by Redoc from `/openapi.json`.
//!
//! The page and Redoc's standalone bundle are compiled into the binary from `assets/` (vendored from the npm
//! package by `scripts/vendor-docs-assets.sh`; versions and checksums in `assets/README.md`), so the page works
//! offline and nothing is fetched at build or run time.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// Where the bundle is served.
pub(crate) const DOCS_ASSET_PATH: &str = "/docs/redoc.standalone.js";

/// The page: a `<redoc>` element pointing at `/openapi.json`, and the bundle.
const PAGE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/docs.html"));

/// Redoc's standalone bundle.
const BUNDLE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/redoc.standalone.js"
));

/// The assets change only with the binary: caches may keep them for a day.
const CACHE: &str = "public, max-age=86400";

/// `GET /docs`.
#[utoipa::path(
    get, path = "/docs", tag = "service", operation_id = "docs", security(()),
    summary = "The API reference page (HTML; renders /openapi.json)",
    responses((status = 200, description = "the page", content_type = "text/html", body = String))
)]
pub(crate) async fn docs_page() -> Response {
    with_type(PAGE.as_bytes(), "text/html; charset=utf-8")
}

/// `GET /docs/redoc.standalone.js`.
#[utoipa::path(
    get, path = "/docs/redoc.standalone.js", tag = "service", operation_id = "docsAsset", security(()),
    summary = "The page's script (Redoc's standalone bundle, vendored)",
    responses((status = 200, description = "the script", content_type = "text/javascript", body = String))
)]
pub(crate) async fn docs_asset() -> Response {
    with_type(BUNDLE, "text/javascript; charset=utf-8")
}

fn with_type(body: &'static [u8], content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    res
}
