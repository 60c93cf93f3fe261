//! The PostgreSQL store's filtered listings on both of their paths: a filter many memories pass (answered within
//! the window of newest memories) and one few or none pass (past the window: the GIN index on metadata through a
//! containment, or the ordered walk when the filter has no equality to contain), each page compared with the
//! reference semantics (`Filter::matches` over every memory, newest first), paged to the end with cursors. Needs
//! `MEMLANE_TEST_POSTGRES_URL`; skipped with a message without it.
#![cfg(feature = "postgres")]

#[path = "postgres_common.rs"]
mod common;

use memlane::{AddOptions, Cursor, Filter, ListQuery, Memory, MemoryStore, NewMemory, Scope};
use serde_json::json;

/// Memories of the scope: 1,200 (several windows), `category` one of 16, `rare` on one in 300, `tag.kind` nested,
/// `flag` a boolean, `n` a number.
const N: usize = 1200;

async fn fill(store: &dyn MemoryStore, scope: &Scope) -> Vec<Memory> {
    let mut all = Vec::new();
    for start in (0..N).step_by(300) {
        let news = (start..start + 300)
            .map(|i| {
                let mut m = NewMemory::new(scope.clone(), format!("memory {i}"));
                let meta = json!({
                    "category": format!("c{}", i % 16),
                    "rare": if i % 300 == 7 { "yes" } else { "no" },
                    "tag": {"kind": if i % 50 == 3 { "deep" } else { "shallow" }},
                    "flag": i % 40 == 0,
                    "n": i,
                });
                m.metadata = meta.as_object().cloned().unwrap_or_default();
                m
            })
            .collect();
        for a in store.add(news, AddOptions::default()).await.expect("add") {
            all.push(a.memory);
        }
    }
    // Newest first, as listings are.
    all.sort_by_key(|m| std::cmp::Reverse((m.created_at, m.id)));
    all
}

/// Every page of `filter` with page size `limit`, checked against the reference.
async fn check(
    store: &dyn MemoryStore,
    scope: &Scope,
    all: &[Memory],
    filter: Filter,
    limit: usize,
) {
    let want: Vec<_> = all
        .iter()
        .filter(|m| filter.matches(m))
        .map(|m| m.id)
        .collect();
    let mut got = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let mut q = ListQuery::new(scope.clone())
            .filter(filter.clone())
            .limit(limit);
        q.cursor = cursor;
        let page = store.list(&q).await.expect("list");
        assert!(page.memories.len() <= limit);
        got.extend(page.memories.iter().map(|m| m.id));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(
            got.len() <= want.len(),
            "more pages than matches for {filter:?}"
        );
    }
    assert_eq!(got, want, "{filter:?} with pages of {limit}");
    let n = store.count(scope, Some(&filter)).await.expect("count");
    assert_eq!(n as usize, want.len(), "count of {filter:?}");
}

fn f(v: serde_json::Value) -> Filter {
    serde_json::from_value(v).expect("filter")
}

#[tokio::test]
async fn filtered_listings_match_the_reference_on_both_paths() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    let store = common::open(&url, "").await;
    let scope = Scope::tenant(format!("t-{}", memlane::new_id().simple())).with_user("u");
    let all = fill(&store, &scope).await;
    // Another user of the tenant with the same metadata: never listed.
    fill(
        &store,
        &Scope::tenant(scope.tenant.clone()).with_user("other"),
    )
    .await;

    let cases = [
        // Passed by one in 16: within the window.
        json!({"field": "metadata.category", "eq": "c3"}),
        // One in 300: past the window, through the containment.
        json!({"field": "metadata.rare", "eq": "yes"}),
        // None.
        json!({"field": "metadata.category", "eq": "nope"}),
        // A nested path and a boolean, and two equalities on one path that cannot both hold.
        json!({"field": "metadata.tag.kind", "eq": "deep"}),
        json!({"and": [{"field": "metadata.flag", "eq": true}, {"field": "metadata.category", "eq": "c8"}]}),
        json!({"and": [{"field": "metadata.category", "eq": "c1"}, {"field": "metadata.category", "eq": "c2"}]}),
        // Sparse without any equality to contain: past the window by the ordered walk.
        json!({"field": "metadata.n", "gte": 1190}),
        json!({"or": [{"field": "metadata.rare", "eq": "yes"}, {"field": "metadata.n", "lt": 2}]}),
        // An equality under `not`: no containment may come of it.
        json!({"not": {"field": "metadata.rare", "eq": "no"}}),
    ];
    for case in cases {
        for limit in [1, 3, 10] {
            check(&store, &scope, &all, f(case.clone()), limit).await;
        }
    }
}
