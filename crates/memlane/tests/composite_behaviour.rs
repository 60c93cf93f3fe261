//! The composite store's own behaviour over in-process tiers (no server needed): opening from a TOML file through
//! the factory, environment overrides, configuration errors, reads served by the cache, degraded reads when the
//! cache is dropped behind the store's back, the outbox lag, and repair.
#![cfg(all(feature = "composite", feature = "memory"))]

use memlane::composite::{observe, CompositeConfig, CompositeStore};
use memlane::{ErrorKind, MemoryStore, MemoryStoreExt, NewMemory, Scope, Update};

const TWO_TIERS: &str = r#"
[tiers.cache]
url = "memory://"
role = "cache"

[tiers.records]
url = "memory://?outbox=true"
role = "record"
"#;

#[tokio::test]
async fn opens_through_the_factory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("composite.toml");
    std::fs::write(&path, TWO_TIERS).unwrap();
    let store = memlane::open(&format!("composite://{}?embedder=none", path.display()))
        .await
        .expect("open composite://");
    assert_eq!(store.name(), "composite");
    let m = store
        .add_one(NewMemory::new(Scope::tenant("acme"), "Alice likes tea"))
        .await
        .unwrap();
    assert_eq!(store.get("acme", m.id).await.unwrap(), m);

    let missing = memlane::open("composite:///no/such/file.toml")
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::InvalidInput, "{missing}");
    assert!(missing.to_string().contains("/no/such/file.toml"));
}

#[test]
fn config_errors_name_the_key() {
    let err = |text: &str| CompositeConfig::from_toml(text).unwrap_err().to_string();
    assert!(err("[tiers.a]\nurl = \"memory://\"\nrole = \"cache\"\n").contains("exactly one tier"));
    assert!(err(&format!("{TWO_TIERS}[routing]\nget = [\"nope\"]\n"))
        .contains("\"nope\" is not a tier"));
    assert!(err(&format!("{TWO_TIERS}[routing]\nget = [\"keyword\"]\n")).contains("is not a tier"));
    assert!(err("[tiers.a]\nurl = \"memory://\"\nrole = \"boss\"\n").contains("unknown variant"));
    assert!(
        err("[tiers.a]\nurl = \"composite:///x.toml\"\nrole = \"record\"\n")
            .contains("another composite")
    );
    let ok = CompositeConfig::from_toml(&format!(
        "{TWO_TIERS}[routing]\nsemantic = [\"records\", \"keyword\"]\n"
    ));
    assert!(ok.is_ok());
}

#[test]
fn the_deployed_example_parses() {
    let c = CompositeConfig::from_toml(include_str!("../../../deploy/composite.example.toml"))
        .expect("deploy/composite.example.toml");
    assert_eq!(c.record(), "records");
    assert!(c.serve_stale());
}

#[test]
fn default_routes_and_env_overrides() {
    let mut c = CompositeConfig::from_toml(&format!(
        "{TWO_TIERS}[tiers.vectors]\nurl = \"vector:///tmp/v\"\nrole = \"semantic\"\n"
    ))
    .unwrap();
    let r = c.routes();
    assert_eq!(r.get, ["cache", "records"]);
    assert_eq!(r.list, ["records", "cache"]);
    assert_eq!(r.keyword, ["records"]);
    assert_eq!(r.semantic, ["vectors", "records", "keyword"]);
    assert!(c.serve_stale(), "stale reads are served by default");
    let off = CompositeConfig::from_toml(&format!("{TWO_TIERS}[routing]\nserve_stale = false\n"));
    assert!(!off.unwrap().serve_stale());
    c.apply_env(|k| (k == "MEMLANE_COMPOSITE_VECTORS_URL").then(|| "memory://".to_owned()));
    assert_eq!(c.tiers["vectors"].url, "memory://");
    assert!(
        !format!("{:?}", c.tiers["vectors"]).contains("memory://"),
        "Debug shows no URL"
    );
}

