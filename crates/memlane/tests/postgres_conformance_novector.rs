//! The conformance suite against PostgreSQL without pgvector (`MEMLANE_TEST_POSTGRES_NOVECTOR_URL`, whose URL says
//! `pgvector=false`): semantic search is unsupported, everything else the same. Skipped, with a message, when the
//! variable is missing (unless `MEMLANE_REQUIRE_SERVICES=1`).
#![cfg(feature = "postgres")]

#[path = "postgres_common.rs"]
mod common;

memlane::conformance_tests!(|| async {
    let store = common::conformance_store(common::NOVECTOR).await;
    assert!(
        !memlane::MemoryStore::capabilities(&store).semantic_search,
        "without pgvector, semantic search is unsupported"
    );
    Box::new(store)
});
