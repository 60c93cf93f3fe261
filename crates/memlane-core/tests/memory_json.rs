//! A memory's JSON form round-trips exactly: every field, including f32 embedding vectors and timestamps.

mod common;

use memlane_core::{Memory, Timestamp};
use proptest::prelude::*;
use serde_json::json;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn memory_json_round_trip(m in common::memory(true)) {
        let text = serde_json::to_string(&m).expect("serialize");
        let back: Memory = serde_json::from_str(&text).expect("deserialize");
        prop_assert_eq!(&back, &m);
        // Vectors bit for bit, not only ==.
        let bits = |m: &Memory| m.embedding.as_ref().map(|e| e.vector.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        prop_assert_eq!(bits(&back), bits(&m));
    }

    #[test]
    fn f32_vectors_round_trip(v in proptest::collection::vec(any::<f32>().prop_filter("finite", |f| f.is_finite()), 1..64)) {
        let e = memlane_core::Embedding { model: "m".into(), vector: v };
        let back: memlane_core::Embedding = serde_json::from_str(&serde_json::to_string(&e).expect("ser")).expect("de");
        prop_assert_eq!(back.vector.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), e.vector.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    }

    /// Any finite f64 in metadata survives the text form (the export format promises every field exactly).
    #[test]
    fn metadata_f64_round_trip(x in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let v = json!({"x": x});
        let back: serde_json::Value = serde_json::from_str(&v.to_string()).expect("parse");
        prop_assert_eq!(back["x"].as_f64().map(f64::to_bits), Some(x.to_bits()), "{} became {}", x, back["x"]);
    }

    #[test]
    fn timestamps_round_trip(t in common::timestamp()) {
        let s = t.to_string();
        prop_assert_eq!(s.parse::<Timestamp>().ok(), Some(t));
        prop_assert_eq!(serde_json::from_value::<Timestamp>(json!(s)).ok(), Some(t));
    }
}

#[test]
fn documented_form() {
    let text = r#"{
      "id": "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b",
      "scope": {"tenant": "acme", "user": "alice", "session": "s1"},
      "kind": "fact",
      "content": "Alice prefers dark mode.",
      "metadata": {"source": "chat", "confidence": 0.9},
      "embedding": {"model": "all-MiniLM-L6-v2", "vector": [0.01, -0.02]},
      "created_at": "2026-11-25T13:35:45.123Z",
      "updated_at": "2026-11-25T13:35:45.123Z",
      "expires_at": "2026-11-26T13:35:45.123Z",
      "version": 1,
      "content_hash": "9b1c"
    }"#;
    let m: Memory = serde_json::from_str(text).expect("the documented form parses");
    // Through text: `serde_json::to_value` would widen the f32 vector to f64 digits (0.009999999776482582).
    let v: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&m).expect("serialize")).expect("json");
    assert_eq!(
        v,
        serde_json::from_str::<serde_json::Value>(text).expect("json"),
        "and serializes back the same"
    );
    let mut minimal = v.clone();
    for k in ["embedding", "expires_at"] {
        minimal.as_object_mut().expect("object").remove(k);
    }
    minimal["scope"] = json!({"tenant": "acme"});
    let m: Memory = serde_json::from_value(minimal.clone()).expect("optional fields may be absent");
    let again: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&m).expect("ser")).expect("json");
    assert_eq!(again, minimal, "absent fields stay absent");
    let mut extra = v;
    extra["tenant_id"] = json!("x");
    assert!(
        serde_json::from_value::<Memory>(extra).is_err(),
        "unknown fields are refused"
    );
}
