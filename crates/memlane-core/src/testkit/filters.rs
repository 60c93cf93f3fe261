//! Every filter operator, on metadata and on the built-in fields, with the reference semantics of
//! [`crate::Filter::matches`]: numbers compare numerically (1 == 1.0), values of another type never match,
//! strings compare by UTF-8 bytes and case-sensitively, and `ne`/`nin` hold for absent fields.

use std::time::Duration;

use serde_json::{json, Value};

use super::support::{fresh_scope, labels, obj, put, sleep_ms, sorted};
use crate::{Kind, MemoryStore, NewMemory, Scope, Timestamp, Update};

async fn seed(store: &dyn MemoryStore, scope: &Scope, items: &[(&str, Value)]) {
    for (label, meta) in items {
        let mut m = NewMemory::new(scope.clone(), *label);
        m.metadata = obj(meta.clone());
        put(store, m).await;
    }
}

/// Asserts which labels each filter selects.
async fn check(store: &dyn MemoryStore, scope: &Scope, cases: &[(Value, &[&str])]) {
    for (f, want) in cases {
        assert_eq!(
            labels(store, scope, f.clone()).await,
            sorted(want),
            "filter {f} selects the wrong memories"
        );
    }
}

/// `eq ne in nin gt gte lt lte exists contains` on metadata: strings, numbers (int and float), booleans, nested
/// paths, arrays and substrings, `null` and absent values.
pub async fn filter_metadata_operators(store: &dyn MemoryStore) {
    let s = fresh_scope();
    seed(
        store,
        &s,
        &[
            ("m-str", json!({"s": "hello world", "tags": ["x", "y"], "n": 1, "f": true, "nested": {"a": {"b": 5}}, "u": "é"})),
            ("m-float", json!({"s": "Hello", "n": 1.0, "f": false, "tags": [1, 2, 3], "nested": {"a": {"b": 5.5}}, "u": "Z"})),
            ("m-num", json!({"n": 2.5, "s": "abc", "nested": {"a": 7}, "tags": "x y z", "u": "a"})),
            ("m-strnum", json!({"n": "1", "f": "true", "nested": {"a": {"b": "5"}}})),
            ("m-null", json!({"n": null, "s": null, "tags": []})),
            ("m-empty", json!({})),
        ],
    )
    .await;
    let all: &[&str] = &["m-str", "m-float", "m-num", "m-strnum", "m-null", "m-empty"];
    check(
        store,
        &s,
        &[
            // eq: numbers numerically, no cross-type matches, case-sensitive strings.
            (
                json!({"field": "metadata.n", "eq": 1}),
                &["m-str", "m-float"],
            ),
            (
                json!({"field": "metadata.n", "eq": 1.0}),
                &["m-str", "m-float"],
            ),
            (json!({"field": "metadata.n", "eq": "1"}), &["m-strnum"]),
            (json!({"field": "metadata.s", "eq": "Hello"}), &["m-float"]),
            (json!({"field": "metadata.f", "eq": true}), &["m-str"]),
            (json!({"field": "metadata.f", "eq": false}), &["m-float"]),
            (json!({"field": "metadata.nested.a.b", "eq": 5}), &["m-str"]),
            (
                json!({"field": "metadata.nested.a.b", "eq": 5.5}),
                &["m-float"],
            ),
            (json!({"field": "metadata.nested.a", "eq": 7}), &["m-num"]),
            (json!({"field": "metadata.missing", "eq": "x"}), &[]),
            // ne / nin: true when absent or null.
            (
                json!({"field": "metadata.n", "ne": 1}),
                &["m-num", "m-strnum", "m-null", "m-empty"],
            ),
            (
                json!({"field": "metadata.f", "ne": true}),
                &["m-float", "m-num", "m-strnum", "m-null", "m-empty"],
            ),
            (json!({"field": "metadata.missing", "ne": "x"}), all),
            (
                json!({"field": "metadata.n", "nin": [1, 2.5]}),
                &["m-strnum", "m-null", "m-empty"],
            ),
            (json!({"field": "metadata.missing", "nin": ["x", 1]}), all),
            (json!({"field": "metadata.n", "nin": []}), all),
            // in
            (
                json!({"field": "metadata.n", "in": [1, "1"]}),
                &["m-str", "m-float", "m-strnum"],
            ),
            (
                json!({"field": "metadata.s", "in": ["abc", "nope", 3]}),
                &["m-num"],
            ),
            (json!({"field": "metadata.f", "in": [false]}), &["m-float"]),
            (json!({"field": "metadata.n", "in": []}), &[]),
            // ordering: numbers with numbers, strings by bytes ("H" < "Z" < "a" < "h" < "é").
            (json!({"field": "metadata.n", "gt": 1}), &["m-num"]),
            (
                json!({"field": "metadata.n", "gte": 1}),
                &["m-str", "m-float", "m-num"],
            ),
            (
                json!({"field": "metadata.n", "lt": 2.5}),
                &["m-str", "m-float"],
            ),
            (
                json!({"field": "metadata.n", "lte": 2.5}),
                &["m-str", "m-float", "m-num"],
            ),
            (json!({"field": "metadata.n", "lt": 0}), &[]),
            (
                json!({"field": "metadata.s", "gt": "Hello"}),
                &["m-str", "m-num"],
            ),
            (json!({"field": "metadata.s", "lt": "abc"}), &["m-float"]),
            (json!({"field": "metadata.u", "lt": "a"}), &["m-float"]),
            (json!({"field": "metadata.u", "gt": "a"}), &["m-str"]),
            (
                json!({"field": "metadata.u", "gte": "a"}),
                &["m-str", "m-num"],
            ),
            (json!({"field": "metadata.u", "lte": "Z"}), &["m-float"]),
            (
                json!({"field": "metadata.nested.a.b", "gte": 5}),
                &["m-str", "m-float"],
            ),
            (
                json!({"field": "metadata.nested.a.b", "gt": "4"}),
                &["m-strnum"],
            ),
            // exists: present and not null; a non-object in the middle of a path is absent.
            (
                json!({"field": "metadata.n", "exists": true}),
                &["m-str", "m-float", "m-num", "m-strnum"],
            ),
            (
                json!({"field": "metadata.n", "exists": false}),
                &["m-null", "m-empty"],
            ),
            (
                json!({"field": "metadata.nested.a.b", "exists": true}),
                &["m-str", "m-float", "m-strnum"],
            ),
            (
                json!({"field": "metadata.tags", "exists": true}),
                &["m-str", "m-float", "m-num", "m-null"],
            ),
            // contains: an array element equal to the value, or a substring of a string.
            (
                json!({"field": "metadata.tags", "contains": "x"}),
                &["m-str", "m-num"],
            ),
            (
                json!({"field": "metadata.tags", "contains": 2}),
                &["m-float"],
            ),
            (
                json!({"field": "metadata.tags", "contains": 2.0}),
                &["m-float"],
            ),
            (json!({"field": "metadata.tags", "contains": true}), &[]),
            (
                json!({"field": "metadata.s", "contains": "llo"}),
                &["m-str", "m-float"],
            ),
            (
                json!({"field": "metadata.s", "contains": "hello"}),
                &["m-str"],
            ),
            (
                json!({"field": "metadata.s", "contains": "lo w"}),
                &["m-str"],
            ),
            (json!({"field": "metadata.u", "contains": "é"}), &["m-str"]),
            (json!({"field": "metadata.n", "contains": 1}), &[]),
        ],
    )
    .await;
}

