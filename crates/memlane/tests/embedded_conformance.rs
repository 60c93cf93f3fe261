//! The conformance suite against the embedded store, each test in a fresh temporary directory.

use memlane::embedded::{EmbeddedConfig, EmbeddedStore};

/// The store and the directory it lives in, removed when the test ends.
struct InTempDir {
    store: EmbeddedStore,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for InTempDir {
    type Target = EmbeddedStore;
    fn deref(&self) -> &EmbeddedStore {
        &self.store
    }
}

async fn fresh() -> InTempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
        .await
        .expect("open embedded store");
    InTempDir { store, _dir: dir }
}

memlane::conformance_tests!(fresh);
