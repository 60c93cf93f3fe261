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

/// `n` memories of `scope` whose metadata `key` is `value` on every `every`-th one and `"other"` on the rest,
/// newest first.
async fn fill_keyed(
    store: &dyn MemoryStore,
    scope: &Scope,
    key: &str,
    n: usize,
    every: usize,
    value: &str,
) -> Vec<Memory> {
    let news = (0..n)
        .map(|i| {
            let mut m = NewMemory::new(scope.clone(), format!("memory {i}"));
            let meta = json!({ key: if i % every == 0 { value } else { "other" } });
            m.metadata = meta.as_object().cloned().unwrap_or_default();
            m
        })
        .collect();
    let mut all: Vec<Memory> = store
        .add(news, AddOptions::default())
        .await
        .expect("add")
        .into_iter()
        .map(|a| a.memory)
        .collect();
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
    // No index of a metadata key, declared, found or built on demand: the paths without one.
    let store = common::open(&url, "auto_index_metadata=0").await;
    assert!(store.indexed_metadata_keys().is_empty());
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

/// With `index_metadata=category,rare`, the listings whose filter requires one of those keys take the key's index
/// (created at open, present in the catalog, and chosen by the planner for such a listing), and still answer
/// exactly what the reference does; other filters take the other paths. Bad key lists are refused at open.
#[tokio::test]
async fn declared_metadata_keys_are_indexed_and_list_exactly() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    // Two connections, so that the statistics below can be flushed from each of them.
    let store = common::open(&url, "index_metadata=category,rare&pool_size=2").await;
    // A second open finds the indexes there (no error, nothing created twice).
    let _again = common::open(&url, "index_metadata=category").await;
    let scope = Scope::tenant(format!("t-{}", memlane::new_id().simple())).with_user("u");
    let all = fill(&store, &scope).await;
    fill(
        &store,
        &Scope::tenant(scope.tenant.clone()).with_user("other"),
    )
    .await;
    let cases = [
        json!({"field": "metadata.category", "eq": "c3"}),
        json!({"field": "metadata.rare", "eq": "yes"}),
        json!({"field": "metadata.category", "eq": "nope"}),
        json!({"and": [{"field": "metadata.flag", "eq": true}, {"field": "metadata.category", "eq": "c8"}]}),
        json!({"and": [{"field": "metadata.category", "eq": "c1"}, {"field": "metadata.category", "eq": "c2"}]}),
        json!({"and": [{"field": "metadata.n", "lt": 600}, {"field": "metadata.rare", "eq": "yes"}]}),
        // Not the index's: a number, and an equality under `or`.
        json!({"field": "metadata.n", "eq": 5}),
        json!({"or": [{"field": "metadata.category", "eq": "c1"}, {"field": "metadata.n", "lt": 2}]}),
    ];
    for case in cases {
        for limit in [1, 10] {
            check(&store, &scope, &all, f(case.clone()), limit).await;
        }
    }

    // The index exists, and the planner uses it for the listing's shape of statement.
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    let found = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname IN \
             ('memlane_memories_meta_category', 'memlane_memories_meta_rare')",
            &[],
        )
        .await
        .expect("catalog")
        .get::<_, i64>(0);
    assert_eq!(found, 2);
    client
        .batch_execute("ANALYZE memlane_memories")
        .await
        .expect("analyze");
    let plan: Vec<String> = client
        .query(
            "EXPLAIN SELECT m.id FROM memlane_memories m WHERE m.tenant = $1 AND m.user_id = 'u' \
             AND (m.metadata ->> 'rare') = 'yes' ORDER BY m.created_ms DESC, m.id DESC LIMIT 11",
            &[&scope.tenant],
        )
        .await
        .expect("explain")
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    assert!(
        plan.iter()
            .any(|l| l.contains("memlane_memories_meta_rare")),
        "{plan:#?}"
    );

    // And the store's own listing takes it, reading only the few entries of that value: its scans grow, with a
    // handful of index entries read per scan (another plan could walk the index's (tenant, user_id) prefix, reading
    // all the user's 1,200). A server process publishes its statistics at the end of a transaction at most once a
    // second, so the listing is repeated until they show.
    let stats = || async {
        let r = client
            .query_one(
                "SELECT COALESCE(sum(idx_scan), 0)::int8, COALESCE(sum(idx_tup_read), 0)::int8 \
                 FROM pg_stat_user_indexes WHERE indexrelname = 'memlane_memories_meta_rare'",
                &[],
            )
            .await
            .expect("stats");
        (r.get::<_, i64>(0), r.get::<_, i64>(1))
    };
    // Let both pooled connections publish what they counted so far: past a second, a transaction's end does.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let probe = memlane::new_id();
    let (a, b) = tokio::join!(
        store.get(&scope.tenant, probe),
        store.get(&scope.tenant, probe)
    );
    assert!(a.is_err() && b.is_err(), "no such memory");
    let before = stats().await;
    let rare = ListQuery::new(scope.clone())
        .filter(f(json!({"field": "metadata.rare", "eq": "yes"})))
        .limit(10);
    let mut after = before;
    for _ in 0..40 {
        store.list(&rare).await.expect("list");
        after = stats().await;
        if after.0 > before.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let (scans, read) = (after.0 - before.0, after.1 - before.1);
    assert!(
        scans > 0,
        "the listing did not use the index ({before:?} -> {after:?})"
    );
    assert!(
        read <= 20 * scans,
        "{read} entries read in {scans} scans: not the value's entries alone"
    );

    for bad in [
        "index_metadata=a-b",
        "index_metadata=x'y",
        &format!(
            "index_metadata={}",
            (0..9)
                .map(|i| format!("k{i}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    ] {
        let full = format!("{url}{}{bad}", if url.contains('?') { '&' } else { '?' });
        let e = memlane::open(&full).await.err().map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|e| e.contains("index_metadata")),
            "{bad}: {e:?}"
        );
    }
}

/// A key that a user's listings keep filtering on gets its index on demand (`auto_index_after` listings later, in
/// the background, `CONCURRENTLY`); listings then take it and answer the same; a store opened later finds it.
#[tokio::test]
async fn a_key_filtered_often_is_indexed_on_demand() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    let key = format!("auto_{}", memlane::new_id().simple());
    let store = common::open(&url, "auto_index_after=3&auto_index_metadata=8").await;
    assert!(!store.indexed_metadata_keys().contains(&key));
    let scope = Scope::tenant(format!("t-{}", memlane::new_id().simple())).with_user("u");
    let all = fill_keyed(&store, &scope, &key, 60, 7, "seven").await;
    let filter = f(json!({"field": format!("metadata.{key}"), "eq": "seven"}));
    // Listings without a user are not counted (the index leads with the user): these three do not build it.
    let tenant_wide = ListQuery::new(Scope::tenant(scope.tenant.clone())).filter(filter.clone());
    for _ in 0..3 {
        store.list(&tenant_wide).await.expect("list");
    }
    let q = ListQuery::new(scope.clone())
        .filter(filter.clone())
        .limit(5);
    let first = store.list(&q).await.expect("list").memories;
    assert!(!store.indexed_metadata_keys().contains(&key));
    store.list(&q).await.expect("list");
    store.list(&q).await.expect("list"); // the third: the build starts
    let start = std::time::Instant::now();
    while !store.indexed_metadata_keys().contains(&key) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the index of {key} was not built"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(store.list(&q).await.expect("list").memories, first);
    check(&store, &scope, &all, filter, 2).await;

    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    let valid: bool = client
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1::text)",
            &[&format!("memlane_memories_meta_{key}")],
        )
        .await
        .expect("catalog")
        .get(0);
    assert!(valid);
    let later = common::open(&url, "").await;
    assert!(
        later.indexed_metadata_keys().contains(&key),
        "found at open"
    );
    let exact = common::open(&url, "auto_index_metadata=0").await;
    assert!(
        !exact.indexed_metadata_keys().contains(&key),
        "only the declared keys"
    );
    client
        .batch_execute(&format!("DROP INDEX memlane_memories_meta_{key}"))
        .await
        .expect("drop");
}