async fn open() -> CompositeStore {
    CompositeStore::open(CompositeConfig::from_toml(TWO_TIERS).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn reads_come_from_the_cache_and_see_every_write() {
    let store = open().await;
    let scope = Scope::tenant("acme").with_user("alice");
    let m = store
        .add_one(NewMemory::new(scope.clone(), "v1"))
        .await
        .unwrap();
    for i in 2..5 {
        let next = store
            .update("acme", m.id, Update::default().content(format!("v{i}")))
            .await
            .unwrap();
        let got = store.get_served("acme", m.id).await.unwrap();
        assert_eq!(
            (got.tier.as_str(), &got.value),
            ("cache", &next),
            "read-your-writes from the cache"
        );
        assert!(!got.is_degraded());
    }
    let cache = store.tier("cache").unwrap();
    assert_eq!(cache.get("acme", m.id).await.unwrap().content, "v4");
    store.delete("acme", m.id).await.unwrap();
    assert_eq!(
        cache.get("acme", m.id).await.unwrap_err().kind(),
        ErrorKind::NotFound,
        "no resurrection"
    );
    assert_eq!(
        store.get("acme", m.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    store
        .add_one(NewMemory::new(scope.clone(), "a"))
        .await
        .unwrap();
    assert_eq!(store.forget(&scope).await.unwrap(), 1);
    assert_eq!(
        cache.count(&scope, None).await.unwrap(),
        0,
        "forget reaches the cache"
    );
    assert_eq!(store.outbox_lag().await.unwrap()["cache"], 0);
}

#[tokio::test]
async fn a_cache_miss_is_served_by_the_record_and_repair_fixes_the_drift() {
    let store = open().await;
    let scope = Scope::tenant("acme");
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            store
                .add_one(NewMemory::new(scope.clone(), format!("m{i}")))
                .await
                .unwrap()
                .id,
        );
    }
    // Drift made behind the composite's back: one memory gone from the cache, one that the record lacks.
    let cache = store.tier("cache").unwrap();
    cache.delete("acme", ids[0]).await.unwrap();
    let stray = cache
        .add_one(NewMemory::new(scope.clone(), "stray"))
        .await
        .unwrap();

    let (got, report) = observe(store.get_served("acme", ids[0])).await;
    let got = got.unwrap();
    assert_eq!(got.tier, "records", "a miss falls through to the record");
    assert!(
        report.is_none() && !got.is_degraded(),
        "a miss is not degraded"
    );
    let many = store.get_many_served("acme", &ids).await.unwrap();
    assert_eq!(many.value.iter().map(|m| m.id).collect::<Vec<_>>(), ids);

    let found = store.repair(&[], false).await.unwrap();
    assert_eq!(found.tenants, ["acme"]);
    assert_eq!(found.drifts.len(), 1);
    assert_eq!(found.drifts[0].fixed, 0);
    let fixed = store.repair(&["acme".to_owned()], true).await.unwrap();
    assert_eq!(fixed.drifts[0].fixed, 2, "one rewritten, one deleted");
    assert!(store.repair(&[], false).await.unwrap().is_clean());
    assert_eq!(
        cache.get("acme", stray.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(cache.count(&scope, None).await.unwrap(), 5);
}

/// The default setup's semantic tier: memlane's vector index (`vector://`), replaying the outbox like the cache.
#[cfg(feature = "vector")]
#[tokio::test]
async fn semantic_search_is_served_by_the_vector_tier() {
    use memlane::{Embedding, SearchMode, SearchQuery};
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{TWO_TIERS}[tiers.vectors]\nurl = \"vector://{}\"\nrole = \"semantic\"\n",
        dir.path().join("vectors").display()
    );
    let store = CompositeStore::open(CompositeConfig::from_toml(&text).unwrap())
        .await
        .unwrap();
    let scope = Scope::tenant("acme");
    let toy = |v: [f32; 2]| Embedding {
        model: "toy".into(),
        vector: v.to_vec(),
    };
    let tea = store
        .add_one(NewMemory::new(scope.clone(), "tea").embedding(toy([1.0, 0.0])))
        .await
        .unwrap();
    store
        .add_one(NewMemory::new(scope.clone(), "coffee").embedding(toy([0.0, 1.0])))
        .await
        .unwrap();
    let mut q = SearchQuery::new(scope.clone(), "tea")
        .mode(SearchMode::Semantic)
        .limit(1);
    q.embedding = Some(toy([0.9, 0.1]));
    let hits = store.search_served(&q).await.unwrap();
    assert_eq!(hits.tier, "vectors");
    assert!(!hits.is_degraded());
    assert_eq!(hits.value[0].memory.id, tea.id);
    store.delete("acme", tea.id).await.unwrap();
    let hits = store.search_served(&q).await.unwrap();
    assert_eq!(
        hits.value[0].memory.content, "coffee",
        "the delete reached the vector tier"
    );
}
