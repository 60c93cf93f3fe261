//! What a tool call answers: its result as structured content (and the same JSON as text, for hosts that only
//! read text), or a tool error carrying memlane's stable error code.
//!
//! Memories are returned as in the REST API, less their embedding vectors: hundreds of floats are of no use to an
//! agent and would fill its context window (the `embedding_model` field says which model embedded the memory).
//!
//! A tool error (`isError: true`) has the structured content
//! `{"error": {"code", "message", "field"?, "current_version"?, "retryable"}}` with the codes of the REST API
//! (`invalid_input`, `not_found`, `conflict`, `too_large`, `unsupported`, `unavailable`, `internal`). Internal
//! errors say nothing of the server's internals (they are logged).

use memlane::{Error, ErrorKind, Memory};
use rmcp::model::CallToolResult;
use serde::Serialize;
use serde_json::{json, Value};

/// A successful result: `value` as structured content and as JSON text.
pub(crate) fn success(value: Value) -> CallToolResult {
    CallToolResult::structured(value)
}

/// A memory as a tool returns it: without the embedding vector.
pub(crate) fn memory(m: Memory) -> Value {
    let model = m.embedding.as_ref().map(|e| e.model.clone());
    let mut v = to_value(&Memory {
        embedding: None,
        ..m
    });
    if let (Some(model), Value::Object(o)) = (model, &mut v) {
        o.insert("embedding_model".into(), Value::String(model));
    }
    v
}

/// A value as JSON (`null` in the impossible case that it does not serialize).
pub(crate) fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a tool result did not serialize");
        Value::Null
    })
}

/// A tool error from a memlane error.
pub(crate) fn error(e: &Error) -> CallToolResult {
    let kind = e.kind();
    let message = match kind {
        ErrorKind::InvalidInput
        | ErrorKind::NotFound
        | ErrorKind::Conflict
        | ErrorKind::TooLarge
        | ErrorKind::Unsupported => e.to_string(),
        ErrorKind::Unavailable => {
            tracing::warn!(error = %e, "store unavailable");
            e.to_string()
        }
        _ => {
            tracing::error!(error = %e, source = ?std::error::Error::source(e), "internal error in an MCP tool");
            "internal error: the server log has the details".to_owned()
        }
    };
    let mut body = json!({
        "code": kind.code(),
        "message": message,
        "retryable": e.is_temporary(),
    });
    match e {
        Error::InvalidInput { field, .. } | Error::TooLarge { field, .. } => {
            body["field"] = json!(field);
        }
        Error::Conflict {
            current_version: Some(v),
            ..
        } => body["current_version"] = json!(v),
        _ => {}
    }
    CallToolResult::structured_error(json!({ "error": body }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_stable_code() {
        let r = error(&Error::invalid("limit", "too big"));
        assert_eq!(r.is_error, Some(true));
        let e = &r.structured_content.as_ref().expect("structured")["error"];
        assert_eq!(e["code"], "invalid_input");
        assert_eq!(e["field"], "limit");
        assert_eq!(e["retryable"], false);

        let r = error(&Error::version_mismatch("embedded", 1, 2));
        assert_eq!(
            r.structured_content.as_ref().expect("structured")["error"]["current_version"],
            2
        );

        let r = error(&Error::internal("embedded", "secret detail", None));
        let text = serde_json::to_string(&r.structured_content).expect("json");
        assert!(text.contains("\"internal\"") && !text.contains("secret detail"));

        let r = error(&Error::unavailable("redis", "down", None));
        assert_eq!(
            r.structured_content.as_ref().expect("structured")["error"]["retryable"],
            true
        );
    }
}