/// Filters on `id`, `kind`, `content`, `user`, `agent`, `session`, `version`, `created_at`, `updated_at` and
/// (with TTL) `expires_at`.
pub async fn filter_builtin_fields(store: &dyn MemoryStore) {
    let t = fresh_scope();
    let specs = [
        (
            Kind::Fact,
            t.clone()
                .with_user("alice")
                .with_agent("a1")
                .with_session("s1"),
            "The Quick brown fox",
        ),
        (
            Kind::Message,
            t.clone().with_user("bob").with_session("s2"),
            "lazy dog",
        ),
        (Kind::Episode, t.clone().with_agent("a2"), "quick thinking"),
        (
            Kind::Procedure,
            t.clone().with_user("alice"),
            "How to brew tea",
        ),
    ];
    let mut ms = Vec::new();
    for (kind, scope, content) in specs {
        ms.push(put(store, NewMemory::new(scope, content).kind(kind)).await);
        sleep_ms(5).await;
    }
    for w in ms.windows(2) {
        assert!(
            w[0].created_at < w[1].created_at,
            "memories added 5 ms apart have increasing created_at"
        );
    }
    let tenant = &t.tenant;
    for (i, times) in [(1, 2), (2, 1)] {
        for _ in 0..times {
            ms[i] = store
                .update(
                    tenant,
                    ms[i].id,
                    Update::default().metadata(obj(json!({"touched": true}))),
                )
                .await
                .expect("update");
        }
    }
    let ts = |i: usize| ms[i].created_at.to_string();
    let id = |i: usize| ms[i].id.to_string();
    let (b1, b2, b3, b4) = (
        "The Quick brown fox",
        "lazy dog",
        "quick thinking",
        "How to brew tea",
    );
    check(
        store,
        &t,
        &[
            (json!({"field": "kind", "eq": "fact"}), &[b1]),
            (
                json!({"field": "kind", "in": ["message", "episode"]}),
                &[b2, b3],
            ),
            (json!({"field": "kind", "ne": "fact"}), &[b2, b3, b4]),
            (
                json!({"field": "kind", "nin": ["fact", "procedure"]}),
                &[b2, b3],
            ),
            (json!({"field": "user", "eq": "alice"}), &[b1, b4]),
            (json!({"field": "user", "ne": "alice"}), &[b2, b3]),
            (json!({"field": "user", "exists": false}), &[b3]),
            (json!({"field": "user", "in": ["bob", "carol"]}), &[b2]),
            (json!({"field": "user", "contains": "li"}), &[b1, b4]),
            (json!({"field": "agent", "eq": "a1"}), &[b1]),
            (json!({"field": "agent", "exists": true}), &[b1, b3]),
            (json!({"field": "agent", "ne": "a1"}), &[b2, b3, b4]),
            (json!({"field": "session", "eq": "s2"}), &[b2]),
            (json!({"field": "session", "exists": false}), &[b3, b4]),
            (json!({"field": "session", "nin": ["s1"]}), &[b2, b3, b4]),
            (json!({"field": "version", "eq": 1}), &[b1, b4]),
            (json!({"field": "version", "eq": 1.0}), &[b1, b4]),
            (json!({"field": "version", "gt": 1}), &[b2, b3]),
            (json!({"field": "version", "gte": 3}), &[b2]),
            (json!({"field": "version", "lt": 2}), &[b1, b4]),
            (json!({"field": "version", "lte": 2}), &[b1, b3, b4]),
            (json!({"field": "version", "in": [2, 3]}), &[b2, b3]),
            (json!({"field": "created_at", "gte": ts(2)}), &[b3, b4]),
            (json!({"field": "created_at", "lt": ts(1)}), &[b1]),
            (json!({"field": "created_at", "gt": ts(3)}), &[]),
            (json!({"field": "created_at", "eq": ts(0)}), &[b1]),
            (json!({"field": "created_at", "lte": ts(1)}), &[b1, b2]),
            (json!({"field": "updated_at", "gt": ts(3)}), &[b2, b3]),
            (json!({"field": "content", "contains": "quick"}), &[b3]),
            (json!({"field": "content", "contains": "o"}), &[b1, b2, b4]),
            (json!({"field": "content", "eq": "lazy dog"}), &[b2]),
            (json!({"field": "content", "gt": "T"}), &[b1, b2, b3]),
            (json!({"field": "id", "eq": id(0)}), &[b1]),
            (json!({"field": "id", "eq": id(0).to_uppercase()}), &[b1]),
            (json!({"field": "id", "in": [id(1), id(2)]}), &[b2, b3]),
            (json!({"field": "id", "ne": id(0)}), &[b2, b3, b4]),
            (json!({"field": "id", "nin": [id(0), id(3)]}), &[b2, b3]),
            (
                json!({"field": "expires_at", "exists": false}),
                &[b1, b2, b3, b4],
            ),
        ],
    )
    .await;

    if !store.capabilities().ttl {
        return;
    }
    let ttl_scope = t.clone().with_agent("ttl");
    let e1 = put(
        store,
        NewMemory::new(ttl_scope.clone(), "e1").ttl(Duration::from_secs(3600)),
    )
    .await;
    let e2 = put(
        store,
        NewMemory::new(ttl_scope.clone(), "e2").ttl(Duration::from_secs(7200)),
    )
    .await;
    put(store, NewMemory::new(ttl_scope.clone(), "e3")).await;
    let exp = |m: &crate::Memory| {
        m.expires_at
            .expect("a memory with a ttl expires")
            .to_string()
    };
    let now = Timestamp::now().to_string();
    check(
        store,
        &ttl_scope,
        &[
            (
                json!({"field": "expires_at", "exists": true}),
                &["e1", "e2"],
            ),
            (json!({"field": "expires_at", "exists": false}), &["e3"]),
            (json!({"field": "expires_at", "lt": exp(&e2)}), &["e1"]),
            (json!({"field": "expires_at", "gt": now}), &["e1", "e2"]),
            (
                json!({"field": "expires_at", "ne": exp(&e1)}),
                &["e2", "e3"],
            ),
            (
                json!({"field": "expires_at", "gte": exp(&e1)}),
                &["e1", "e2"],
            ),
        ],
    )
    .await;
}

