//! OTLP export against a real receiver: an OTLP/HTTP endpoint in this test (axum on 127.0.0.1:0) that decodes
//! the protobuf batches with `opentelemetry-proto`. The server continues the caller's W3C trace, exports the
//! request span and the store-operation spans under it, and honours the `traceparent`'s sampled flag.
//!
//! One test in this binary: the exporter is installed in the process-wide subscriber.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::json;

/// Every span received, with the `service.name` of its resource.
type Received = Arc<Mutex<Vec<(String, Span)>>>;

async fn receive(State(received): State<Received>, body: Bytes) -> Vec<u8> {
    let req = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf batch");
    let mut out = received.lock().expect("lock");
    for rs in req.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                AnyValue::StringValue(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for ss in rs.scope_spans {
            out.extend(ss.spans.into_iter().map(|s| (service.clone(), s)));
        }
    }
    ExportTraceServiceResponse::default().encode_to_vec()
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.clone()),
            AnyValue::IntValue(i) => Some(i.to_string()),
            _ => None,
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_and_store_spans_reach_the_collector_under_the_callers_trace() {
    // The receiver.
    let received = Received::default();
    let app = axum::Router::new()
        .route("/v1/traces", post(receive))
        .with_state(received.clone());
    let rx = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let collector = format!("http://{}", rx.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(rx, app).await;
    });

    // The server, exporting to it (configured as the standard variable would).
    let dir = tempfile::tempdir().expect("tmp");
    let vars = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.clone()),
        ("OTEL_SERVICE_NAME", "memlane-otlp-test".to_owned()),
        (
            "MEMLANE_STORE",
            format!("{}?embedder=none", dir.path().display()),
        ),
    ];
    let config = memlane_server::ServerConfig::load_from(None, |k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .expect("config");
    assert!(memlane_server::init_logging(&config), "the subscriber");
    assert!(memlane_server::otel::enabled());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(memlane_server::run(listener, config, async move {
        let _ = stopped.await;
    }));

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let unsampled_trace = "0af7651916cd43dd8448eb211c80319c";
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{base}/v1/memories"))
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&json!({"memories": [{"content": "traced"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 200);
    let res = client
        .post(format!("{base}/v1/count"))
        .header(
            "traceparent",
            format!("00-{unsampled_trace}-{caller_span}-00"),
        )
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 200);

    // Send what is queued, then wait for the receiver to have it.
    tokio::task::spawn_blocking(memlane_server::otel::flush)
        .await
        .expect("join")
        .expect("flush");
    let mut spans = Vec::new();
    for _ in 0..100 {
        spans = received.lock().expect("lock").clone();
        if spans.iter().any(|(_, s)| s.name == "request") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let request = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.name == "request" && hex(&s.trace_id) == trace_id)
        .unwrap_or_else(|| panic!("no request span of trace {trace_id} in {spans:#?}"));
    assert_eq!(
        hex(&request.parent_span_id),
        caller_span,
        "the caller's span is the parent"
    );
    assert_eq!(attr(request, "route").as_deref(), Some("/v1/memories"));
    assert_eq!(attr(request, "method").as_deref(), Some("POST"));
    assert_eq!(attr(request, "status").as_deref(), Some("200"));
    assert_eq!(attr(request, "trace_id").as_deref(), Some(trace_id));
    let store = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.name == "store" && s.parent_span_id == request.span_id)
        .unwrap_or_else(|| panic!("no store span under the request in {spans:#?}"));
    assert_eq!(hex(&store.trace_id), trace_id);
    assert_eq!(attr(store, "operation").as_deref(), Some("add"));
    assert!(spans
        .iter()
        .all(|(service, _)| service == "memlane-otlp-test"));
    assert!(
        spans
            .iter()
            .all(|(_, s)| hex(&s.trace_id) != unsampled_trace),
        "a trace the caller did not sample is not exported"
    );

    let _ = stop.send(());
    server.await.expect("join").expect("server");
}
