//! The OpenAPI document and the `/docs` page, against a real server on 127.0.0.1:0 over a temp-dir embedded store.
//!
//! Every request example of the document is sent to the server and must be accepted; every answer is validated
//! against the schema the document gives for its status (JSON Schema 2020-12, which OpenAPI 3.1 uses), so the
//! document cannot drift from what the server really takes and gives.

#[allow(dead_code)]
#[path = "http/support.rs"]
mod support;

use jsonschema::Validator;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::{keyed_config, Answer, TestServer, KEY_A};

/// The routes the server serves, as (path, method).
const ROUTES: &[(&str, &str)] = &[
    ("/v1/memories", "post"),
    ("/v1/memories/get", "post"),
    ("/v1/memories/list", "post"),
    ("/v1/memories/{id}", "get"),
    ("/v1/memories/{id}", "patch"),
    ("/v1/memories/{id}", "delete"),
    ("/v1/search", "post"),
    ("/v1/count", "post"),
    ("/v1/forget", "post"),
    ("/v1/export", "get"),
    ("/v1/import", "post"),
    ("/v1/capabilities", "get"),
    ("/health/live", "get"),
    ("/health/ready", "get"),
    ("/metrics", "get"),
    ("/openapi.json", "get"),
    ("/docs", "get"),
    ("/docs/redoc.standalone.js", "get"),
    // mem0's REST API, deprecated (tests/compat_mem0.rs checks these answers against their schemas).
    ("/compat/mem0/memories", "post"),
    ("/compat/mem0/memories", "get"),
    ("/compat/mem0/memories", "delete"),
    ("/compat/mem0/memories/{memory_id}", "get"),
    ("/compat/mem0/memories/{memory_id}", "put"),
    ("/compat/mem0/memories/{memory_id}", "delete"),
    ("/compat/mem0/memories/{memory_id}/history", "get"),
    ("/compat/mem0/search", "post"),
    ("/compat/mem0/reset", "post"),
    ("/compat/mem0/configure", "post"),
    ("/compat/mem0/v1/ping/", "get"),
    ("/compat/mem0/v3/memories/add/", "post"),
    ("/compat/mem0/v3/memories/", "post"),
    ("/compat/mem0/v3/memories/search/", "post"),
    ("/compat/mem0/v1/memories/{memory_id}/", "get"),
    ("/compat/mem0/v1/memories/{memory_id}/", "put"),
    ("/compat/mem0/v1/memories/{memory_id}/", "delete"),
    ("/compat/mem0/v1/memories/", "delete"),
    ("/compat/mem0/v1/memories/{memory_id}/history/", "get"),
];

/// The document, as the server serves it.
async fn document(s: &TestServer) -> Value {
    let res = s
        .client
        .get(s.url("/openapi.json"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    res.json().await.expect("json")
}

/// The first example of component schema `name`.
fn example(doc: &Value, name: &str) -> Value {
    let e = doc["components"]["schemas"][name]["examples"][0].clone();
    assert!(e.is_object(), "{name} has no example");
    e
}

/// A validator of the JSON answer `status` of `method path`, as the document describes it.
fn validator(doc: &Value, path: &str, method: &str, status: u16) -> Validator {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no JSON answer for {status}"
    );
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    jsonschema::draft202012::new(&root).expect("a valid schema")
}

/// Checks that `a` is the documented answer of `method path` (its status and body).
fn check(doc: &Value, path: &str, method: &str, a: &Answer, want: StatusCode) {
    assert_eq!(a.status, want, "{method} {path}: {}", a.text);
    let errors: Vec<String> = validator(doc, path, method, want.as_u16())
        .iter_errors(&a.json)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} answered {want} with a body its schema refuses: {errors:?}\n{}",
        a.json
    );
}

