//! The parser never panics on any JSON, refuses what it refuses as invalid input pointing into the filter, and
//! whatever it accepts round-trips.

mod common;

use memlane_core::{ErrorKind, Filter};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

const KEYS: &[&str] = &[
    "field", "and", "or", "not", "eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "exists",
    "contains", "like",
];
const FIELDS: &[&str] = &[
    "id",
    "kind",
    "content",
    "user",
    "agent",
    "session",
    "version",
    "created_at",
    "updated_at",
    "expires_at",
    "tenant",
    "metadata",
    "metadata.a",
    "metadata.a.b",
    "metadata.",
    "metadata..a",
    "metadata.a*",
    "nope",
];
const STRINGS: &[&str] = &[
    "fact",
    "message",
    "nope",
    "2026-01-31T12:00:00Z",
    "2026-01-31T12:00:00.123+02:00",
    "yesterday",
    "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b",
    "019ABF2C7D1E7C3A9F005B1E2D3C4A5B",
    "",
    "é",
];

/// Values a condition might carry: scalars that fit some fields, and things that fit none.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        select(STRINGS).prop_map(|s| json!(s)),
        common::json(false),
        proptest::collection::vec(
            prop_oneof![
                select(STRINGS).prop_map(|s| json!(s)),
                any::<i32>().prop_map(|i| json!(i))
            ],
            0..4
        )
        .prop_map(Value::Array),
    ]
}

/// Objects shaped almost like conditions: a field, one or two operators, sometimes a missing field.
fn almost_condition() -> impl Strategy<Value = Value> {
    (
        proptest::option::weighted(
            0.9,
            prop_oneof![select(FIELDS).prop_map(|s| json!(s)), common::json(false)],
        ),
        proptest::collection::vec((select(KEYS), value()), 0..3),
    )
        .prop_map(|(field, ops)| {
            let mut o = serde_json::Map::new();
            if let Some(f) = field {
                o.insert("field".into(), f);
            }
            for (k, v) in ops {
                o.insert(k.into(), v);
            }
            Value::Object(o)
        })
}

/// Trees of almost-filters and arbitrary JSON.
fn almost_filter() -> impl Strategy<Value = Value> {
    prop_oneof![3 => almost_condition(), 1 => common::json(false)].prop_recursive(
        5,
        64,
        4,
        |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"and": v})),
                proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"or": v})),
                inner.clone().prop_map(|v| json!({"not": v})),
                (select(KEYS), inner).prop_map(|(k, v)| json!({k: v})),
            ]
        },
    )
}

fn check(v: &Value) -> Result<(), TestCaseError> {
    match Filter::parse(v) {
        Ok(f) => {
            let json = f.to_json();
            let back = Filter::parse(&json);
            prop_assert!(
                back.is_ok(),
                "{v} parsed, but its JSON form {json} does not: {:?}",
                back.err()
            );
            prop_assert_eq!(back.ok(), Some(f));
        }
        Err(e) => {
            prop_assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}: {}", v, e);
            let msg = e.to_string();
            prop_assert!(
                msg.starts_with("invalid input: filter"),
                "the error points into the filter: {msg}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn never_panics_on_almost_filters(v in almost_filter()) {
        check(&v)?;
    }

    #[test]
    fn never_panics_on_any_json(v in common::json(false)) {
        check(&v)?;
    }

    #[test]
    fn never_panics_on_any_text(s in "\\PC{0,64}") {
        if let Err(e) = Filter::parse_str(&s) {
            prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
        }
    }
}
