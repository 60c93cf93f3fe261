//! Metrics at `/metrics`, and request spans in JSON logs with the trace id of `traceparent`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{keyed_config, TestServer, KEY_A};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_expose_the_histograms() {
    let s = TestServer::start(keyed_config()).await;
    let m = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [{"content": "measure me"}]}),
        )
        .await;
    let id = m.json["results"][0]["memory"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.get(&format!("/v1/memories/{id}"), KEY_A).await;
    s.get("/v1/memories/019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b", KEY_A)
        .await;
    let res = s.client.get(s.url("/metrics")).send().await.expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("application/openmetrics-text"));
    let text = res.text().await.expect("text");
    for needle in [
        "memlane_http_request_duration_seconds_bucket{le=\"+Inf\",method=\"POST\",route=\"/v1/memories\",status=\"200\"} 1",
        "memlane_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/memories/{id}\",status=\"404\"} 1",
        "memlane_store_operation_duration_seconds_bucket{le=\"+Inf\",backend=\"embedded\",operation=\"add\",outcome=\"ok\"} 1",
        "memlane_store_errors_total{backend=\"embedded\",operation=\"get\",kind=\"not_found\"} 1",
        "memlane_backend_up{backend=\"embedded\"} 1",
        "memlane_ttl_purge_interval_seconds 60",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(!text.contains("tenant"), "no tenant label: {text}");
    s.stop().await.expect("stop");
}

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
