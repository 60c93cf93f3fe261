//! The whole conformance suite, unchanged, against a composite store of two in-process tiers: the record of truth
//! (`memory://?outbox=true`) and a cache replaying its outbox. No server needed.
#![cfg(all(feature = "composite", feature = "memory"))]

use memlane::composite::{CompositeConfig, CompositeStore};

memlane::conformance_tests!(|| async {
    let config = CompositeConfig::from_toml(
        r#"
        [tiers.cache]
        url = "memory://"
        role = "cache"
        [tiers.records]
        url = "memory://?outbox=true"
        role = "record"
        "#,
    )
    .expect("config");
    Box::new(
        CompositeStore::open(config)
            .await
            .expect("open the composite store"),
    )
});
