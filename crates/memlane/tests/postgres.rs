//! The PostgreSQL store beyond the conformance suite: hostile strings, migrations (idempotent, concurrent, newer
//! schema refused), concurrent identical adds, a pool of 24 serving 1000 concurrent callers, the background purge,
//! vector spaces and model mismatches, the text search configuration, a down server, and the factory. Needs
//! `MEMLANE_TEST_POSTGRES_URL` (and `..._NOVECTOR_URL`); each test is skipped with a message without it.
#![cfg(feature = "postgres")]

#[path = "postgres_common.rs"]
mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use memlane::postgres::{PostgresConfig, PostgresStore};
use memlane::{
    AddOptions, Embedding, ErrorKind, Filter, MemoryStore, MemoryStoreExt, NewMemory, Scope,
    SearchMode, SearchQuery,
};
use serde_json::json;

fn tenant() -> String {
    format!("t-{}", memlane::new_id().simple())
}

async fn raw_count(store: &PostgresStore, tenant: &str) -> i64 {
    let c = store.pool().get().await.expect("connection");
    c.query_one(
        "SELECT count(*) FROM memlane_memories WHERE tenant = $1",
        &[&tenant],
    )
    .await
    .expect("count")
    .get(0)
}

const HOSTILE: &[&str] = &[
    "'; DROP TABLE memlane_memories; --",
    "' OR '1'='1",
    "a'b''c",
    "$1",
    "$$; SELECT pg_sleep(10); $$",
    "); DELETE FROM memlane_memories; --",
    "%_%",
    "-- comment",
    "/* c */ OR 1=1",
    "{\"a\": 1}",
    "E'\\x41'",
    "Robert'); DROP TABLE Students;--",
    "ünïcødé ' 🚀",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_are_data_not_sql() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    let store = common::open(&url, "").await;
    let bystander = Scope::tenant(tenant());
    store
        .add_one(NewMemory::new(bystander.clone(), "an innocent bystander"))
        .await
        .expect("bystander");
    for (i, h) in HOSTILE.iter().enumerate() {
        // Every string field: tenant and scope names, content, metadata keys and values, the model's name.
        let scope = Scope::tenant(format!("{h}-{}", tenant()))
            .with_user(*h)
            .with_agent(*h)
            .with_session(*h);
        let key = h.replace(['.', '"', '\\', '[', ']', '*', '$'], "_");
        let m = store
            .add_one(
                NewMemory::new(scope.clone(), format!("hostile {i}: {h}"))
                    .meta(key.clone(), *h)
                    .meta("nested", json!({ key.clone(): [*h, 1] }))
                    .embedding(Embedding {
                        model: format!("model {h}"),
                        vector: vec![1.0, 0.5],
                    }),
            )
            .await
            .unwrap_or_else(|e| panic!("add {h:?}: {e}"));
        assert_eq!(
            store.get(&scope.tenant, m.id).await.expect("get"),
            m,
            "{h:?} round-trips"
        );
        // Filter paths and values.
        for f in [
            json!({"field": format!("metadata.{key}"), "eq": h}),
            json!({"field": format!("metadata.nested.{key}"), "contains": h}),
            json!({"field": "user", "in": [h, "x"]}),
            json!({"field": "content", "contains": h}),
            json!({"not": {"field": format!("metadata.{key}"), "ne": h}}),
        ] {
            let f = Filter::parse(&f).expect("filter");
            let got = store
                .list_all(&scope, Some(&f))
                .await
                .unwrap_or_else(|e| panic!("list {h:?}: {e}"));
            assert_eq!(
                got,
                vec![m.clone()],
                "filter {} selects exactly the memory",
                f.to_json()
            );
        }
        // Search text, keyword and semantic (with the hostile model name).
        store
            .search(&SearchQuery::new(scope.clone(), *h))
            .await
            .unwrap_or_else(|e| panic!("search {h:?}: {e}"));
        let mut q = SearchQuery::new(scope.clone(), *h).mode(SearchMode::Semantic);
        q.embedding = Some(Embedding {
            model: format!("model {h}"),
            vector: vec![1.0, 0.5],
        });
        let hits = store
            .search(&q)
            .await
            .unwrap_or_else(|e| panic!("semantic {h:?}: {e}"));
        assert_eq!(hits.len(), 1, "the hostile model's space is searched");
        assert_eq!(
            store.forget(&scope).await.expect("forget"),
            1,
            "forget takes only the scope"
        );
    }
    assert_eq!(
        store.count(&bystander, None).await.expect("count"),
        1,
        "nothing else was touched"
    );
    // A NUL in a filter string cannot be sent to PostgreSQL but still follows the reference semantics.
    let f = Filter::parse(&json!({"field": "content", "ne": "x\u{0}y"})).expect("filter");
    assert_eq!(store.count(&bystander, Some(&f)).await.expect("count"), 1);
    let f = Filter::parse(&json!({"field": "content", "gt": "an\u{0}"})).expect("filter");
    assert_eq!(
        store.count(&bystander, Some(&f)).await.expect("count"),
        1,
        "'an innocent..' > 'an\\0'"
    );
    // NUL in metadata is refused up front, as invalid input.
    let bad = NewMemory::new(bystander.clone(), "nul in metadata").meta("k", "a\u{0}b");
    let err = store
        .add(vec![bad], AddOptions::default())
        .await
        .expect_err("NUL in metadata");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

/// A store on a new, empty database (dropped by [`drop_db`]).
async fn fresh_db(url: &str) -> (String, PostgresConfig) {
    let admin = common::open(url, "purge_interval=off").await;
    let db = format!("memlane_t_{}", memlane::new_id().simple());
    let c = admin.pool().get().await.expect("connection");
    c.batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .expect("create database");
    let mut opts = memlane::OpenOptions::parse(url).expect("url");
    let mut config = PostgresConfig::from_options(&mut opts).expect("config");
    config.connect.dbname(&db);
    config.purge_interval = None;
    (db, config)
}

async fn drop_db(url: &str, db: &str) {
    let admin = common::open(url, "purge_interval=off").await;
    let c = admin.pool().get().await.expect("connection");
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await
        .expect("drop database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_when_servers_start_together() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    let (db, config) = fresh_db(&url).await;
    // The new database has no extension: `pgvector=auto` creates it (as superuser) and applies its migration.
    let opens = (0..8).map(|_| {
        let config = config.clone();
        tokio::spawn(async move { PostgresStore::open(config).await })
    });
    let mut stores = Vec::new();
    for o in opens {
        stores.push(o.await.expect("task").expect("open"));
    }
    assert!(stores.iter().all(|s| s.capabilities().semantic_search));
    let c = stores[0].pool().get().await.expect("connection");
    let versions: Vec<i32> = c
        .query(
            "SELECT version FROM memlane_schema_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("versions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        versions,
        vec![1, 2, 3, 101],
        "each migration applied exactly once"
    );
    // Opening again changes nothing; a newer schema is refused.
    drop(PostgresStore::open(config.clone()).await.expect("reopen"));
    c.execute(
        "INSERT INTO memlane_schema_migrations (version, name) VALUES (9999, 'future')",
        &[],
    )
    .await
    .expect("insert");
    let err = PostgresStore::open(config.clone())
        .await
        .expect_err("a newer schema");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    drop(c);
    drop(stores);
    drop_db(&url, &db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_adds_make_one_memory() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    let store = Arc::new(common::open(&url, "pool_size=32").await);
    let scope = Scope::tenant(tenant()).with_user("u");
    // Same content, dedup on: one created, every caller gets it.
    let adds = (0..32).map(|_| {
        let (store, scope) = (store.clone(), scope.clone());
        tokio::spawn(async move {
            store
                .add(
                    vec![NewMemory::new(scope, "said at once")],
                    AddOptions { dedup: Some(true) },
                )
                .await
        })
    });
    let mut created = 0;
    let mut ids = HashSet::new();
    for a in adds {
        let r = a.await.expect("task").expect("add");
        created += usize::from(r[0].created);
        ids.insert(r[0].memory.id);
    }
    assert_eq!((created, ids.len()), (1, 1), "one memory, created once");
    // Same id, dedup off: one created, the others find it; no unique violation escapes.
    let id = memlane::new_id();
    let adds = (0..32).map(|_| {
        let (store, scope) = (store.clone(), scope.clone());
        tokio::spawn(async move {
            store
                .add(
                    vec![NewMemory::new(scope, "same id").id(id)],
                    AddOptions { dedup: Some(false) },
                )
                .await
        })
    });
    let mut created = 0;
    for a in adds {
        let r = a.await.expect("task").expect("add of the same id");
        assert_eq!(r[0].memory.id, id);
        created += usize::from(r[0].created);
    }
    assert_eq!(created, 1, "one add of the id creates it");
    assert_eq!(store.count(&scope, None).await.expect("count"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_24_serves_1000_concurrent_callers() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    let store = Arc::new(common::open(&url, "pool_size=24").await);
    assert_eq!(store.config().pool_size, 24);
    let scope = Scope::tenant(tenant());
    let started = Instant::now();
    let callers = (0..1000).map(|i| {
        let (store, scope) = (store.clone(), scope.clone());
        tokio::spawn(async move {
            let m = store
                .add_one(NewMemory::new(scope.clone(), format!("caller {i}")))
                .await?;
            let got = store.get(&scope.tenant, m.id).await?;
            assert_eq!(got, m);
            store
                .search(&SearchQuery::new(scope, format!("caller {i}")).limit(3))
                .await?;
            Ok::<_, memlane::Error>(())
        })
    });
    let mut errors = Vec::new();
    for c in callers {
        if let Err(e) = c.await.expect("task") {
            errors.push(e.to_string());
        }
    }
    assert!(
        errors.is_empty(),
        "{} callers failed, e.g. {:?}",
        errors.len(),
        errors.first()
    );
    assert_eq!(store.count(&scope, None).await.expect("count"), 1000);
    assert!(
        store.pool().status().max_size <= 24,
        "never more than 24 connections"
    );
    eprintln!(
        "1000 callers (add + get + search) through 24 connections in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_memories_are_deleted_in_batches_and_in_the_background() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    let store = common::open(&url, "purge_batch=7&purge_interval=off").await;
    let scope = Scope::tenant(tenant());
    let batch = (0..30).map(|i| {
        NewMemory::new(scope.clone(), format!("short {i}")).ttl(Duration::from_millis(50))
    });
    store
        .add(batch.collect(), AddOptions::default())
        .await
        .expect("add");
    store
        .add_one(NewMemory::new(scope.clone(), "long"))
        .await
        .expect("add");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        1,
        "expired memories are not returned"
    );
    assert_eq!(
        raw_count(&store, &scope.tenant).await,
        31,
        "but still stored until purged"
    );
    assert!(
        store.purge_expired().await.expect("purge") >= 30,
        "purge deletes them all, 7 at a time"
    );
    assert_eq!(raw_count(&store, &scope.tenant).await, 1);

    let swept = common::open(&url, "purge_interval=200ms").await;
    let scope = Scope::tenant(tenant());
    swept
        .add_one(NewMemory::new(scope.clone(), "brief").ttl(Duration::from_millis(100)))
        .await
        .expect("add");
    let deadline = Instant::now() + Duration::from_secs(10);
    while raw_count(&swept, &scope.tenant).await > 0 {
        assert!(
            Instant::now() < deadline,
            "the sweeper deletes expired memories"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vector_spaces_are_per_model_and_dimension() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    // The suite and the hostile strings test make about 20 spaces: allow indexes for all of them.
    let store = common::open(&url, "max_vector_indexes=64").await;
    assert!(store.pgvector_version().is_some());
    let scope = Scope::tenant(tenant());
    let model = "memlane-spaces-test".to_owned();
    let emb = |v: &[f32]| Embedding {
        model: model.clone(),
        vector: v.to_vec(),
    };
    let a = store
        .add_one(NewMemory::new(scope.clone(), "three").embedding(emb(&[1.0, 0.0, 0.0])))
        .await
        .expect("add");
    let b = store
        .add_one(NewMemory::new(scope.clone(), "four").embedding(emb(&[0.0, 1.0, 0.0, 0.0])))
        .await
        .expect("add");
    let c = store.pool().get().await.expect("connection");
    let spaces = c
        .query(
            "SELECT dim, index_name FROM memlane_vector_spaces WHERE model = $1 ORDER BY dim",
            &[&model],
        )
        .await
        .expect("spaces");
    assert_eq!(spaces.len(), 2, "one space per dimension");
    for s in &spaces {
        let name: Option<String> = s.get(1);
        let name = name.expect("an index");
        let def: String = c
            .query_one(
                "SELECT indexdef FROM pg_indexes WHERE indexname = $1",
                &[&name],
            )
            .await
            .expect("index")
            .get(0);
        assert!(
            def.contains("hnsw") && def.contains("vector_cosine_ops"),
            "{def}"
        );
    }
    let search = |v: &[f32], m: &str| {
        let mut q = SearchQuery::new(scope.clone(), "x").mode(SearchMode::Semantic);
        q.embedding = Some(Embedding {
            model: m.to_owned(),
            vector: v.to_vec(),
        });
        q
    };
    let hits = store
        .search(&search(&[1.0, 0.0, 0.0], &model))
        .await
        .expect("3 dims");
    assert_eq!(
        hits.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        vec![a.id]
    );
    let hits = store
        .search(&search(&[0.0, 1.0, 0.0, 0.0], &model))
        .await
        .expect("4 dims");
    assert_eq!(
        hits.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        vec![b.id]
    );
    for (v, m) in [
        (vec![1.0, 0.0], model.as_str()),
        (vec![1.0, 0.0, 0.0], "another-model"),
    ] {
        let err = store
            .search(&search(&v, m))
            .await
            .expect_err("a vector of another model or dimension");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    let err = store
        .search(&search(&[0.0, 0.0, 0.0], &model))
        .await
        .expect_err("zero vector");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = store
        .search(&SearchQuery::new(scope.clone(), "x").mode(SearchMode::Hybrid))
        .await
        .expect_err("hybrid");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pgvector_vectors_are_kept_and_semantic_search_is_unsupported() {
    let Some(url) = common::url(common::NOVECTOR) else {
        return;
    };
    let store = common::open(&url, "").await;
    assert!(store.pgvector_version().is_none());
    assert!(!store.capabilities().semantic_search);
    let scope = Scope::tenant(tenant());
    let e = Embedding {
        model: "m".into(),
        vector: vec![0.1, f32::MIN_POSITIVE, -3.4e38],
    };
    let m = store
        .add_one(NewMemory::new(scope.clone(), "kept").embedding(e.clone()))
        .await
        .expect("add");
    assert_eq!(
        store.get(&scope.tenant, m.id).await.expect("get").embedding,
        Some(e.clone()),
        "bit-exact"
    );
    let mut q = SearchQuery::new(scope, "kept").mode(SearchMode::Semantic);
    q.embedding = Some(e);
    let err = store.search(&q).await.expect_err("semantic");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_search_configuration_is_a_setting() {
    let Some(url) = common::url(common::NOVECTOR) else {
        return;
    };
    let scope = Scope::tenant(tenant());
    let english = common::open(&url, "").await;
    english
        .add_one(NewMemory::new(scope.clone(), "running shoes"))
        .await
        .expect("add");
    let hits = english
        .search(&SearchQuery::new(scope.clone(), "run"))
        .await
        .expect("search");
    assert_eq!(hits.len(), 1, "english stems: run matches running");
    assert!(hits[0].score > 0.0 && hits[0].score < 1.0);
    let simple = common::open(&url, "text_search_config=simple").await;
    let scope = Scope::tenant(tenant());
    simple
        .add_one(NewMemory::new(scope.clone(), "the running shoes"))
        .await
        .expect("add");
    assert!(
        simple
            .search(&SearchQuery::new(scope.clone(), "run"))
            .await
            .expect("search")
            .is_empty(),
        "no stemming"
    );
    assert_eq!(
        simple
            .search(&SearchQuery::new(scope, "the"))
            .await
            .expect("search")
            .len(),
        1,
        "no stop words"
    );
    for bad in ["no_such_config", "english;drop"] {
        let mut opts =
            memlane::OpenOptions::parse(&format!("{url}&text_search_config={bad}")).expect("url");
        let err = match PostgresConfig::from_options(&mut opts) {
            Err(e) => e,
            Ok(c) => PostgresStore::open(c)
                .await
                .expect_err("an unknown configuration"),
        };
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_server_is_unavailable_quickly() {
    // Nothing listens on port 9 (discard) of loopback here; no database needed.
    let started = Instant::now();
    let err =
        memlane::open("postgres://memlane@127.0.0.1:9/memlane?connect_timeout=2s&pool_timeout=2s")
            .await
            .expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_temporary());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_factory_opens_postgres_urls() {
    assert!(memlane::available_schemes().contains(&"postgres"));
    assert!(memlane::available_schemes().contains(&"postgresql"));
    let err = memlane::open("postgres://u@127.0.0.1:9/db?pool_size=0")
        .await
        .expect_err("pool_size=0");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = memlane::open("postgres://u@127.0.0.1:9/db?no_such_option=1")
        .await
        .expect_err("unknown option");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    for u in [url.clone(), url.replacen("postgres://", "postgresql://", 1)] {
        let store = memlane::open(&format!("{u}?pool_size=4&dedup=false&purge_interval=off"))
            .await
            .expect("open");
        assert_eq!(store.name(), "postgres");
        store.health().await.expect("health");
        let caps = store.capabilities();
        assert!(
            caps.keyword_search
                && caps.semantic_search
                && caps.ttl
                && caps.transactions
                && caps.durable
        );
        assert!(!caps.hybrid_search);
        assert!(!format!("{store:?}").contains("password"));
    }
}
