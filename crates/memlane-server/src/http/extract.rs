//! Extractors whose rejections are [`ApiError`]s naming the offending field: JSON bodies ([`ApiJson`]), query
//! strings ([`ApiQuery`]), memory ids in the path ([`IdPath`]) and JSONL bodies ([`JsonlBody`]).
//!
//! Bodies must say what they are (`Content-Type: application/json`, or a JSONL type for imports): besides being
//! explicit, it keeps browsers from sending them cross-site without a CORS preflight, which this server never
//! grants.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use memlane::MemoryId;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::AppState;

/// A JSON body, decoded with errors that name the field (`memories[0].scope`).
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        require_type(req.headers(), "application/json", |t| {
            t == "application/json" || t.ends_with("+json")
        })?;
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| body_error(r, state.config.max_body_bytes, "max_body_bytes"))?;
        decode(&bytes).map(ApiJson)
    }
}

/// Decodes JSON into `T`; errors name the path of the offending value.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        json_error(&path, e.into_inner())
    })?;
    de.end().map_err(|e| json_error(".", e))?;
    Ok(value)
}

fn json_error(path: &str, e: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = e.to_string();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::invalid("body", format!("malformed JSON: {message}"))
        }
        Category::Data => {
            let mut field = if path == "." {
                String::new()
            } else {
                path.to_owned()
            };
            // The path ends at an unknown field already, but at the parent of a missing one.
            let named = quoted_after(&message, "unknown field `")
                .or_else(|| quoted_after(&message, "missing field `"));
            if let Some(name) = named {
                let last = field.rsplit('.').next().unwrap_or("");
                if last != name {
                    if !field.is_empty() {
                        field.push('.');
                    }
                    field.push_str(name);
                }
            }
            if field.is_empty() {
                field.push_str("body");
            }
            ApiError::invalid(field.clone(), format!("{field}: {message}"))
        }
    }
}

/// The text between `prefix` and the next backquote.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let start = message.find(prefix)? + prefix.len();
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// A body-reading failure: 413 over the limit, 400 otherwise.
fn body_error(r: BytesRejection, limit: usize, setting: &str) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::body_too_large(limit, setting)
    } else {
        ApiError::invalid("body", r.body_text())
    }
}

/// Refuses a body whose `Content-Type` does not pass `ok` (415), naming `expected`.
fn require_type(
    headers: &HeaderMap,
    expected: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<(), ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match essence {
        Some(t) if ok(&t) => Ok(()),
        Some(t) => Err(unsupported_type(format!(
            "the body is {t}: send Content-Type: {expected}"
        ))),
        None => Err(unsupported_type(format!(
            "the request has no Content-Type: send Content-Type: {expected}"
        ))),
    }
}

fn unsupported_type(message: String) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        message,
    )
}

/// A query string, decoded with errors that name the parameter.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|r| {
                let text = r.body_text();
                let field = quoted_after(&text, "unknown field `")
                    .or_else(|| quoted_after(&text, "missing field `"))
                    .unwrap_or("query");
                ApiError::invalid(field, text.clone())
            })
    }
}

/// The memory id of a `/v1/memories/{id}` path.
#[derive(Debug)]
pub(crate) struct IdPath(pub(crate) MemoryId);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|r| ApiError::invalid("id", r.body_text()))?;
        memlane::parse_id(&raw).map(IdPath).map_err(ApiError::from)
    }
}

/// A JSONL body (an export), up to `max_import_bytes`.
#[derive(Debug)]
pub(crate) struct JsonlBody(pub(crate) Bytes);

/// The content types a JSONL body may have.
const JSONL_TYPES: &[&str] = &[
    "application/x-ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/json",
];

impl FromRequest<AppState> for JsonlBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        require_type(req.headers(), "application/x-ndjson", |t| {
            JSONL_TYPES.contains(&t)
        })?;
        Bytes::from_request(req, state)
            .await
            .map(JsonlBody)
            .map_err(|r| body_error(r, state.config.max_import_bytes, "max_import_bytes"))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        user: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
        limit: Option<usize>,
    }

    fn field_of(json: &str) -> String {
        let e = decode::<Outer>(json.as_bytes()).expect_err("must fail");
        e.into_response_field()
    }

    impl ApiError {
        fn into_response_field(self) -> String {
            let res = axum::response::IntoResponse::into_response(self);
            res.extensions()
                .get::<super::super::error::ErrorInfo>()
                .and_then(|i| i.field.clone())
                .unwrap_or_default()
        }
    }

    #[test]
    fn errors_name_fields() {
        assert_eq!(
            field_of(r#"{"items":[{"user":"a","tenant":"b"}]}"#),
            "items[0].tenant"
        );
        assert_eq!(field_of(r#"{"items":[], "limit": "ten"}"#), "limit");
        assert_eq!(field_of(r#"{"limit": 1}"#), "items");
        assert_eq!(field_of(r#"{"items": [}"#), "body");
        assert_eq!(field_of(r#"{"items": []} trailing"#), "body");
    }
}
