//! The conformance suite against the vector store (`vector://`), each test in a fresh temporary directory.
#![cfg(feature = "vector")]

use memlane::vector::{VectorConfig, VectorStore};

/// The store and the directory it lives in, removed when the test ends.
struct InTempDir {
    store: VectorStore,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for InTempDir {
    type Target = VectorStore;
    fn deref(&self) -> &VectorStore {
        &self.store
    }
}

async fn fresh() -> InTempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = VectorStore::open(VectorConfig::new(dir.path()))
        .await
        .expect("open vector store");
    InTempDir { store, _dir: dir }
}

memlane::conformance_tests!(fresh);
