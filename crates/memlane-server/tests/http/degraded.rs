//! A composite store behind the server: a read answered past a tier that is down carries the `Memlane-Degraded`
//! header, a read answered normally does not, and the down tier's outbox lag shows in `/metrics`.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{keyed_config, TestServer, KEY_A};

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_served_past_a_down_tier_is_marked_degraded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("composite.toml");
    let port = closed_port();
    std::fs::write(
        &file,
        format!(
            r#"
[tiers.records]
url = "memory://?outbox=true"
role = "record"

[tiers.cache]
url = "redis://127.0.0.1:{port}?timeout_ms=200"
role = "cache"
timeout_ms = 300

[routing]
get = ["cache", "records"]
list = ["records", "cache"]

[outbox]
interval_ms = 50
"#
        ),
    )
    .expect("write config");
    let store = memlane::open(&format!("composite://{}?embedder=none", file.display()))
        .await
        .expect("open the composite with its cache down");
    let s = TestServer::start_with(keyed_config(), move |_| store).await;

    let added = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [{"content": "written while the cache is down"}]}),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    let id = added.json["results"][0]["memory"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // `get` routes to the cache first: it is down, the record answers, and the answer says so.
    let got = s.get(&format!("/v1/memories/{id}"), KEY_A).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json["content"], "written while the cache is down");
    let header = got
        .headers
        .get("memlane-degraded")
        .expect("a Memlane-Degraded header")
        .to_str()
        .expect("ascii");
    assert!(header.contains("tier=records"), "{header}");
    assert!(header.contains("cache"), "{header}");

    // `list` routes to the record first: a normal answer, no header.
    let listed = s.post("/v1/memories/list", KEY_A, json!({})).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert!(listed.headers.get("memlane-degraded").is_none());

    // The cache missed the write: once the background replayer has measured it (every 50 ms here), /metrics shows
    // an outbox lag of at least 1 for it.
    let mut last = String::new();
    let mut lag = None;
    for _ in 0..100 {
        last = s
            .client
            .get(s.url("/metrics"))
            .send()
            .await
            .expect("send")
            .text()
            .await
            .expect("text");
        lag = last
            .lines()
            .find(|l| l.starts_with("memlane_outbox_lag{") && l.contains("tier=\"cache\""))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok());
        if lag.is_some_and(|v| v >= 1.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        lag.is_some_and(|v| v >= 1.0),
        "no outbox lag >= 1 for the cache in:\n{last}"
    );
    s.stop().await.expect("stop");
}
