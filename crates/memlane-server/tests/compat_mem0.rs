//! mem0's REST API under `/compat/mem0`, against a real server on 127.0.0.1:0 over a temp-dir embedded store
//! with two tenants' keys: every route's shapes, the deprecation headers on answers and errors, the counter and
//! the once-per-client warning (through `/metrics`), tenant isolation, bad input, unknown routes, `/configure`
//! and `/reset`; and mem0's own client library (`mem0.MemoryClient`, `tests/compat/mem0_client.py`) doing add,
//! get, get_all, search, update, history, delete and delete_all against it.
//!
//! The Python part needs `MEMLANE_TEST_PYTHON` (a Python with `mem0ai`: `scripts/setup/python.sh` builds one);
//! without it that test is skipped with a message, or fails when `MEMLANE_REQUIRE_SERVICES=1` (as in CI).

#[allow(dead_code)]
#[path = "http/support.rs"]
mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use memlane_server::ServerConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{answer, keyed_config, Answer, TestServer, KEY_A, KEY_B};

const P: &str = "/compat/mem0";

/// A compat request with mem0's `Authorization: Token <key>` and an optional JSON body.
async fn call(
    s: &TestServer,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Answer {
    call_as(s, method, path, key, body, "compat-test/1").await
}

async fn call_as(
    s: &TestServer,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
    agent: &str,
) -> Answer {
    let mut req = s
        .client
        .request(method, s.url(&format!("{P}{path}")))
        .header("user-agent", agent);
    if let Some(k) = key {
        req = req.header("authorization", format!("Token {k}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer(req.send().await.expect("send")).await
}

/// Checks the deprecation headers of a compat answer, and that its Link names `successor`.
fn deprecated(a: &Answer, successor: &str) {
    let h = |n: &str| {
        a.headers
            .get(n)
            .unwrap_or_else(|| panic!("no {n} header on {} {}", a.status, a.text))
            .to_str()
            .expect("ascii")
            .to_owned()
    };
    assert_eq!(h("deprecation"), "@1796083200", "{}", a.text);
    assert_eq!(h("sunset"), "Wed, 01 Dec 2027 00:00:00 GMT");
    assert_eq!(
        h("link"),
        format!("<{successor}>; rel=\"successor-version\"")
    );
    assert!(a.headers.contains_key("x-request-id"));
}

/// Checks a mem0-shaped error: its status, `detail`, memlane's `code` and the request id.
fn mem0_error(a: &Answer, status: StatusCode, code: &str, detail: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.json["code"], code, "{}", a.text);
    let d = a.json["detail"].as_str().unwrap_or("");
    assert!(d.contains(detail), "{detail:?} not in {d:?}");
    assert_eq!(
        a.json["request_id"].as_str(),
        a.headers.get("x-request-id").and_then(|v| v.to_str().ok()),
    );
}

/// The value of a metric line starting with `prefix` (0 when absent).
async fn metric(s: &TestServer, prefix: &str) -> f64 {
    let text = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn self_hosted_routes_keep_mem0_shapes() {
    let s = TestServer::start(keyed_config()).await;
    let msgs = json!([
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "I love hiking in the Alps", "name": "alice"},
        {"role": "assistant", "content": "Hiking noted"}
    ]);
    let a = call(
        &s,
        Method::POST,
        "/memories",
        Some(KEY_A),
        Some(json!({"messages": msgs, "user_id": "alice", "run_id": "r1", "metadata": {"topic": "sport"}, "infer": true})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    deprecated(&a, "/v1/memories");
    let results = a.json["results"].as_array().expect("results");
    assert_eq!(
        results.len(),
        2,
        "the system message is not a memory: {}",
        a.text
    );
    assert_eq!(results[0]["event"], "ADD");
    assert_eq!(results[0]["memory"], "I love hiking in the Alps");
    assert_eq!(results[0]["role"], "user");
    assert_eq!(results[0]["actor_id"], "alice");
    assert_eq!(results[1]["actor_id"], Value::Null);
    let id = results[0]["id"].as_str().expect("id").to_owned();
    uuid_str(&id);

    let a = call(
        &s,
        Method::GET,
        &format!("/memories/{id}"),
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    deprecated(&a, &format!("/v1/memories/{id}"));
    let m = &a.json;
    assert_eq!(m["id"], id.as_str());
    assert_eq!(m["memory"], "I love hiking in the Alps");
    assert_eq!(m["user_id"], "alice");
    assert_eq!(m["run_id"], "r1");
    assert!(m.get("agent_id").is_none(), "{m}");
    assert_eq!(m["role"], "user");
    assert_eq!(m["actor_id"], "alice");
    assert_eq!(m["metadata"], json!({"topic": "sport"}));
    assert_eq!(m["hash"].as_str().map(str::len), Some(64), "{m}");
    assert!(
        m["created_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{m}"
    );
    assert!(m["updated_at"].is_string());

    // The same memory through /v1: role and actor live in metadata under mem0_ names.
    let v1 = s.get(&format!("/v1/memories/{id}"), KEY_A).await;
    assert_eq!(v1.json["metadata"]["mem0_role"], "user", "{}", v1.text);
    assert_eq!(v1.json["scope"]["session"], "r1");

    let a = call(
        &s,
        Method::GET,
        "/memories?user_id=alice",
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    deprecated(&a, "/v1/memories/list");
    assert_eq!(
        a.json["results"].as_array().map(Vec::len),
        Some(2),
        "{}",
        a.text
    );

    let a = call(
        &s,
        Method::POST,
        "/search",
        Some(KEY_A),
        Some(json!({"query": "hiking Alps", "user_id": "alice", "filters": {"role": "user"}, "limit": 5})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    deprecated(&a, "/v1/search");
    let hits = a.json["results"].as_array().expect("results");
    assert_eq!(hits.len(), 1, "{}", a.text);
    assert_eq!(hits[0]["id"], id.as_str());
    assert!(hits[0]["score"]
        .as_f64()
        .is_some_and(|x| x > 0.0 && x <= 1.0));

    let a = call(
        &s,
        Method::PUT,
        &format!("/memories/{id}"),
        Some(KEY_A),
        Some(json!({"text": "I love hiking in the Andes", "expiration_date": "2099-12-31"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json, json!({"message": "Memory updated successfully!"}));
    deprecated(&a, &format!("/v1/memories/{id}"));
    let a = call(
        &s,
        Method::GET,
        &format!("/memories/{id}"),
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.json["memory"], "I love hiking in the Andes");
    assert_eq!(a.json["expiration_date"], "2099-12-31", "{}", a.text);
    assert_eq!(a.json["metadata"], json!({"topic": "sport"}));

    let a = call(
        &s,
        Method::GET,
        &format!("/memories/{id}/history"),
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    deprecated(&a, &format!("/v1/memories/{id}"));
    let h = a.json.as_array().expect("a list");
    assert_eq!(h.len(), 2, "{}", a.text);
    assert_eq!(h[0]["event"], "ADD");
    assert_eq!(h[1]["event"], "UPDATE");
    assert_eq!(h[1]["new_memory"], "I love hiking in the Andes");
    assert_eq!(h[1]["memory_id"], id.as_str());

    let a = call(
        &s,
        Method::DELETE,
        &format!("/memories/{id}"),
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json, json!({"message": "Memory deleted successfully"}));
    let a = call(
        &s,
        Method::GET,
        &format!("/memories/{id}"),
        Some(KEY_A),
        None,
    )
    .await;
    mem0_error(&a, StatusCode::NOT_FOUND, "not_found", "not found");
    deprecated(&a, &format!("/v1/memories/{id}"));

    let a = call(
        &s,
        Method::DELETE,
        "/memories?user_id=alice",
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json, json!({"message": "All relevant memories deleted"}));
    deprecated(&a, "/v1/forget");
    let a = call(
        &s,
        Method::GET,
        "/memories?user_id=alice",
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.json["results"], json!([]));
    s.stop().await.expect("stop");
}

fn uuid_str(id: &str) {
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.matches('-').count(), 4, "{id}");
}

#[tokio::test]
async fn platform_routes_speak_memory_client_shapes() {
    let s = TestServer::start(keyed_config()).await;
    let a = call(&s, Method::GET, "/v1/ping/", Some(KEY_A), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["status"], "ok");
    assert_eq!(a.json["project_id"], "a", "the caller's tenant: {}", a.text);
    deprecated(&a, "/v1/capabilities");

    let a = call(
        &s,
        Method::POST,
        "/v3/memories/add/",
        Some(KEY_A),
        Some(json!({"messages": [{"role": "user", "content": "Bob drinks green tea"}], "user_id": "bob",
            "agent_id": "barista", "metadata": {"n": 3}, "async_mode": true, "infer": true})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    deprecated(&a, "/v1/memories");
    let r = &a.json["results"][0];
    assert_eq!(r["event"], "ADD");
    assert_eq!(r["data"]["memory"], "Bob drinks green tea");
    let id = r["id"].as_str().expect("id").to_owned();

    let a = call(
        &s,
        Method::POST,
        "/v3/memories/?page=1&page_size=10",
        Some(KEY_A),
        Some(json!({"filters": {"AND": [{"user_id": "bob"}, {"n": {"gte": 2}}]}})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    deprecated(&a, "/v1/memories/list");
    assert_eq!(a.json["count"], 1, "{}", a.text);
    assert_eq!(a.json["next"], Value::Null);
    assert_eq!(a.json["results"][0]["id"], id.as_str());
    assert_eq!(a.json["results"][0]["agent_id"], "barista");

    let a = call(
        &s,
        Method::POST,
        "/v3/memories/search/",
        Some(KEY_A),
        Some(json!({"query": "green tea", "filters": {"user_id": "bob", "n": 3}, "top_k": 3, "rerank": false})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    deprecated(&a, "/v1/search");
    assert_eq!(a.json["results"][0]["id"], id.as_str(), "{}", a.text);

    let path = format!("/v1/memories/{id}/");
    let a = call(&s, Method::GET, &path, Some(KEY_A), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["memory"], "Bob drinks green tea");
    deprecated(&a, &format!("/v1/memories/{id}"));

    let a = call(
        &s,
        Method::PUT,
        &path,
        Some(KEY_A),
        Some(json!({"text": "Bob drinks black tea", "metadata": {"n": 4}})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["memory"], "Bob drinks black tea");
    assert_eq!(a.json["metadata"], json!({"n": 4}));
    assert_eq!(a.json["role"], "user");

    let a = call(
        &s,
        Method::GET,
        &format!("{path}history/"),
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json.as_array().map(Vec::len), Some(2), "{}", a.text);

    let a = call(
        &s,
        Method::DELETE,
        &format!("{path}?delete_linked=true"),
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json, json!({"message": "Memory deleted successfully!"}));

    let a = call(
        &s,
        Method::DELETE,
        "/v1/memories/?user_id=bob",
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json, json!({"message": "Memories deleted successfully!"}));
    deprecated(&a, "/v1/forget");
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn errors_are_mem0_shaped_typed_and_deprecated() {
    let mut config = keyed_config();
    config.max_body_bytes = 4096;
    let s = TestServer::start(config).await;
    // No key, a wrong key, Bearer still works.
    let a = call(&s, Method::GET, "/memories?user_id=x", None, None).await;
    mem0_error(
        &a,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing API key",
    );
    deprecated(&a, "/v1/memories/list");
    let a = call(
        &s,
        Method::GET,
        "/memories?user_id=x",
        Some("wrong-key-0123456789"),
        None,
    )
    .await;
    mem0_error(&a, StatusCode::UNAUTHORIZED, "unauthorized", "not valid");
    let res = s
        .client
        .get(s.url(&format!("{P}/memories?user_id=x")))
        .bearer_auth(KEY_A)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    // /v1 keeps refusing mem0's Token scheme.
    let res = s
        .client
        .get(s.url("/v1/capabilities"))
        .header("authorization", format!("Token {KEY_A}"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let bad = [
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "user_id",
            "At least one identifier",
        ),
        (
            json!({"messages": [], "user_id": "u", "tenant": "b"}),
            "tenant",
            "unknown field",
        ),
        (
            json!({"messages": [{"role": "user"}], "user_id": "u"}),
            "messages[0].content",
            "missing field",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "user_id": "u", "expiration_date": "soon"}),
            "expiration_date",
            "YYYY-MM-DD",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "user_id": "u", "metadata": {"mem0_role": "x"}}),
            "metadata.mem0_role",
            "reserved",
        ),
    ];
    for (body, field, detail) in bad {
        let a = call(&s, Method::POST, "/memories", Some(KEY_A), Some(body)).await;
        mem0_error(&a, StatusCode::BAD_REQUEST, "invalid_input", detail);
        assert_eq!(a.json["field"], field, "{}", a.text);
        deprecated(&a, "/v1/memories");
    }
    let filters = [
        (json!({"topic": {"icontains": "x"}}), "icontains"),
        (json!({"app_id": "x"}), "app_id"),
        (json!({"topic": {"eq": null}}), "filter"),
        (json!({"OR": 3}), "list of filter objects"),
    ];
    for (f, detail) in filters {
        let a = call(
            &s,
            Method::POST,
            "/search",
            Some(KEY_A),
            Some(json!({"query": "x", "user_id": "u", "filters": f})),
        )
        .await;
        mem0_error(&a, StatusCode::BAD_REQUEST, "invalid_input", detail);
    }
    let a = call(&s, Method::GET, "/memories", Some(KEY_A), None).await;
    mem0_error(
        &a,
        StatusCode::BAD_REQUEST,
        "invalid_input",
        "At least one identifier",
    );
    let a = call(&s, Method::DELETE, "/v1/memories/", Some(KEY_A), None).await;
    mem0_error(
        &a,
        StatusCode::BAD_REQUEST,
        "invalid_input",
        "At least one identifier",
    );
    let a = call(
        &s,
        Method::POST,
        "/v3/memories/",
        Some(KEY_A),
        Some(json!({"filters": {"topic": "x"}})),
    )
    .await;
    mem0_error(
        &a,
        StatusCode::BAD_REQUEST,
        "invalid_input",
        "at least one of",
    );
    let a = call(&s, Method::GET, "/memories/not-an-id", Some(KEY_A), None).await;
    mem0_error(&a, StatusCode::BAD_REQUEST, "invalid_input", "");
    deprecated(&a, "/v1/memories");
    let a = call(
        &s,
        Method::PUT,
        "/memories/019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b",
        Some(KEY_A),
        Some(json!({})),
    )
    .await;
    mem0_error(
        &a,
        StatusCode::BAD_REQUEST,
        "invalid_input",
        "At least one of text",
    );
    let a = call(
        &s,
        Method::POST,
        "/memories",
        Some(KEY_A),
        Some(json!({"messages": [{"role": "user", "content": "x".repeat(5000)}], "user_id": "u"})),
    )
    .await;
    mem0_error(
        &a,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "max_body_bytes",
    );
    deprecated(&a, "/v1/memories");

    // Unknown routes and methods under the prefix: a 404 naming the route, deprecated too.
    let a = call(&s, Method::GET, "/v1/entities/", Some(KEY_A), None).await;
    mem0_error(
        &a,
        StatusCode::NOT_FOUND,
        "not_found",
        "GET /compat/mem0/v1/entities/ is not a route",
    );
    deprecated(&a, "/docs");
    let a = call(&s, Method::PATCH, "/memories", Some(KEY_A), None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{}", a.text);
    assert!(a.json["detail"].is_string(), "{}", a.text);
    deprecated(&a, "/docs");

    // /configure is gone for good; /reset is refused by default.
    let a = call(
        &s,
        Method::POST,
        "/configure",
        Some(KEY_A),
        Some(json!({"llm": {}})),
    )
    .await;
    mem0_error(&a, StatusCode::GONE, "gone", "configured by its own config");
    deprecated(&a, "/v1/capabilities");
    let a = call(&s, Method::POST, "/reset", Some(KEY_A), None).await;
    mem0_error(&a, StatusCode::FORBIDDEN, "forbidden", "POST /v1/forget");
    deprecated(&a, "/v1/forget");
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn tenants_are_isolated_and_reset_forgets_only_the_callers_tenant() {
    let mut config = keyed_config();
    config.compat.allow_reset = true;
    let s = TestServer::start(config).await;
    let add = |key: &'static str, text: &'static str| {
        let s = &s;
        async move {
            let a = call(
                s,
                Method::POST,
                "/memories",
                Some(key),
                Some(json!({"messages": [{"role": "user", "content": text}], "user_id": "same-user"})),
            )
            .await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text);
            a.json["results"][0]["id"].as_str().expect("id").to_owned()
        }
    };
    let in_a = add(KEY_A, "tenant a's secret plan").await;
    let _in_b = add(KEY_B, "tenant b's note").await;

    for path in [
        format!("/memories/{in_a}"),
        format!("/v1/memories/{in_a}/"),
        format!("/memories/{in_a}/history"),
    ] {
        let a = call(&s, Method::GET, &path, Some(KEY_B), None).await;
        mem0_error(&a, StatusCode::NOT_FOUND, "not_found", "not found");
    }
    let a = call(
        &s,
        Method::PUT,
        &format!("/memories/{in_a}"),
        Some(KEY_B),
        Some(json!({"text": "pwned"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    let a = call(
        &s,
        Method::DELETE,
        &format!("/v1/memories/{in_a}/"),
        Some(KEY_B),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    let a = call(
        &s,
        Method::GET,
        "/memories?user_id=same-user",
        Some(KEY_B),
        None,
    )
    .await;
    let texts: Vec<&str> = a.json["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|m| m["memory"].as_str())
        .collect();
    assert_eq!(texts, ["tenant b's note"]);
    let a = call(
        &s,
        Method::POST,
        "/search",
        Some(KEY_B),
        Some(json!({"query": "secret plan", "user_id": "same-user"})),
    )
    .await;
    assert!(
        a.json["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|m| m["id"] != in_a.as_str()),
        "{}",
        a.text
    );

    // With allow_reset, /reset forgets the caller's tenant only.
    let a = call(&s, Method::POST, "/reset", Some(KEY_B), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json, json!({"message": "All memories reset"}));
    let a = call(
        &s,
        Method::GET,
        "/memories?user_id=same-user",
        Some(KEY_B),
        None,
    )
    .await;
    assert_eq!(a.json["results"], json!([]));
    let a = call(
        &s,
        Method::GET,
        &format!("/memories/{in_a}"),
        Some(KEY_A),
        None,
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "tenant a's memory survived b's reset: {}",
        a.text
    );
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn every_use_counts_and_each_client_is_warned_once() {
    let s = TestServer::start(keyed_config()).await;
    let warnings = "memlane_compat_deprecation_warnings_total{api=\"mem0\"}";
    let pings = "memlane_compat_requests_total{api=\"mem0\",route=\"/v1/ping/\"}";
    assert_eq!(metric(&s, warnings).await, 0.0);
    for _ in 0..3 {
        let a = call_as(
            &s,
            Method::GET,
            "/v1/ping/",
            Some(KEY_A),
            None,
            "client-one/1",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
    }
    assert_eq!(metric(&s, pings).await, 3.0);
    assert_eq!(metric(&s, warnings).await, 1.0, "one client, one warning");
    // Another User-Agent, another tenant: each is a new client.
    call_as(
        &s,
        Method::GET,
        "/v1/ping/",
        Some(KEY_A),
        None,
        "client-two/1",
    )
    .await;
    call_as(
        &s,
        Method::GET,
        "/v1/ping/",
        Some(KEY_B),
        None,
        "client-one/1",
    )
    .await;
    call_as(
        &s,
        Method::GET,
        "/v1/ping/",
        Some(KEY_B),
        None,
        "client-one/1",
    )
    .await;
    assert_eq!(metric(&s, warnings).await, 3.0);
    // Unauthenticated calls count but are not remembered as clients.
    call_as(&s, Method::GET, "/v1/ping/", None, None, "anonymous/1").await;
    assert_eq!(metric(&s, warnings).await, 3.0);
    // Unsupported routes count under one label.
    call_as(
        &s,
        Method::GET,
        "/v2/anything",
        Some(KEY_B),
        None,
        "client-one/1",
    )
    .await;
    call_as(
        &s,
        Method::GET,
        "/v9/other",
        Some(KEY_B),
        None,
        "client-one/1",
    )
    .await;
    let unsupported = "memlane_compat_requests_total{api=\"mem0\",route=\"unsupported\"}";
    assert_eq!(metric(&s, unsupported).await, 2.0);
    // /v1 is not counted as compat.
    s.get("/v1/capabilities", KEY_A).await;
    assert_eq!(metric(&s, pings).await, 7.0);
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn the_compat_routes_can_be_switched_off() {
    let mut config: ServerConfig = keyed_config();
    config.compat.enabled = false;
    let s = TestServer::start(config).await;
    let a = call(&s, Method::GET, "/v1/ping/", Some(KEY_A), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    assert!(!a.headers.contains_key("deprecation"));
    assert_eq!(a.code(), "not_found");
    s.stop().await.expect("stop");
}

/// Checks `a` against the schema `/openapi.json` documents for `method path` and its status.
fn matches_schema(doc: &Value, path: &str, method: &str, a: &Answer) {
    let op = &doc["paths"][path][method];
    assert_eq!(
        op["deprecated"], true,
        "{method} {path} is not marked deprecated"
    );
    assert_eq!(op["tags"], json!(["compat-mem0"]), "{method} {path}");
    let schema = &op["responses"][a.status.as_str()]["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no {} answer",
        a.status
    );
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    let v = jsonschema::draft202012::new(&root).expect("a valid schema");
    let errors: Vec<String> = v.iter_errors(&a.json).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {}: {errors:?}\n{}",
        a.status,
        a.json
    );
}

#[tokio::test]
async fn answers_match_the_documented_deprecated_operations() {
    let s = TestServer::start(keyed_config()).await;
    let doc: Value = s
        .client
        .get(s.url("/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let m = |p: &str| format!("{P}{p}");
    let msgs = json!([{"role": "user", "content": "Carol plays the cello", "name": "carol"}]);
    let a = call(
        &s,
        Method::POST,
        "/memories",
        Some(KEY_A),
        Some(json!({"messages": msgs, "user_id": "carol"})),
    )
    .await;
    matches_schema(&doc, &m("/memories"), "post", &a);
    let id = a.json["results"][0]["id"].as_str().expect("id").to_owned();
    // Every documented operation, each answer checked against its schema (in an order that leaves something to
    // answer for the later calls; the last one is an error answer).
    let g = Method::GET;
    let calls: Vec<(Method, String, Option<Value>, &str)> = vec![
        (
            Method::POST,
            "/v3/memories/add/".into(),
            Some(json!({"messages": msgs, "user_id": "carol", "expiration_date": "2099-01-01"})),
            "/v3/memories/add/",
        ),
        (
            g.clone(),
            "/memories?user_id=carol".into(),
            None,
            "/memories",
        ),
        (
            g.clone(),
            format!("/memories/{id}"),
            None,
            "/memories/{memory_id}",
        ),
        (
            Method::POST,
            "/search".into(),
            Some(json!({"query": "cello", "user_id": "carol"})),
            "/search",
        ),
        (
            Method::POST,
            "/v3/memories/".into(),
            Some(json!({"filters": {"user_id": "carol"}})),
            "/v3/memories/",
        ),
        (
            Method::POST,
            "/v3/memories/search/".into(),
            Some(json!({"query": "cello", "filters": {"user_id": "carol"}})),
            "/v3/memories/search/",
        ),
        (
            Method::PUT,
            format!("/v1/memories/{id}/"),
            Some(json!({"text": "Carol plays the viola"})),
            "/v1/memories/{memory_id}/",
        ),
        (
            Method::PUT,
            format!("/memories/{id}"),
            Some(json!({"metadata": {"k": 1}})),
            "/memories/{memory_id}",
        ),
        (
            g.clone(),
            format!("/v1/memories/{id}/history/"),
            None,
            "/v1/memories/{memory_id}/history/",
        ),
        (
            g.clone(),
            format!("/memories/{id}/history"),
            None,
            "/memories/{memory_id}/history",
        ),
        (g.clone(), "/v1/ping/".into(), None, "/v1/ping/"),
        (
            Method::POST,
            "/configure".into(),
            Some(json!({})),
            "/configure",
        ),
        (Method::POST, "/reset".into(), None, "/reset"),
        (
            Method::DELETE,
            format!("/v1/memories/{id}/"),
            None,
            "/v1/memories/{memory_id}/",
        ),
        (
            g.clone(),
            format!("/v1/memories/{id}/"),
            None,
            "/v1/memories/{memory_id}/",
        ),
        (
            Method::DELETE,
            format!("/memories/{id}"),
            None,
            "/memories/{memory_id}",
        ),
        (
            Method::DELETE,
            "/v1/memories/?user_id=carol".into(),
            None,
            "/v1/memories/",
        ),
        (
            Method::DELETE,
            "/memories?user_id=carol".into(),
            None,
            "/memories",
        ),
        (
            Method::POST,
            "/search".into(),
            Some(json!({"query": "x", "filters": {"a": {"icontains": "b"}}})),
            "/search",
        ),
    ];
    for (method, path, body, documented) in calls {
        let verb = method.as_str().to_ascii_lowercase();
        let a = call(&s, method, &path, Some(KEY_A), body).await;
        matches_schema(&doc, &m(documented), &verb, &a);
    }
    s.stop().await.expect("stop");
}

/// With the default `[compat] search_mode` (auto) and a store that embeds (the MiniLM model, which CI fetches;
/// `embedder=minilm` fails with the fetch command when it is missing), mem0's search finds by meaning, as mem0's
/// does. (The other tests' stores do not embed, and their searches rank by words.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_is_semantic_by_default_when_the_store_embeds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = keyed_config().with_store(format!("{}?embedder=minilm", dir.path().display()));
    assert_eq!(config.compat.search_mode, None);
    let store = memlane::open(&config.store)
        .await
        .expect("open an embedding store (is the model fetched?)");
    let manager = memlane_server::MemoryManager::start(store, &config).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(memlane_server::run_with_manager(
        listener,
        config,
        manager,
        async move {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{P}{path}"))
            .header("authorization", format!("Token {KEY_A}"))
            .json(&body)
            .send()
    };
    let msgs = json!([
        {"role": "user", "content": "I am allergic to peanuts"},
        {"role": "user", "content": "The weather in Lisbon is sunny today"}
    ]);
    let a = answer(
        post("/memories", json!({"messages": msgs, "user_id": "dana"}))
            .await
            .expect("add"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    // No word in common with the first memory: only its meaning matches.
    let a = answer(
        post(
            "/search",
            json!({"query": "food intolerance", "user_id": "dana"}),
        )
        .await
        .expect("search"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let hits = a.json["results"].as_array().expect("results");
    assert_eq!(hits[0]["memory"], "I am allergic to peanuts", "{}", a.text);
    assert!(
        hits[0]["score"].as_f64() > hits.get(1).and_then(|h| h["score"].as_f64()),
        "{}",
        a.text
    );
    let _ = stop.send(());
    server.await.expect("server task").expect("server stopped");
}

/// The Python to run mem0's client with, or `None` (after saying why) when the test should be skipped.
fn python() -> Option<String> {
    match std::env::var("MEMLANE_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") => panic!(
            "MEMLANE_TEST_PYTHON is not set and MEMLANE_REQUIRE_SERVICES=1: run scripts/setup/python.sh"
        ),
        _ => {
            eprintln!(
                "skipped: MEMLANE_TEST_PYTHON is not set (run scripts/setup/python.sh, then export \
                 MEMLANE_TEST_PYTHON=~/.cache/memlane/test-venv/bin/python)"
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mem0_memory_client_works_unchanged() {
    let Some(python) = python() else { return };
    let s = TestServer::start(keyed_config()).await;
    let home = tempfile::tempdir().expect("tempdir");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat/mem0_client.py");
    let run = tokio::process::Command::new(&python)
        .arg(script)
        .args([&s.url(P), KEY_A, KEY_B])
        .env("MEM0_TELEMETRY", "False")
        .env("MEM0_DIR", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the mem0 client finished within 120 s")
        .expect("run the Python mem0 client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "mem0's client failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for part in [
        "ping",
        "add",
        "get",
        "get_all",
        "search",
        "update",
        "history",
        "isolation",
        "delete",
        "delete_all",
        "wrong key",
    ] {
        assert!(stdout.contains(&format!("{part} ok")), "{part}: {stdout}");
    }
    // Every call of the client went through the compat routes, and the client was warned about once.
    let served = metric(
        &s,
        "memlane_compat_requests_total{api=\"mem0\",route=\"/v3/memories/add/\"}",
    )
    .await;
    assert_eq!(served, 1.0);
    s.stop().await.expect("stop");
}
