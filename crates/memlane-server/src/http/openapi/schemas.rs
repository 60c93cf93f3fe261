//! The component schemas of the OpenAPI document: the JSON forms of the core types and of the API's bodies.
//!
//! Request schemas carry an `example` that the tests decode into the server's request types, so that a renamed
//! or added field cannot leave the document behind silently.

use serde_json::{json, Value};

/// A `$ref` to a component schema.
pub(super) fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn scope_fields() -> Value {
    json!({
        "user": {"type": "string", "maxLength": 256, "description": "the end user"},
        "agent": {"type": "string", "maxLength": 256, "description": "the agent"},
        "session": {"type": "string", "maxLength": 256, "description": "the conversation or run"}
    })
}

fn with_scope(mut props: Value) -> Value {
    if let (Some(p), Some(s)) = (props.as_object_mut(), scope_fields().as_object()) {
        for (k, v) in s {
            p.insert(k.clone(), v.clone());
        }
    }
    props
}

/// A cursor as `list` returns them.
fn cursor_example() -> String {
    memlane::Cursor {
        created_at: memlane::Timestamp::from_millis(1_795_613_745_123),
        id: uuid::Uuid::from_u128(0x019abf2c_7d1e_7c3a_9f00_5b1e2d3c4a5b),
    }
    .encode()
}

