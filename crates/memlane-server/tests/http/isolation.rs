//! Tenant isolation on every route: tenant A can neither read, list, search, count, update, delete, export nor
//! forget tenant B's memories, and a body that names a tenant is refused.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{answer, keyed_config, TestServer, KEY_A, KEY_B};

const SECRET: &str = "tenant b's secret launch codes";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_isolated_on_every_route() {
    let s = TestServer::start(keyed_config()).await;
    let b = s
        .post(
            "/v1/memories",
            KEY_B,
            json!({"memories": [{"content": SECRET, "scope": {"user": "u"}, "metadata": {"k": "v"}}]}),
        )
        .await;
    let b_mem = b.json["results"][0]["memory"].clone();
    let b_id = b_mem["id"].as_str().expect("id").to_owned();
    s.post(
        "/v1/memories",
        KEY_A,
        json!({"memories": [{"content": "tenant a's own note", "scope": {"user": "u"}}]}),
    )
    .await;
    let b_path = format!("/v1/memories/{b_id}");

    // Read.
    assert_eq!(s.get(&b_path, KEY_A).await.status, StatusCode::NOT_FOUND);
    let many = s
        .post("/v1/memories/get", KEY_A, json!({"ids": [b_id]}))
        .await;
    assert_eq!(many.json["memories"], json!([]));
    // List.
    for body in [
        json!({}),
        json!({"user": "u"}),
        json!({"filter": {"field": "id", "eq": b_id}}),
    ] {
        let list = s.post("/v1/memories/list", KEY_A, body).await;
        assert!(!list.text.contains(SECRET), "{}", list.text);
        assert!(!list.text.contains(&b_id));
    }
    // Search.
    let hits = s
        .post("/v1/search", KEY_A, json!({"text": "secret launch codes"}))
        .await;
    assert_eq!(hits.status, StatusCode::OK);
    assert_eq!(hits.json["results"], json!([]));
    // Count.
    assert_eq!(s.post("/v1/count", KEY_A, json!({})).await.json["count"], 1);
    assert_eq!(
        s.post(
            "/v1/count",
            KEY_A,
            json!({"filter": {"field": "metadata.k", "eq": "v"}})
        )
        .await
        .json["count"],
        0
    );
    // Update.
    let patch = s
        .call(
            Method::PATCH,
            &b_path,
            Some(KEY_A),
            Some(json!({"content": "pwned"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND);
    // Delete.
    let del = s.call(Method::DELETE, &b_path, Some(KEY_A), None).await;
    assert_eq!(del.status, StatusCode::NOT_FOUND);
    // Export.
    let export = s.get("/v1/export", KEY_A).await;
    assert!(!export.text.contains(SECRET));
    assert_eq!(export.text.lines().count(), 2);
    let export_u = s.get("/v1/export?user=u", KEY_A).await;
    assert!(!export_u.text.contains(SECRET));
    // Forget.
    assert_eq!(
        s.post("/v1/forget", KEY_A, json!({"user": "u"})).await.json["deleted"],
        1
    );
    assert_eq!(
        s.post("/v1/forget", KEY_A, json!({"all": true})).await.json["deleted"],
        0
    );
    // Reusing B's id makes A's own memory, never touches B's.
    let reuse = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [{"id": b_id, "content": "a's copy"}]}),
        )
        .await;
    assert_eq!(reuse.status, StatusCode::OK, "{}", reuse.text);
    assert_eq!(reuse.json["results"][0]["memory"]["scope"]["tenant"], "a");
    assert_eq!(s.get(&b_path, KEY_A).await.json["content"], "a's copy");
    // Importing B's export as A lands in A's tenant.
    let b_export = s.get("/v1/export", KEY_B).await;
    let imported = s
        .client
        .post(s.url("/v1/import"))
        .bearer_auth(KEY_A)
        .header("content-type", "application/x-ndjson")
        .body(
            b_export
                .text
                .replace(&b_id, "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b"),
        )
        .send()
        .await
        .expect("send");
    let imported = answer(imported).await;
    assert_eq!(imported.json["created"], 1, "{}", imported.text);

    // A body or query that names a tenant is refused, on every route that takes one.
    let naming_tenant: [(&str, Value); 7] = [
        (
            "/v1/memories",
            json!({"memories": [{"content": "x", "scope": {"tenant": "b"}}]}),
        ),
        (
            "/v1/memories",
            json!({"tenant": "b", "memories": [{"content": "x"}]}),
        ),
        ("/v1/memories/get", json!({"tenant": "b", "ids": [b_id]})),
        ("/v1/memories/list", json!({"tenant": "b"})),
        ("/v1/search", json!({"tenant": "b", "text": "secret"})),
        ("/v1/count", json!({"tenant": "b"})),
        ("/v1/forget", json!({"tenant": "b", "all": true})),
    ];
    for (path, body) in naming_tenant {
        let a = s.post(path, KEY_A, body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert!(a.field().ends_with("tenant"), "{path}: {}", a.text);
    }
    let patch = s
        .call(
            Method::PATCH,
            &b_path,
            Some(KEY_A),
            Some(json!({"tenant": "b", "content": "x"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.get("/v1/export?tenant=b", KEY_A).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.client
            .post(s.url("/v1/import?tenant=b"))
            .bearer_auth(KEY_A)
            .header("content-type", "application/x-ndjson")
            .body(b_export.text.clone())
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::BAD_REQUEST
    );

    // B's memory came through all of it untouched.
    let still = s.get(&b_path, KEY_B).await;
    assert_eq!(still.status, StatusCode::OK);
    assert_eq!(still.json, b_mem);
    assert_eq!(s.post("/v1/count", KEY_B, json!({})).await.json["count"], 1);
    s.stop().await.expect("stop");
}
