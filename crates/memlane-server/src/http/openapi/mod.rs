//! The OpenAPI 3.1 document of the API, served at `GET /openapi.json`.
//!
//! Written by hand (the core's types are not annotated for a generator), next to the routes it describes; the
//! tests check that every route of the router is in it and that every request example decodes into the server's
//! request types.

mod schemas;

use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use schemas::r;

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": r(schema)}}})
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": r(schema)}}})
}

/// The error answers every `/v1` operation may give, plus `extra` (`"404"`, `"409"`, ...).
fn responses(success: (&str, Value), extra: &[&str]) -> Value {
    let mut m = Map::new();
    m.insert(success.0.to_owned(), success.1);
    let err = |d: &str| ok(d, "Error");
    m.insert("400".into(), err("invalid input; `field` names it"));
    m.insert("401".into(), err("missing or wrong API key"));
    for code in extra {
        let d = match *code {
            "404" => "no such memory in the tenant",
            "409" => "version mismatch or id reused",
            "413" => "body or value too large",
            "415" => "wrong Content-Type",
            "501" => "the store lacks the capability",
            _ => "error",
        };
        m.insert((*code).to_owned(), err(d));
    }
    m.insert(
        "503".into(),
        err("store unavailable, overloaded or timed out; see Retry-After"),
    );
    Value::Object(m)
}

fn id_param() -> Value {
    json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}])
}

fn scope_query() -> Value {
    json!(["user", "agent", "session"]
        .iter()
        .map(|n| json!({"name": n, "in": "query", "required": false, "schema": {"type": "string"}}))
        .collect::<Vec<_>>())
}

/// The whole document.
pub(crate) fn document() -> Value {
    let write = ["413", "415"];
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "memlane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Memory for AI agents. Every /v1 request is authenticated with an API key, which decides the tenant; bodies never name a tenant. See docs/server.md."
        },
        "security": [{"bearer": []}, {"apiKey": []}],
        "paths": {
            "/v1/memories": {"post": {
                "operationId": "addMemories", "summary": "Add a batch of memories (all or nothing)",
                "requestBody": body("AddRequest"),
                "responses": responses(("200", ok("each memory, created or already there", "AddResponse")), &["409", "413", "415"])
            }},
            "/v1/memories/get": {"post": {
                "operationId": "getMemories", "summary": "Memories by id, in order; missing ones left out",
                "requestBody": body("GetManyRequest"),
                "responses": responses(("200", ok("the memories", "Memories")), &write)
            }},
            "/v1/memories/list": {"post": {
                "operationId": "listMemories", "summary": "A page of memories in a scope, newest first",
                "requestBody": body("ListRequest"),
                "responses": responses(("200", ok("a page", "Page")), &write)
            }},
            "/v1/memories/{id}": {
                "parameters": id_param(),
                "get": {
                    "operationId": "getMemory", "summary": "One memory",
                    "responses": responses(("200", ok("the memory", "Memory")), &["404"])
                },
                "patch": {
                    "operationId": "updateMemory", "summary": "Change a memory (optimistic concurrency with expected_version)",
                    "requestBody": body("Update"),
                    "responses": responses(("200", ok("the new state", "Memory")), &["404", "409", "413", "415"])
                },
                "delete": {
                    "operationId": "deleteMemory", "summary": "Delete a memory",
                    "responses": responses(("204", json!({"description": "deleted"})), &["404"])
                }
            },
            "/v1/search": {"post": {
                "operationId": "search", "summary": "The best matches, best first",
                "requestBody": body("SearchRequest"),
                "responses": responses(("200", ok("the matches", "SearchResponse")), &["413", "415", "501"])
            }},
            "/v1/count": {"post": {
                "operationId": "count", "summary": "How many memories in a scope pass a filter",
                "requestBody": body("CountRequest"),
                "responses": responses(("200", ok("the count", "CountResponse")), &write)
            }},
            "/v1/forget": {"post": {
                "operationId": "forget", "summary": "Delete every memory of a scope",
                "requestBody": body("ForgetRequest"),
                "responses": responses(("200", ok("how many were deleted", "ForgetResponse")), &write)
            }},
            "/v1/export": {"get": {
                "operationId": "export", "summary": "Every memory of a scope, as a streamed JSONL export",
                "parameters": scope_query(),
                "responses": responses(("200", json!({"description": "a header line, then one memory per line",
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}}})), &[])
            }},
            "/v1/import": {"post": {
                "operationId": "import", "summary": "Read an export into the caller's tenant",
                "parameters": [{"name": "skip_invalid", "in": "query", "required": false, "schema": {"type": "boolean"}}],
                "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                "responses": responses(("200", ok("what was imported", "ImportReport")), &["409", "413", "415"])
            }},
            "/v1/capabilities": {"get": {
                "operationId": "capabilities", "summary": "What the store offers, and its limits",
                "responses": responses(("200", ok("the capabilities", "Capabilities")), &[])
            }},
            "/health/live": {"get": {
                "operationId": "live", "summary": "200 while the process serves", "security": [],
                "responses": {"200": {"description": "alive"}}
            }},
            "/health/ready": {"get": {
                "operationId": "ready", "summary": "Whether the store is up and the server not draining", "security": [],
                "responses": {"200": ok("ready", "Health"), "503": ok("not ready", "Health")}
            }},
            "/metrics": {"get": {
                "operationId": "metrics", "summary": "Prometheus metrics (OpenMetrics text)", "security": [],
                "responses": {"200": {"description": "the metrics", "content": {"application/openmetrics-text": {"schema": {"type": "string"}}}}}
            }},
            "/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "the OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }}
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}
            },
            "schemas": schemas::all()
        }
    })
}

