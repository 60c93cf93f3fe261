//! Export and import, in memlane's portable JSONL format ([`memlane::export`]).
//!
//! `GET /v1/export` streams: the header line, then one page of memories after another, so that an export of any
//! size needs memory for one page only, and a slow reader slows the export down instead of filling memory. The
//! first page is read before answering, so that an unavailable store is a proper 503; a failure later cuts the
//! stream short (the client sees an incomplete body, and the server logs it).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt as _;
use memlane::export::{self, Header, ImportOptions};
use memlane::{Error, ListQuery, MemoryStore, Page};
use tracing::Instrument;

use crate::http::auth::Tenant;
use crate::http::dto::{scope, ExportQuery, ImportQuery, ImportResponse};
use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, JsonlBody};
use crate::http::openapi::schemas as s;
use crate::http::AppState;

/// The content type of exports.
const NDJSON: &str = "application/x-ndjson";

/// What the export stream does next.
enum Step {
    /// Send this page, then go on after it.
    Send(Page, ListQuery),
    /// Fetch the page of this query.
    Fetch(ListQuery),
    /// Nothing more.
    Done,
}

#[utoipa::path(
    get, path = "/v1/export", tag = "portability", operation_id = "export",
    summary = "Every memory of a scope, as a streamed JSONL export",
    params(ExportQuery),
    responses(
        (status = 200, description = "a header line, then one memory per line", content_type = "application/x-ndjson", body = String),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `GET /v1/export?user=&agent=&session=`: every memory of the scope, as a JSONL stream.
pub(crate) async fn export(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&tenant, q.user, q.agent, q.session);
    let store = state.store().clone();
    let query = ListQuery::new(scope).limit(store.capabilities().limits.max_limit);
    let first = store.list(&query).await?;
    let mut head = serde_json::to_vec(&Header::now())
        .map_err(|e| Error::internal("export", e.to_string(), None))?;
    head.push(b'\n');

    let span = tracing::Span::current();
    let pages = futures::stream::unfold(Step::Send(first, query), move |step| {
        let store = store.clone();
        let span = span.clone();
        async move { next_chunk(store, step).instrument(span).await }
    });
    let body = futures::stream::once(async move { Ok(Bytes::from(head)) }).chain(pages);
    let mut res = Body::from_stream(body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"memlane-export.jsonl\""),
    );
    Ok(res)
}

async fn next_chunk(
    store: Arc<dyn MemoryStore>,
    step: Step,
) -> Option<(Result<Bytes, std::io::Error>, Step)> {
    let (page, query) = match step {
        Step::Done => return None,
        Step::Send(page, query) => (page, query),
        Step::Fetch(query) => match store.list(&query).await {
            Ok(page) => (page, query),
            Err(e) => {
                tracing::error!(error = %e, "export cut short");
                return Some((Err(std::io::Error::other(e)), Step::Done));
            }
        },
    };
    let mut buf = Vec::new();
    for m in &page.memories {
        if let Err(e) = serde_json::to_writer(&mut buf, m) {
            tracing::error!(error = %e, "export cut short");
            return Some((Err(std::io::Error::other(e)), Step::Done));
        }
        buf.push(b'\n');
    }
    let next = match page.next {
        Some(c) => Step::Fetch(query.cursor(Some(c))),
        None => Step::Done,
    };
    Some((Ok(Bytes::from(buf)), next))
}

#[utoipa::path(
    post, path = "/v1/import", tag = "portability", operation_id = "import",
    summary = "Read an export into the caller's tenant",
    params(ImportQuery),
    request_body(content = String, content_type = "application/x-ndjson", description = "an export (JSONL)"),
    responses(
        (status = 200, description = "what was imported", body = s::ImportReport),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 409, description = "version mismatch or id reused", body = s::Error),
        (status = 413, description = "body or value too large", body = s::Error),
        (status = 415, description = "wrong Content-Type (want application/json)", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `POST /v1/import?skip_invalid=true`: reads an export (the body, JSONL) into the caller's tenant; every memory's
/// tenant becomes the caller's. Importing the same export twice creates nothing new.
pub(crate) async fn import(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<ImportQuery>,
    JsonlBody(body): JsonlBody,
) -> Result<Json<ImportResponse>, ApiError> {
    let opts = ImportOptions {
        skip_invalid: q.skip_invalid,
        batch: None,
    };
    let report = export::import(state.store().as_ref(), &tenant, &body[..], opts).await?;
    tracing::info!(
        created = report.created,
        existing = report.existing,
        skipped = report.skipped.len(),
        "imported"
    );
    Ok(Json(report))
}
