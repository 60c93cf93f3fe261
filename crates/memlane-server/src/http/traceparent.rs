//! W3C Trace Context: the `traceparent` header (`00-<trace id>-<parent id>-<flags>`), so that a request's logs
//! carry the caller's trace id.

use axum::http::HeaderMap;

/// The parts of a valid `traceparent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraceParent {
    /// 32 lowercase hex digits, not all zero.
    pub(crate) trace_id: String,
    /// 16 lowercase hex digits, not all zero: the caller's span.
    pub(crate) parent_id: String,
}

/// The request's `traceparent`, when present and valid (invalid ones are ignored, as the spec says).
pub(crate) fn from_headers(headers: &HeaderMap) -> Option<TraceParent> {
    parse(headers.get("traceparent")?.to_str().ok()?)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn parse(v: &str) -> Option<TraceParent> {
    let mut parts = v.trim().split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let parent_id = parts.next()?;
    let flags = parts.next()?;
    if !is_hex(version, 2) || version == "ff" || (version == "00" && parts.next().is_some()) {
        return None;
    }
    if !is_hex(trace_id, 32) || trace_id.bytes().all(|b| b == b'0') {
        return None;
    }
    if !is_hex(parent_id, 16) || parent_id.bytes().all(|b| b == b'0') || !is_hex(flags, 2) {
        return None;
    }
    Some(TraceParent {
        trace_id: trace_id.to_owned(),
        parent_id: parent_id.to_owned(),
    })
}

/// A new random trace id, for requests that bring none.
pub(crate) fn new_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_and_rejects_invalid() {
        let t = parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").expect("valid");
        assert_eq!(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(t.parent_id, "00f067aa0ba902b7");
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "garbage",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert_eq!(new_trace_id().len(), 32);
    }
}