/// `and`, `or`, `not`, nested, and the empty cases (`and` of nothing is true, `or` of nothing is false).
pub async fn filter_logic(store: &dyn MemoryStore) {
    let s = fresh_scope();
    seed(
        store,
        &s,
        &[
            ("l1", json!({"a": 1, "b": "x"})),
            ("l2", json!({"a": 2, "b": "y"})),
            ("l3", json!({"a": 3})),
            ("l4", json!({})),
        ],
    )
    .await;
    let a = |op: &str, v: Value| json!({"field": "metadata.a", op: v});
    let b = |op: &str, v: Value| json!({"field": "metadata.b", op: v});
    check(
        store,
        &s,
        &[
            (json!({"and": [a("gte", json!(2)), b("eq", json!("y"))]}), &["l2"]),
            (json!({"or": [a("eq", json!(1)), b("eq", json!("y"))]}), &["l1", "l2"]),
            (json!({"not": a("exists", json!(true))}), &["l4"]),
            (json!({"not": b("eq", json!("x"))}), &["l2", "l3", "l4"]),
            (json!({"not": b("ne", json!("x"))}), &["l1"]),
            (json!({"and": []}), &["l1", "l2", "l3", "l4"]),
            (json!({"or": []}), &[]),
            (json!({"not": {"and": []}}), &[]),
            (json!({"not": {"or": []}}), &["l1", "l2", "l3", "l4"]),
            (json!({"not": {"not": a("eq", json!(3))}}), &["l3"]),
            (
                json!({"or": [{"and": [a("gt", json!(1)), {"not": b("exists", json!(true))}]}, a("eq", json!(1))]}),
                &["l1", "l3"],
            ),
            (
                json!({"and": [{"or": [a("lt", json!(3)), a("exists", json!(false))]}, {"not": {"or": [b("eq", json!("x")), a("eq", json!(2))]}}]}),
                &["l4"],
            ),
            (json!({"and": [{"and": [{"and": [a("in", json!([1, 2, 3]))]}]}, {"or": [{"or": [b("contains", json!("y"))]}]}]}), &["l2"]),
        ],
    )
    .await;
}
