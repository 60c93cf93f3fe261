//! The whole `/v1` contract, as one tenant: add, get, update, list, search, count, forget, export, import,
//! delete, capabilities, health.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{keyed_config, TestServer, KEY_A, KEY_B};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow() {
    let s = TestServer::start(keyed_config()).await;

    // Add a batch.
    let added = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [
                {"content": "Alice prefers dark mode in her editor", "scope": {"user": "alice"},
                 "kind": "fact", "metadata": {"topic": "ui", "confidence": 0.9}},
                {"content": "Alice asked about the build server", "scope": {"user": "alice", "session": "s1"},
                 "kind": "message", "ttl": "1h"},
                {"content": "Bob likes light mode", "scope": {"user": "bob"}, "metadata": {"topic": "ui"}}
            ]}),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    let results = added.json["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r["created"] == true));
    let m0 = &results[0]["memory"];
    assert_eq!(m0["scope"], json!({"tenant": "a", "user": "alice"}));
    assert_eq!(m0["version"], 1);
    assert!(results[1]["memory"]["expires_at"].is_string());
    let id0 = m0["id"].as_str().expect("id").to_owned();
    let id2 = results[2]["memory"]["id"].as_str().expect("id").to_owned();

    // Dedup: the same content in the same scope is not added twice.
    let again = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [{"content": "Alice prefers dark mode in her editor", "scope": {"user": "alice"}}], "dedup": true}),
        )
        .await;
    assert_eq!(again.json["results"][0]["created"], false);
    assert_eq!(again.json["results"][0]["memory"]["id"], id0.as_str());

    // Get one, get many.
    let got = s.get(&format!("/v1/memories/{id0}"), KEY_A).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json["content"], "Alice prefers dark mode in her editor");
    let many = s
        .post(
            "/v1/memories/get",
            KEY_A,
            json!({"ids": [id2, id0, "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b"]}),
        )
        .await;
    let ids: Vec<&str> = many.json["memories"]
        .as_array()
        .expect("memories")
        .iter()
        .map(|m| m["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [id2.as_str(), id0.as_str()]);

    // Update, with optimistic concurrency.
    let patched = s
        .call(
            Method::PATCH,
            &format!("/v1/memories/{id0}"),
            Some(KEY_A),
            Some(json!({"content": "Alice prefers dark mode everywhere", "expected_version": 1})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.json["version"], 2);
    let stale = s
        .call(
            Method::PATCH,
            &format!("/v1/memories/{id0}"),
            Some(KEY_A),
            Some(json!({"content": "stale", "expected_version": 1})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.code(), "conflict");
    assert_eq!(stale.json["error"]["current_version"], 2);

    // List with scope, filter and pagination.
    let alice = s
        .post("/v1/memories/list", KEY_A, json!({"user": "alice"}))
        .await;
    assert_eq!(alice.json["memories"].as_array().expect("list").len(), 2);
    let page1 = s
        .post("/v1/memories/list", KEY_A, json!({"limit": 2}))
        .await;
    assert_eq!(page1.json["memories"].as_array().expect("page").len(), 2);
    let cursor = page1.json["next"].as_str().expect("cursor").to_owned();
    let page2 = s
        .post(
            "/v1/memories/list",
            KEY_A,
            json!({"limit": 2, "cursor": cursor}),
        )
        .await;
    assert_eq!(page2.json["memories"].as_array().expect("page").len(), 1);
    assert_eq!(page2.json["next"], Value::Null);
    let ui = s
        .post(
            "/v1/memories/list",
            KEY_A,
            json!({"filter": {"field": "metadata.topic", "eq": "ui"}}),
        )
        .await;
    assert_eq!(ui.json["memories"].as_array().expect("list").len(), 2);
    // A page without the embeddings, when asked (in the other tenant, so that the counts below stay).
    let added = s
        .post(
            "/v1/memories",
            KEY_B,
            json!({"memories": [{"content": "with a vector", "scope": {"user": "vec"},
                "embedding": {"model": "m", "vector": [0.5, 0.25]}}]}),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    let full = s
        .post("/v1/memories/list", KEY_B, json!({"user": "vec"}))
        .await;
    assert_eq!(
        full.json["memories"][0]["embedding"]["vector"],
        json!([0.5, 0.25])
    );
    let light = s
        .post(
            "/v1/memories/list",
            KEY_B,
            json!({"user": "vec", "embeddings": false}),
        )
        .await;
    assert_eq!(
        light.json["memories"][0]["content"], "with a vector",
        "{}",
        light.text
    );
    assert!(
        light.json["memories"][0]["embedding"].is_null(),
        "{}",
        light.text
    );

    // Search.
    let hits = s
        .post(
            "/v1/search",
            KEY_A,
            json!({"text": "dark mode", "user": "alice", "limit": 5}),
        )
        .await;
    assert_eq!(hits.status, StatusCode::OK, "{}", hits.text);
    let first = &hits.json["results"][0];
    assert_eq!(first["memory"]["id"], id0.as_str());
    let score = first["score"].as_f64().expect("score");
    assert!((0.0..=1.0).contains(&score));
    let semantic = s
        .post(
            "/v1/search",
            KEY_A,
            json!({"text": "dark", "mode": "semantic"}),
        )
        .await;
    // The embedded store searches by meaning with a query vector; this server has no embedder to make one.
    assert_eq!(
        semantic.status,
        StatusCode::BAD_REQUEST,
        "{}",
        semantic.text
    );
    assert_eq!(semantic.code(), "invalid_input");
    assert!(semantic.text.contains("embedding"), "{}", semantic.text);

    // Count.
    let all = s.post("/v1/count", KEY_A, json!({})).await;
    assert_eq!(all.json["count"], 3);
    let messages = s
        .post(
            "/v1/count",
            KEY_A,
            json!({"filter": {"field": "kind", "eq": "message"}}),
        )
        .await;
    assert_eq!(messages.json["count"], 1);

    // Export.
    let exported = s.get("/v1/export", KEY_A).await;
    assert_eq!(exported.status, StatusCode::OK);
    assert_eq!(exported.headers["content-type"], "application/x-ndjson");
    let lines: Vec<&str> = exported.text.lines().collect();
    assert_eq!(lines.len(), 4, "{}", exported.text);
    let header: Value = serde_json::from_str(lines[0]).expect("header");
    assert_eq!(header["format"], "memlane-export");
    let bob_only = s.get("/v1/export?user=bob", KEY_A).await;
    assert_eq!(bob_only.text.lines().count(), 2);

    // Forget: a scope, never the whole tenant by accident.
    let refused = s.post("/v1/forget", KEY_A, json!({})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.field(), "all");
    let both = s
        .post("/v1/forget", KEY_A, json!({"user": "bob", "all": true}))
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    let bob = s.post("/v1/forget", KEY_A, json!({"user": "bob"})).await;
    assert_eq!(bob.json["deleted"], 1);
    let everything = s.post("/v1/forget", KEY_A, json!({"all": true})).await;
    assert_eq!(everything.json["deleted"], 2);
    assert_eq!(s.post("/v1/count", KEY_A, json!({})).await.json["count"], 0);

    // Import the export back, twice.
    let import = |body: String| {
        s.client
            .post(s.url("/v1/import"))
            .bearer_auth(KEY_A)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
    };
    let report = crate::support::answer(import(exported.text.clone()).await.expect("send")).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.json["created"], 3);
    let report = crate::support::answer(import(exported.text.clone()).await.expect("send")).await;
    assert_eq!(report.json["created"], 0);
    assert_eq!(report.json["existing"], 3);
    let restored = s.get(&format!("/v1/memories/{id0}"), KEY_A).await;
    assert_eq!(restored.json, patched.json);
    let bad = crate::support::answer(import("not json\n".into()).await.expect("send")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.field(), "line 1");

    // Delete.
    let path = format!("/v1/memories/{id0}");
    let deleted = s.call(Method::DELETE, &path, Some(KEY_A), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.text.is_empty());
    let gone = s.call(Method::DELETE, &path, Some(KEY_A), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code(), "not_found");
    assert_eq!(s.get(&path, KEY_A).await.status, StatusCode::NOT_FOUND);

    // Capabilities.
    let caps = s.get("/v1/capabilities", KEY_A).await;
    assert_eq!(caps.json["backend"], "embedded");
    assert_eq!(caps.json["keyword_search"], true);
    assert_eq!(caps.json["limits"]["max_batch"], 1000);

    s.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints() {
    let s = TestServer::start(keyed_config()).await;
    let live = s.call(Method::GET, "/health/live", None, None).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json["status"], "ok");
    let ready = s.call(Method::GET, "/health/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.json["status"], "ok");
    let backend = &ready.json["backends"][0];
    assert_eq!(backend["backend"], "embedded");
    assert_eq!(backend["status"], "ok");
    assert!(backend["latency_ms"].is_number());
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_tenant_without_keys() {
    let s = TestServer::start(memlane_server::ServerConfig::default()).await;
    let added = s
        .call(
            Method::POST,
            "/v1/memories",
            None,
            Some(json!({"memories": [{"content": "no key needed on loopback"}]})),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    assert_eq!(
        added.json["results"][0]["memory"]["scope"]["tenant"],
        "default"
    );
    // A request addressed to another host name (DNS rebinding) is refused.
    let rebinding = s
        .client
        .post(s.url("/v1/count"))
        .header("host", "attacker.example:7878")
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    let rebinding = crate::support::answer(rebinding).await;
    assert_eq!(rebinding.status, StatusCode::FORBIDDEN);
    assert_eq!(rebinding.code(), "forbidden");
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_served() {
    let s = TestServer::start(keyed_config()).await;
    let doc = s.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.json["openapi"], "3.1.0");
    assert!(doc.json["paths"]["/v1/memories/{id}"]["patch"].is_object());
    s.stop().await.expect("stop");
}