#[tokio::test]
async fn the_document_lists_every_route_and_the_router_serves_every_documented_one() {
    let s = TestServer::start(keyed_config()).await;
    let doc = document(&s).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in ROUTES {
        assert!(
            paths[*path][*method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                documented.push((path.clone(), method));
            }
        }
    }
    assert_eq!(documented.len(), ROUTES.len(), "documented: {documented:?}");
    // The router answers every documented operation (without a key: 401 on /v1, never 404 or 405).
    for (path, method) in documented {
        let uri = path
            .replace("{id}", "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b")
            .replace("{memory_id}", "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b");
        let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
        let a = s.call(m, &uri, None, None).await;
        assert!(
            a.status != StatusCode::NOT_FOUND && a.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            a.status
        );
        if path.starts_with("/v1/") || path.starts_with("/compat/") {
            check(&doc, &path, method, &a, StatusCode::UNAUTHORIZED);
        }
    }
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn every_example_is_accepted_and_every_answer_matches_its_schema() {
    let s = TestServer::start(keyed_config()).await;
    let doc = document(&s).await;

    let add = example(&doc, "AddRequest");
    let id = add["memories"][0]["id"].as_str().expect("id").to_owned();
    let a = s.post("/v1/memories", KEY_A, add.clone()).await;
    check(&doc, "/v1/memories", "post", &a, StatusCode::OK);
    assert_eq!(a.json["results"][0]["created"], true);
    // The same again: already there.
    let a = s.post("/v1/memories", KEY_A, add).await;
    check(&doc, "/v1/memories", "post", &a, StatusCode::OK);
    assert_eq!(a.json["results"][0]["created"], false);

    let a = s
        .post("/v1/memories/get", KEY_A, example(&doc, "GetManyRequest"))
        .await;
    check(&doc, "/v1/memories/get", "post", &a, StatusCode::OK);
    assert_eq!(a.json["memories"].as_array().map(Vec::len), Some(1));

    let one = format!("/v1/memories/{id}");
    let a = s.get(&one, KEY_A).await;
    check(&doc, "/v1/memories/{id}", "get", &a, StatusCode::OK);

    let a = s
        .post("/v1/memories/list", KEY_A, example(&doc, "ListRequest"))
        .await;
    check(&doc, "/v1/memories/list", "post", &a, StatusCode::OK);
    let a = s
        .post(
            "/v1/memories/list",
            KEY_A,
            json!({"user": "alice", "agent": "a", "session": "s1"}),
        )
        .await;
    check(&doc, "/v1/memories/list", "post", &a, StatusCode::OK);
    assert_eq!(a.json["memories"].as_array().map(Vec::len), Some(1));

    let a = s
        .post("/v1/search", KEY_A, example(&doc, "SearchRequest"))
        .await;
    check(&doc, "/v1/search", "post", &a, StatusCode::OK);
    assert_eq!(a.json["results"].as_array().map(Vec::len), Some(1));

    let a = s
        .post("/v1/count", KEY_A, example(&doc, "CountRequest"))
        .await;
    check(&doc, "/v1/count", "post", &a, StatusCode::OK);

    let update = example(&doc, "Update");
    let a = s
        .call(Method::PATCH, &one, Some(KEY_A), Some(update.clone()))
        .await;
    check(&doc, "/v1/memories/{id}", "patch", &a, StatusCode::OK);
    assert_eq!(a.json["version"], 2);
    // Again with the same expected version: a conflict, as documented.
    let a = s.call(Method::PATCH, &one, Some(KEY_A), Some(update)).await;
    check(&doc, "/v1/memories/{id}", "patch", &a, StatusCode::CONFLICT);

    let a = s.get("/v1/capabilities", KEY_A).await;
    check(&doc, "/v1/capabilities", "get", &a, StatusCode::OK);

    let a = s.get("/health/ready", KEY_A).await;
    check(&doc, "/health/ready", "get", &a, StatusCode::OK);

    // Export, then import the export into the same tenant: everything already there.
    let res = s
        .client
        .get(s.url("/v1/export"))
        .bearer_auth(KEY_A)
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), StatusCode::OK);
    let export = res.text().await.expect("body");
    assert_eq!(export.lines().count(), 2, "{export}");
    let res = s
        .client
        .post(s.url("/v1/import"))
        .bearer_auth(KEY_A)
        .header("content-type", "application/x-ndjson")
        .body(export)
        .send()
        .await
        .expect("import");
    let a = support::answer(res).await;
    check(&doc, "/v1/import", "post", &a, StatusCode::OK);
    assert_eq!(a.json["existing"], 1);

    let a = s
        .post("/v1/forget", KEY_A, example(&doc, "ForgetRequest"))
        .await;
    check(&doc, "/v1/forget", "post", &a, StatusCode::OK);
    assert_eq!(a.json["deleted"], 1);

    // The documented errors.
    let a = s.get(&one, KEY_A).await;
    check(&doc, "/v1/memories/{id}", "get", &a, StatusCode::NOT_FOUND);
    let a = s
        .post("/v1/count", KEY_A, json!({"tenant": "someone-else"}))
        .await;
    check(&doc, "/v1/count", "post", &a, StatusCode::BAD_REQUEST);
    let a = s.call(Method::DELETE, &one, Some(KEY_A), None).await;
    check(
        &doc,
        "/v1/memories/{id}",
        "delete",
        &a,
        StatusCode::NOT_FOUND,
    );
    s.stop().await.expect("stop");
}

#[tokio::test]
async fn docs_page_and_its_vendored_script_are_served() {
    let s = TestServer::start(keyed_config()).await;
    let res = s.client.get(s.url("/docs")).send().await.expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    let page = res.text().await.expect("page");
    assert!(page.contains(r#"spec-url="/openapi.json""#), "{page}");
    assert!(
        page.contains(r#"<script src="/docs/redoc.standalone.js">"#),
        "{page}"
    );
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page loads nothing from elsewhere: {page}"
    );

    let res = s
        .client
        .get(s.url("/docs/redoc.standalone.js"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/javascript"));
    let script = res.bytes().await.expect("script");
    let sum: String = Sha256::digest(&script)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let readme = include_str!("../assets/README.md");
    assert!(
        readme.contains("| `redoc.standalone.js` |") && readme.contains(&sum),
        "the served script (sha256 {sum}) is not the one recorded in assets/README.md"
    );
    s.stop().await.expect("stop");
}
