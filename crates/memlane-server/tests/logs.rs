//! Request spans in JSON logs, with the trace id of `traceparent`, the request id and the tenant, and never the key.
//!
//! A test binary of its own: the log is captured by a thread-local subscriber, and tracing caches whether a
//! callsite is enabled when it is first hit; another test's thread hitting the same callsite at the moment this
//! subscriber is installed could cache "disabled" for it (seen about once in 20 runs inside the `http` binary).

#[allow(dead_code)]
#[path = "http/support.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::{Method, StatusCode};
use serde_json::json;

use support::{keyed_config, TestServer, KEY_A};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// A current-thread runtime, so that the thread-local subscriber sees the server's events.
#[tokio::test]
async fn json_logs_carry_trace_id_request_id_and_tenant() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = TestServer::start(keyed_config()).await;
    let res = s
        .client
        .request(Method::POST, s.url("/v1/count"))
        .bearer_auth(KEY_A)
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("x-request-id", "req-for-log-test")
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    s.stop().await.expect("stop");

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    let line = logs
        .lines()
        .find(|l| l.contains("request answered") && l.contains("req-for-log-test"))
        .unwrap_or_else(|| panic!("no request log in\n{logs}"));
    let v: serde_json::Value = serde_json::from_str(line).expect("json line");
    let span = &v["span"];
    assert_eq!(
        span["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
        "{line}"
    );
    assert_eq!(span["parent_span_id"], "00f067aa0ba902b7", "{line}");
    assert_eq!(span["tenant"], "a", "{line}");
    assert_eq!(span["route"], "/v1/count", "{line}");
    assert!(!logs.contains(KEY_A), "the key never reaches a log");
}
