//! [`ApiError`]: every error answer of the API, as `{"error": {"code", "message", "field"?, "request_id"}}`.
//!
//! | code | status |
//! |---|---|
//! | `invalid_input` | 400 |
//! | `unauthorized` | 401 |
//! | `forbidden` | 403 |
//! | `not_found` | 404 |
//! | `method_not_allowed` | 405 |
//! | `conflict` | 409 (with `current_version` on a version mismatch) |
//! | `too_large` | 413 |
//! | `unsupported_media_type` | 415 |
//! | `internal` | 500 |
//! | `unsupported` | 501 |
//! | `unavailable` | 503, with `Retry-After` |
//!
//! The request id is filled in by the [`super::request_id`] middleware, which finds the error in the response's
//! extensions.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use memlane::{Error, ErrorKind};
use serde_json::{json, Value};

/// An error answer.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    info: ErrorInfo,
}

/// The body of an error answer, kept in the response's extensions so that outer middleware can complete it.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    /// The stable code.
    pub(crate) code: &'static str,
    /// What went wrong, for people.
    pub(crate) message: String,
    /// The offending field, when one is known.
    pub(crate) field: Option<String>,
    /// The stored version, on a version conflict.
    pub(crate) current_version: Option<u64>,
}

impl ErrorInfo {
    /// The JSON body, with the request id when known.
    pub(crate) fn body(&self, request_id: Option<&str>) -> Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(f) = &self.field {
            e["field"] = json!(f);
        }
        if let Some(v) = self.current_version {
            e["current_version"] = json!(v);
        }
        if let Some(id) = request_id {
            e["request_id"] = json!(id);
        }
        json!({ "error": e })
    }
}

impl ApiError {
    /// An error with this status and code.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            info: ErrorInfo {
                code,
                message: message.into(),
                field: None,
                current_version: None,
            },
        }
    }

    /// A 400 about `field`.
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message);
        e.info.field = Some(field.into());
        e
    }

    /// A 401.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// A 503 with `Retry-After`: the server is saturated or the request took too long.
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// A 413.
    pub(crate) fn body_too_large(limit: usize, setting: &str) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than {limit} bytes (the server's {setting})"),
        )
    }

    /// A 500 that tells nothing of the server's internals (they are logged).
    pub(crate) fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error: the server log has the details under this request id",
        )
    }

    /// The default error for a status that some layer answered without one of ours.
    pub(crate) fn for_status(status: StatusCode, method: &str, path: &str) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", format!("no route for {method} {path}")),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                format!("{method} is not allowed on {path}"),
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is too large".into()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported_media_type", "unsupported content type".into())
            }
            StatusCode::UNAUTHORIZED => ("unauthorized", "authentication required".into()),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "temporarily unavailable".into()),
            s if s.is_client_error() => ("invalid_input", format!("bad request ({s})")),
            _ => ("internal", "internal error".into()),
        };
        ApiError::new(status, code, message)
    }

    /// The stable code.
    #[cfg(test)]
    pub(crate) fn code(&self) -> &'static str {
        self.info.code
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let kind = e.kind();
        let status = match kind {
            ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match kind {
            ErrorKind::Unavailable => tracing::warn!(error = %e, "store unavailable"),
            ErrorKind::InvalidInput
            | ErrorKind::NotFound
            | ErrorKind::Conflict
            | ErrorKind::TooLarge
            | ErrorKind::Unsupported => {}
            _ => {
                tracing::error!(error = %e, source = ?std::error::Error::source(&e), "internal error");
                return ApiError::internal();
            }
        }
        let field = match &e {
            Error::InvalidInput { field, .. } | Error::TooLarge { field, .. } => {
                Some(field.clone())
            }
            _ => None,
        };
        let current_version = match &e {
            Error::Conflict {
                current_version, ..
            } => *current_version,
            _ => None,
        };
        ApiError {
            status,
            info: ErrorInfo {
                code: kind.code(),
                message: e.to_string(),
                field,
                current_version,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.info.body(None))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res.extensions_mut().insert(self.info);
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping() {
        let cases = [
            (Error::invalid("limit", "x"), 400, "invalid_input"),
            (Error::not_found("embedded", "memory 1"), 404, "not_found"),
            (Error::version_mismatch("embedded", 1, 2), 409, "conflict"),
            (Error::too_large("content", 10, 5), 413, "too_large"),
            (
                Error::unsupported("embedded", "semantic_search"),
                501,
                "unsupported",
            ),
            (
                Error::unavailable("embedded", "down", None),
                503,
                "unavailable",
            ),
            (
                Error::internal("embedded", "secret detail", None),
                500,
                "internal",
            ),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!(api.status.as_u16(), status);
            assert_eq!(api.code(), code);
            assert!(!api.info.message.contains("secret detail"));
        }
        let conflict = ApiError::from(Error::version_mismatch("embedded", 1, 2));
        assert_eq!(conflict.info.body(Some("r"))["error"]["current_version"], 2);
    }
}