/// A role that may not create indexes on the table (it may create in the schema, as opening the store needs, but
/// does not own the table): the build fails in the background, the store gives up building, and its filtered
/// listings go on answering exactly, without the index.
#[tokio::test]
async fn a_failed_build_on_demand_never_fails_a_listing() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    // The schema exists (made by the owner) before the other role opens the store.
    let _owner = common::open(&url, "").await;
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    let role = format!("memlane_reader_{}", memlane::new_id().simple());
    client
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN; \
             GRANT USAGE, CREATE ON SCHEMA public TO {role}; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}; \
             GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"
        ))
        .await
        .expect("role");
    let mut cfg: tokio_postgres::Config = url.parse().expect("url");
    cfg.user(&role);
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let db = cfg.get_dbname().unwrap_or("postgres").to_owned();
    let as_role = format!("postgres://{role}@{host}:{port}/{db}");
    let key = format!("denied_{}", memlane::new_id().simple());
    let store = common::open(&as_role, "auto_index_after=1&auto_index_metadata=8").await;
    let scope = Scope::tenant(format!("t-{}", memlane::new_id().simple())).with_user("u");
    let all = fill_keyed(&store, &scope, &key, 20, 4, "four").await;
    let filter = f(json!({"field": format!("metadata.{key}"), "eq": "four"}));
    for _ in 0..5 {
        check(&store, &scope, &all, filter.clone(), 2).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!store.indexed_metadata_keys().contains(&key));
    let exists: bool = client
        .query_one(
            "SELECT to_regclass($1::text) IS NOT NULL",
            &[&format!("memlane_memories_meta_{key}")],
        )
        .await
        .expect("catalog")
        .get(0);
    assert!(!exists, "no index (not even an invalid one) was left");
    drop(store);
    client
        .batch_execute(&format!(
            "DELETE FROM memlane_memories WHERE tenant = '{}'; \
             REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}; \
             REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}; \
             REVOKE ALL ON SCHEMA public FROM {role}; DROP ROLE {role}",
            scope.tenant
        ))
        .await
        .expect("clean up");
}
