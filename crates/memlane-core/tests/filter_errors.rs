//! Filter errors point at the offending part with a JSON pointer (`filter/and/1/like`), and the parser's limits
//! hold.

use memlane_core::filter::{MAX_DEPTH, MAX_LIST, MAX_NODES};
use memlane_core::{Error, Filter};
use serde_json::{json, Value};

/// The field of the error parsing `v`.
fn pointer(v: Value) -> String {
    match Filter::parse(&v) {
        Err(Error::InvalidInput { field, .. }) => field,
        other => panic!("{v} should be invalid input, got {other:?}"),
    }
}

#[test]
fn errors_point_at_the_offending_part() {
    let cases = [
        (
            json!({"and": [{"field": "kind", "eq": "fact"}, {"field": "metadata.x", "like": 1}]}),
            "filter/and/1/like",
        ),
        (
            json!({"and": [{"field": "kind", "eq": "fact"}, {"field": "x", "eq": 1}]}),
            "filter/and/1/field",
        ),
        (
            json!({"not": {"field": "kind", "eq": "bogus"}}),
            "filter/not/eq",
        ),
        (
            json!({"or": [{"field": "created_at", "gt": "yesterday"}]}),
            "filter/or/0/gt",
        ),
        (
            json!({"field": "metadata.a", "in": [1, null]}),
            "filter/in/1",
        ),
        (json!({"field": "metadata.a", "in": "a"}), "filter/in"),
        (json!({"field": "tenant", "eq": "acme"}), "filter/field"),
        (json!({"field": "metadata", "eq": 1}), "filter/field"),
        (json!({"field": "metadata.a\"b", "eq": 1}), "filter/field"),
        (json!({"field": "metadata.a..b", "eq": 1}), "filter/field"),
        (json!({"field": 3, "eq": 1}), "filter/field"),
        (json!({"field": "version", "gt": true}), "filter/gt"),
        (json!({"field": "version", "eq": "1"}), "filter/eq"),
        (
            json!({"field": "version", "contains": 1}),
            "filter/contains",
        ),
        (
            json!({"field": "created_at", "contains": "2026"}),
            "filter/contains",
        ),
        (
            json!({"field": "content", "contains": true}),
            "filter/contains",
        ),
        (json!({"field": "id", "eq": "not-a-uuid"}), "filter/eq"),
        (json!({"field": "metadata.a", "exists": 1}), "filter/exists"),
        (json!({"field": "metadata.a", "eq": {"b": 1}}), "filter/eq"),
        (json!({"field": "metadata.a", "eq": null}), "filter/eq"),
        (json!({"field": "kind"}), "filter"),
        (
            json!({"field": "kind", "eq": "fact", "ne": "fact"}),
            "filter/ne",
        ),
        (json!({"and": {}}), "filter/and"),
        (json!({"or": [1]}), "filter/or/0"),
        (json!({"foo": 1}), "filter/foo"),
        (json!({"eq": 1}), "filter"),
        (json!({"and": [], "or": []}), "filter"),
        (json!({}), "filter"),
        (json!([1]), "filter"),
        (
            json!({"not": {"and": [{"or": [{"not": {"field": "user", "gt": 5}}]}]}}),
            "filter/not/and/0/or/0/not/gt",
        ),
    ];
    for (v, want) in cases {
        assert_eq!(pointer(v.clone()), want, "error pointer for {v}");
    }
}

#[test]
fn messages_name_the_problem() {
    let e = Filter::parse(&json!({"field": "tenant", "eq": "acme"})).expect_err("tenant");
    assert!(e.to_string().contains("authentication"), "{e}");
    let e = Filter::parse(&json!({"field": "nope", "eq": 1})).expect_err("unknown field");
    assert!(e.to_string().contains("metadata.KEY"), "{e}");
    let e =
        Filter::parse(&json!({"field": "metadata.a", "like": 1})).expect_err("unknown operator");
    assert!(
        e.to_string().contains("contains"),
        "the message lists the operators: {e}"
    );
    let e = Filter::parse_str("{not json").expect_err("malformed");
    assert!(
        e.to_string()
            .starts_with("invalid input: filter: malformed JSON"),
        "{e}"
    );
}

fn nested_not(depth: usize) -> Value {
    let mut v = json!({"field": "kind", "eq": "fact"});
    for _ in 0..depth {
        v = json!({"not": v});
    }
    v
}

#[test]
fn depth_limit() {
    assert!(
        Filter::parse(&nested_not(MAX_DEPTH)).is_ok(),
        "{MAX_DEPTH} levels are allowed"
    );
    let e = Filter::parse(&nested_not(MAX_DEPTH + 1)).expect_err("too deep");
    assert!(e.to_string().contains("deeper"), "{e}");
    // Far deeper than the limit: refused, no stack overflow.
    assert!(Filter::parse(&nested_not(1_000)).is_err());
}

#[test]
fn node_limit() {
    let cond = json!({"field": "metadata.a", "eq": 1});
    let ok = json!({"and": vec![cond.clone(); MAX_NODES - 1]});
    assert!(Filter::parse(&ok).is_ok(), "{MAX_NODES} nodes are allowed");
    let big = json!({"and": vec![cond; MAX_NODES]});
    let e = Filter::parse(&big).expect_err("too many nodes");
    assert!(e.to_string().contains(&MAX_NODES.to_string()), "{e}");
}

#[test]
fn list_limit() {
    let ok = json!({"field": "metadata.a", "in": vec![1; MAX_LIST]});
    assert!(Filter::parse(&ok).is_ok());
    let big = json!({"field": "metadata.a", "nin": vec![1; MAX_LIST + 1]});
    assert_eq!(pointer(big), "filter/nin");
}

#[test]
fn accepted_spellings() {
    // Ids in any UUID spelling are canonical in the parsed filter; times in any offset become UTC.
    let f = Filter::parse(&json!({"field": "id", "eq": "019ABF2C7D1E7C3A9F005B1E2D3C4A5B"}))
        .expect("id");
    assert_eq!(f.to_json()["eq"], "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b");
    let f = Filter::parse(&json!({"field": "created_at", "gt": "2026-01-31T12:00:00.123+02:00"}))
        .expect("time");
    assert_eq!(f.to_json()["gt"], "2026-01-31T10:00:00.123Z");
    let f = Filter::parse(&json!({"field": "metadata.a b.ü", "eq": 1})).expect("path");
    assert_eq!(f.to_json()["field"], "metadata.a b.ü");
}