/// `GET /openapi.json`.
pub(crate) async fn serve() -> Response {
    static TEXT: OnceLock<String> = OnceLock::new();
    let text = TEXT.get_or_init(|| document().to_string()).clone();
    let mut res = text.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::dto;
    use crate::http::extract::decode;

    #[test]
    fn every_route_is_documented() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths");
        for (path, method) in crate::http::routes::ROUTES {
            let item = &paths[*path];
            assert!(item.is_object(), "{path} is not documented");
            assert!(
                item[method.to_ascii_lowercase()].is_object(),
                "{method} {path} is not documented"
            );
        }
        assert_eq!(
            paths
                .values()
                .map(|p| p
                    .as_object()
                    .map_or(0, |o| o.keys().filter(|k| *k != "parameters").count()))
                .sum::<usize>(),
            crate::http::routes::ROUTES.len(),
            "the document has routes the router lacks"
        );
    }

    #[test]
    fn every_ref_resolves() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap_or("");
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
    }

    #[test]
    fn request_examples_decode() {
        let s = schemas::all();
        let ex = |name: &str| serde_json::to_vec(&s[name]["example"]).expect("example");
        decode::<dto::AddRequest>(&ex("AddRequest")).expect("AddRequest");
        decode::<memlane::Update>(&ex("Update")).expect("Update");
        decode::<dto::GetManyRequest>(&ex("GetManyRequest")).expect("GetManyRequest");
        decode::<dto::ListRequest>(&ex("ListRequest")).expect("ListRequest");
        decode::<dto::SearchRequest>(&ex("SearchRequest")).expect("SearchRequest");
        decode::<dto::CountRequest>(&ex("CountRequest")).expect("CountRequest");
        decode::<dto::ForgetRequest>(&ex("ForgetRequest")).expect("ForgetRequest");
        // And every documented property of each request is one the server knows: the examples use them all.
        for name in [
            "AddRequest",
            "ListRequest",
            "SearchRequest",
            "CountRequest",
            "ForgetRequest",
            "GetManyRequest",
        ] {
            let props: Vec<&String> = s[name]["properties"]
                .as_object()
                .expect("props")
                .keys()
                .collect();
            let example = s[name]["example"].as_object().expect("example");
            for p in props {
                assert!(example.contains_key(p), "{name}.{p} has no example");
            }
        }
    }
}
