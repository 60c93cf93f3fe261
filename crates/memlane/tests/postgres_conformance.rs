//! The conformance suite against PostgreSQL with pgvector (`MEMLANE_TEST_POSTGRES_URL`): every test the
//! capabilities allow, semantic search included. Skipped, with a message, when the variable is missing (unless
//! `MEMLANE_REQUIRE_SERVICES=1`).
#![cfg(feature = "postgres")]

#[path = "postgres_common.rs"]
mod common;

memlane::conformance_tests!(|| async {
    let store = common::conformance_store(common::VECTOR).await;
    assert!(
        memlane::MemoryStore::capabilities(&store).semantic_search,
        "MEMLANE_TEST_POSTGRES_URL must be a database with pgvector"
    );
    Box::new(store)
});
