//! The embedded store (placeholder while it is written).
use memlane_core::{Error, Result};
/// The embedded store.
#[derive(Debug)]
pub struct EmbeddedStore;
impl EmbeddedStore {
    /// Opens it.
    pub async fn open_with(
        _o: &mut crate::OpenOptions,
    ) -> Result<std::sync::Arc<dyn memlane_core::MemoryStore>> {
        Err(Error::invalid("store", "not yet"))
    }
}
