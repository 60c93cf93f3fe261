//! Error answers: status, stable code, the field, the request id, and the JSON shape everywhere.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{answer, keyed_config, TestServer, KEY_A};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_name_the_field() {
    let s = TestServer::start(keyed_config()).await;

    let cases = [
        (
            "/v1/memories",
            json!({"memories": [{"content": "x", "scope": {"tenant": "b"}}]}),
            "memories[0].scope.tenant",
        ),
        (
            "/v1/memories",
            json!({"memories": [{"content": "x", "colour": "red"}]}),
            "memories[0].colour",
        ),
        (
            "/v1/memories",
            json!({"memories": [{"content": 5}]}),
            "memories[0].content",
        ),
        (
            "/v1/memories",
            json!({"memories": [{"scope": {}}]}),
            "memories[0].content",
        ),
        (
            "/v1/memories",
            json!({"memories": [{"content": "x", "ttl": "soon"}]}),
            "memories[0].ttl",
        ),
        ("/v1/memories", json!({"memories": []}), "memories"),
        ("/v1/memories/list", json!({"limit": "ten"}), "limit"),
        ("/v1/memories/list", json!({"limit": 0}), "limit"),
        ("/v1/memories/list", json!({"tenant": "b"}), "tenant"),
        ("/v1/memories/list", json!({"cursor": "garbage"}), "cursor"),
        (
            "/v1/memories/list",
            json!({"filter": {"field": "kind", "like": "x"}}),
            "filter",
        ),
        ("/v1/memories/get", json!({"ids": ["not-a-uuid"]}), "ids[0]"),
        (
            "/v1/search",
            json!({"text": "x", "mode": "psychic"}),
            "mode",
        ),
        (
            "/v1/search",
            json!({"text": "x", "min_score": 2}),
            "min_score",
        ),
        ("/v1/count", json!({"user": 7}), "user"),
    ];
    for (path, body, field) in cases {
        let a = s.post(path, KEY_A, body.clone()).await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            a.text
        );
        assert_eq!(a.code(), "invalid_input", "{path} {body}: {}", a.text);
        assert!(
            a.field().starts_with(field),
            "{path} {body}: field {:?}, want {field}: {}",
            a.field(),
            a.text
        );
        let request_id = a.headers["x-request-id"].to_str().expect("id");
        assert_eq!(a.json["error"]["request_id"], request_id);
        assert!(!a.json["error"]["message"].as_str().unwrap_or("").is_empty());
    }

    let malformed = s
        .client
        .post(s.url("/v1/count"))
        .bearer_auth(KEY_A)
        .header("content-type", "application/json")
        .body("{\"user\": ")
        .send()
        .await
        .expect("send");
    let malformed = answer(malformed).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.field(), "body");

    let untyped = s
        .client
        .post(s.url("/v1/count"))
        .bearer_auth(KEY_A)
        .body("{}")
        .send()
        .await
        .expect("send");
    let untyped = answer(untyped).await;
    assert_eq!(untyped.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(untyped.code(), "unsupported_media_type");

    let bad_id = s.get("/v1/memories/not-a-uuid", KEY_A).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_id.field(), "id");
    let bad_query = s.get("/v1/export?tenant=b", KEY_A).await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_query.field(), "tenant");

    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_conflict_and_shapes() {
    let s = TestServer::start(keyed_config()).await;
    let missing = s
        .get("/v1/memories/019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b", KEY_A)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");

    let m = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [{"content": "v1"}]}),
        )
        .await;
    let id = m.json["results"][0]["memory"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let conflict = s
        .call(
            Method::PATCH,
            &format!("/v1/memories/{id}"),
            Some(KEY_A),
            Some(json!({"content": "v2", "expected_version": 7})),
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.code(), "conflict");
    let reused = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [{"id": id, "content": "other"}]}),
        )
        .await;
    assert_eq!(reused.status, StatusCode::CONFLICT);

    let no_route = s.get("/v2/nothing", KEY_A).await;
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);
    assert_eq!(no_route.code(), "not_found");
    assert!(no_route.json["error"]["request_id"].is_string());
    let wrong_method = s
        .call(Method::PUT, "/v1/count", Some(KEY_A), Some(json!({})))
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.code(), "method_not_allowed");

    // A request id is echoed when sane, replaced when not.
    let echoed = s
        .client
        .get(s.url("/health/live"))
        .header("x-request-id", "caller-id-42")
        .send()
        .await
        .expect("send");
    assert_eq!(echoed.headers()["x-request-id"], "caller-id-42");
    let replaced = s
        .client
        .get(s.url("/health/live"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .expect("send");
    assert_ne!(replaced.headers()["x-request-id"], "bad id with spaces");
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_large() {
    let mut config = keyed_config();
    config.max_body_bytes = 4096;
    let s = TestServer::start(config).await;
    let big = "x".repeat(8000);
    let a = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [{"content": big}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(a.code(), "too_large");
    assert!(a.json["error"]["request_id"].is_string());
    s.stop().await.expect("stop");

    // The store's own content limit (64 KiB) is 413 too, naming the field.
    let s = TestServer::start(keyed_config()).await;
    let big = "y".repeat(70 * 1024);
    let a = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [{"content": big}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(a.field(), "memories[0].content");
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized() {
    let s = TestServer::start(keyed_config()).await;
    for key in [None, Some("wrong-key-0123456789abcdef")] {
        let a = s
            .call(Method::POST, "/v1/count", key, Some(json!({})))
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(a.code(), "unauthorized");
        assert_eq!(a.headers["www-authenticate"], "Bearer");
        assert!(a.json["error"]["request_id"].is_string());
    }
    // Every /v1 route needs a key.
    for (method, path) in [
        (Method::GET, "/v1/export"),
        (Method::GET, "/v1/capabilities"),
        (
            Method::GET,
            "/v1/memories/019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b",
        ),
        (
            Method::DELETE,
            "/v1/memories/019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b",
        ),
        (Method::POST, "/v1/import"),
    ] {
        let a = s.call(method.clone(), path, None, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // x-api-key works as well as a bearer token.
    let ok = s
        .client
        .post(s.url("/v1/count"))
        .header("x-api-key", KEY_A)
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), StatusCode::OK);
    s.stop().await.expect("stop");
}

/// Writes one HTTP/1.1 request with `body` and `key` on `conn` and reads the whole answer (headers and a
/// Content-Length body): its status line and headers, lower-cased.
async fn exchange(
    conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    key: &str,
    body: &str,
) -> (String, String) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let req = format!(
        "POST /v1/count HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {key}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.get_mut()
        .write_all(req.as_bytes())
        .await
        .expect("write");
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = conn.read_line(&mut line).await.expect("read");
        assert!(n > 0, "the server closed the connection; so far: {head}");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length");
    let mut rest = vec![0; len];
    conn.read_exact(&mut rest).await.expect("body");
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, head)
}

/// A request refused for its key before its body is read leaves the connection usable: the next request on it
/// is answered (a small body is drained; a large one is answered with `Connection: close`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_keeps_the_connection_usable() {
    let s = TestServer::start(keyed_config()).await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let mut conn = tokio::io::BufReader::new(stream);
    let body = format!("{{\"filter\": null, \"pad\": \"{}\"}}", "x".repeat(4000));
    let (status, head) = exchange(&mut conn, "wrong-key-0123456789abcdef", &body).await;
    assert!(status.contains(" 401 "), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    let (status, head) = exchange(&mut conn, KEY_A, "{}").await;
    assert!(
        status.contains(" 200 "),
        "the same connection serves the next request: {head}"
    );

    // A body over the drain limit is not read: the answer says so and the connection ends.
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let mut conn = tokio::io::BufReader::new(stream);
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(100_000));
    let (status, head) = exchange(&mut conn, "wrong-key-0123456789abcdef", &big).await;
    assert!(status.contains(" 401 "), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    s.stop().await.expect("stop");
}