/// Every component schema.
pub(super) fn all() -> Value {
    json!({
        "Kind": {"type": "string", "enum": ["message", "fact", "episode", "procedure"]},
        "Scope": {
            "type": "object", "additionalProperties": false, "required": ["tenant"],
            "description": "Whose memory it is. In answers only: requests never name the tenant.",
            "properties": with_scope(json!({"tenant": {"type": "string"}}))
        },
        "ScopeIn": {
            "type": "object", "additionalProperties": false,
            "description": "The scope of a new memory; its tenant is the caller's.",
            "properties": scope_fields()
        },
        "Embedding": {
            "type": "object", "additionalProperties": false, "required": ["model", "vector"],
            "properties": {
                "model": {"type": "string"},
                "vector": {"type": "array", "items": {"type": "number"}}
            }
        },
        "Ttl": {
            "description": "A time to live: a duration such as \"10m\" (ms, s, m, h, d) or a number of seconds.",
            "oneOf": [{"type": "string", "example": "10m"}, {"type": "integer", "minimum": 1}]
        },
        "Filter": {
            "type": "object",
            "description": "A filter in memlane's JSON filter language (docs/filters.md), e.g. {\"field\": \"kind\", \"eq\": \"fact\"}."
        },
        "Memory": {
            "type": "object", "additionalProperties": false,
            "required": ["id", "scope", "kind", "content", "metadata", "created_at", "updated_at", "version", "content_hash"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "scope": r("Scope"),
                "kind": r("Kind"),
                "content": {"type": "string"},
                "metadata": {"type": "object"},
                "embedding": r("Embedding"),
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"},
                "version": {"type": "integer", "minimum": 1},
                "content_hash": {"type": "string", "description": "sha256 of content, hex"}
            }
        },
        "NewMemory": {
            "type": "object", "additionalProperties": false, "required": ["content"],
            "properties": {
                "id": {"type": "string", "format": "uuid", "description": "for idempotent retries"},
                "scope": r("ScopeIn"),
                "kind": r("Kind"),
                "content": {"type": "string", "minLength": 1},
                "metadata": {"type": "object"},
                "embedding": r("Embedding"),
                "ttl": r("Ttl"),
                "expires_at": {"type": "string", "format": "date-time"}
            }
        },
        "AddRequest": {
            "type": "object", "additionalProperties": false, "required": ["memories"],
            "properties": {
                "memories": {"type": "array", "items": r("NewMemory"), "minItems": 1},
                "dedup": {"type": "boolean", "description": "default: the store's setting"}
            },
            "example": {"memories": [{
                "id": "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b", "scope": {"user": "alice", "agent": "a", "session": "s1"},
                "kind": "fact", "content": "Alice prefers dark mode", "metadata": {"source": "chat"},
                "embedding": {"model": "all-MiniLM-L6-v2", "vector": [0.1, 0.2]}, "ttl": "7d"
            }], "dedup": true}
        },
        "AddResponse": {
            "type": "object", "required": ["results"],
            "properties": {"results": {"type": "array", "items": {
                "type": "object", "required": ["memory", "created"],
                "properties": {"memory": r("Memory"), "created": {"type": "boolean"}}
            }}}
        },
        "Update": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "content": {"type": "string"},
                "metadata": {"type": "object", "description": "replaces the whole object"},
                "kind": r("Kind"),
                "expires_at": {"type": ["string", "null"], "format": "date-time", "description": "null removes it"},
                "ttl": r("Ttl"),
                "embedding": r("Embedding"),
                "expected_version": {"type": "integer", "description": "409 unless this is the stored version"}
            },
            "example": {"content": "Alice prefers light mode", "metadata": {"source": "chat"}, "kind": "fact",
                        "expires_at": null, "embedding": {"model": "m", "vector": [1.0]}, "expected_version": 1}
        },
        "GetManyRequest": {
            "type": "object", "additionalProperties": false, "required": ["ids"],
            "properties": {"ids": {"type": "array", "items": {"type": "string", "format": "uuid"}}},
            "example": {"ids": ["019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b"]}
        },
        "Memories": {
            "type": "object", "required": ["memories"],
            "properties": {"memories": {"type": "array", "items": r("Memory")}}
        },
        "ListRequest": {
            "type": "object", "additionalProperties": false,
            "properties": with_scope(json!({
                "filter": r("Filter"),
                "limit": {"type": "integer", "minimum": 1, "default": memlane::DEFAULT_LIMIT},
                "cursor": {"type": "string", "description": "the previous page's next"}
            })),
            "example": {"user": "alice", "agent": "a", "session": "s1", "filter": {"field": "kind", "eq": "fact"}, "limit": 10,
                        "cursor": cursor_example()}
        },
        "Page": {
            "type": "object", "required": ["memories", "next"],
            "properties": {
                "memories": {"type": "array", "items": r("Memory")},
                "next": {"type": ["string", "null"], "description": "the cursor of the next page; null on the last"}
            }
        },
        "SearchRequest": {
            "type": "object", "additionalProperties": false, "required": ["text"],
            "properties": with_scope(json!({
                "text": {"type": "string"},
                "mode": {"type": "string", "enum": ["keyword", "semantic", "hybrid"], "default": "keyword"},
                "filter": r("Filter"),
                "limit": {"type": "integer", "minimum": 1, "default": memlane::DEFAULT_LIMIT},
                "min_score": {"type": "number", "minimum": 0, "maximum": 1},
                "embedding": r("Embedding")
            })),
            "example": {"text": "dark mode", "mode": "keyword", "filter": {"field": "kind", "eq": "fact"}, "limit": 5,
                        "min_score": 0.2, "embedding": {"model": "all-MiniLM-L6-v2", "vector": [0.1, 0.2]},
                        "user": "alice", "agent": "a", "session": "s1"}
        },
        "SearchResponse": {
            "type": "object", "required": ["results"],
            "properties": {"results": {"type": "array", "items": {
                "type": "object", "required": ["memory", "score"],
                "properties": {"memory": r("Memory"), "score": {"type": "number", "minimum": 0, "maximum": 1}}
            }}}
        },
        "CountRequest": {
            "type": "object", "additionalProperties": false,
            "properties": with_scope(json!({"filter": r("Filter")})),
            "example": {"user": "alice", "agent": "a", "session": "s1", "filter": {"field": "kind", "eq": "message"}}
        },
        "CountResponse": {"type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}},
        "ForgetRequest": {
            "type": "object", "additionalProperties": false,
            "description": "A scope to delete; the whole tenant only with \"all\": true and no scope field.",
            "properties": with_scope(json!({"all": {"type": "boolean", "default": false}})),
            "example": {"user": "alice", "agent": "a", "session": "s1", "all": false}
        },
        "ForgetResponse": {"type": "object", "required": ["deleted"], "properties": {"deleted": {"type": "integer"}}},
        "ImportReport": {
            "type": "object", "required": ["created", "existing", "skipped"],
            "properties": {
                "created": {"type": "integer"},
                "existing": {"type": "integer"},
                "skipped": {"type": "array", "description": "[line number, why] of skipped lines",
                            "items": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}}
            }
        },
        "Capabilities": {
            "type": "object", "required": ["backend", "limits"],
            "properties": {
                "backend": {"type": "string"},
                "keyword_search": {"type": "boolean"},
                "semantic_search": {"type": "boolean"},
                "hybrid_search": {"type": "boolean"},
                "ttl": {"type": "boolean"},
                "transactions": {"type": "boolean"},
                "durable": {"type": "boolean"},
                "limits": {"type": "object", "properties": {
                    "max_content_bytes": {"type": "integer"}, "max_metadata_bytes": {"type": "integer"},
                    "max_batch": {"type": "integer"}, "max_limit": {"type": "integer"}, "max_dimension": {"type": "integer"}
                }}
            }
        },
        "Health": {
            "type": "object", "required": ["status", "backends"],
            "properties": {
                "status": {"type": "string", "enum": ["ok", "unavailable", "draining"]},
                "backends": {"type": "array", "items": {
                    "type": "object", "required": ["backend", "status", "latency_ms", "checked_at"],
                    "properties": {
                        "backend": {"type": "string"},
                        "status": {"type": "string", "enum": ["ok", "unavailable"]},
                        "latency_ms": {"type": "number"},
                        "checked_at": {"type": "string", "format": "date-time"},
                        "error": {"type": "string"}
                    }
                }}
            }
        },
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message", "request_id"],
                "properties": {
                    "code": {"type": "string", "enum": [
                        "invalid_input", "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict",
                        "too_large", "unsupported_media_type", "internal", "unsupported", "unavailable"
                    ]},
                    "message": {"type": "string"},
                    "field": {"type": "string", "description": "the offending field, when known"},
                    "current_version": {"type": "integer", "description": "on a version conflict"},
                    "request_id": {"type": "string"}
                }
            }}
        }
    })
}
