//! [`MemoryStoreExt`]: helpers over any [`MemoryStore`].

use async_trait::async_trait;

use crate::{AddOptions, Error, Filter, ListQuery, Memory, MemoryStore, NewMemory, Result, Scope};

/// Helpers built only on [`MemoryStore`]'s methods; implemented for every store.
#[async_trait]
pub trait MemoryStoreExt: MemoryStore {
    /// Adds one memory with default options; returns it (or the existing one it deduplicated to).
    async fn add_one(&self, memory: NewMemory) -> Result<Memory> {
        self.add(vec![memory], AddOptions::default())
            .await?
            .pop()
            .map(|a| a.memory)
            .ok_or_else(|| Error::internal(self.name().to_owned(), "add returned nothing", None))
    }

    /// Every memory in `scope` passing `filter`, newest first, fetched page by page.
    async fn list_all(&self, scope: &Scope, filter: Option<&Filter>) -> Result<Vec<Memory>> {
        let limit = self.capabilities().limits.max_limit;
        let mut query = ListQuery::new(scope.clone()).limit(limit);
        query.filter = filter.cloned();
        let mut all = Vec::new();
        loop {
            let page = self.list(&query).await?;
            all.extend(page.memories);
            match page.next {
                Some(c) => query.cursor = Some(c),
                None => return Ok(all),
            }
        }
    }
}

impl<T: MemoryStore + ?Sized> MemoryStoreExt for T {}
