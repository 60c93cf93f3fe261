//! The in-process store (placeholder while it is written).
use memlane_core::{Error, Result};
/// The in-process store.
#[derive(Debug)]
pub struct MemoryBackend;
impl MemoryBackend {
    /// Opens it.
    pub fn open_with(
        _o: &mut crate::OpenOptions,
    ) -> Result<std::sync::Arc<dyn memlane_core::MemoryStore>> {
        Err(Error::invalid("store", "not yet"))
    }
}
