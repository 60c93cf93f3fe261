//! The outermost middleware: gives every request an id (the caller's `x-request-id` when it is sane, a new
//! UUIDv7 otherwise), returns it in the `x-request-id` header of every response, and completes error answers:
//! the request id goes into the JSON error, a 503 gets `Retry-After`, and an error some layer answered without our
//! JSON shape (a 405, ...) gets it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorInfo};
use super::AppState;

/// The header that carries the request id.
pub(crate) static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id, in its extensions.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) String);

/// Whether a caller's request id may be used as ours (and logged): short, and of harmless characters.
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(&b))
}

/// The middleware.
pub(crate) async fn middleware(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(RequestId(id.clone()));

    let mut res = next.run(req).await;

    if res.status().is_client_error() || res.status().is_server_error() {
        res = complete_error(res, &id, &method, &path, state.config.retry_after_secs());
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    res
}

/// Puts the request id into an error's body, and `Retry-After` on a 503.
fn complete_error(res: Response, id: &str, method: &str, path: &str, retry_after: u64) -> Response {
    let info = match res.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        None if is_json(&res) => return res, // our own JSON answer, e.g. a 503 readiness report
        None => {
            let status = res.status();
            let ours = ApiError::for_status(status, method, path).into_response();
            let Some(info) = ours.extensions().get::<ErrorInfo>().cloned() else {
                return res;
            };
            info
        }
    };
    let (mut parts, _) = res.into_parts();
    let body = serde_json::to_vec(&info.body(Some(id))).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if parts.status == axum::http::StatusCode::SERVICE_UNAVAILABLE
        && !parts.headers.contains_key(header::RETRY_AFTER)
    {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    }
    Response::from_parts(parts, Body::from(body))
}

fn is_json(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn sane_ids_only() {
        assert!(acceptable("abc-123_x.y"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable(&"x".repeat(129)));
    }
}
