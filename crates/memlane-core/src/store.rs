//! The [`MemoryStore`] trait: the one interface over every backend.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    AddOptions, Added, Capabilities, ChangeLog, Error, Filter, ListQuery, Memory, MemoryId,
    NewMemory, Page, Result, Scope, Scored, SearchQuery, Update,
};

/// A place to keep memories: the embedded store, Redis, PostgreSQL, the vector index, a composite of them, or a
/// layer (tracing, metrics, retry, ...) around another store.
///
/// The trait is object-safe (`&dyn MemoryStore`, `Arc<dyn MemoryStore>`) and small: only what a backend must
/// implement. Helpers built on it are in [`crate::MemoryStoreExt`].
///
/// Every method is confined to one tenant, given explicitly (`tenant`, or `scope.tenant`). Errors are
/// [`Error`]s; see its kinds for what each means.
///
/// ```
/// # async fn demo(store: &dyn memlane_core::MemoryStore) -> memlane_core::Result<()> {
/// use memlane_core::{MemoryStoreExt, NewMemory, Scope, SearchQuery};
/// let alice = Scope::tenant("acme").with_user("alice");
/// let m = store.add_one(NewMemory::new(alice.clone(), "Alice prefers dark mode")).await?;
/// assert_eq!(store.get("acme", m.id).await?.content, "Alice prefers dark mode");
/// let hits = store.search(&SearchQuery::new(alice, "dark mode")).await?;
/// # Ok(()) }
/// ```
#[async_trait]
pub trait MemoryStore: Send + Sync + Debug + 'static {
    /// The backend's name (`"embedded"`, `"redis"`, ...), as carried by its errors.
    fn name(&self) -> &str;

    /// What it offers.
    fn capabilities(&self) -> Capabilities;

    /// Adds a batch, all or nothing: if one memory is invalid, none is stored.
    ///
    /// Idempotent by id: a memory whose id exists with the same content and scope is returned as it is
    /// (`created: false`); with other content or scope it is [`crate::ErrorKind::Conflict`]. With dedup on, a
    /// memory whose content already exists unexpired in the same scope returns that one (`created: false`).
    /// Results are in the order of `batch`.
    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>>;

    /// One memory by id; [`crate::ErrorKind::NotFound`] if it does not exist in `tenant` or has expired.
    async fn get(&self, tenant: &str, id: MemoryId) -> Result<Memory> {
        self.get_many(tenant, &[id])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found(self.name().to_owned(), format!("memory {id}")))
    }

    /// The memories with these ids that exist in `tenant`, in the order of `ids`; missing ones are left out.
    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>>;

    /// Changes a memory; with `expected_version`, only if that is the stored version
    /// ([`crate::ErrorKind::Conflict`] otherwise). Returns the new state.
    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory>;

    /// Deletes a memory; [`crate::ErrorKind::NotFound`] if it does not exist in `tenant`.
    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()>;

    /// Deletes every memory in `scope` (a whole user, agent, session, or tenant). Returns how many.
    async fn forget(&self, scope: &Scope) -> Result<u64>;

    /// A page of the memories in a scope that pass a filter, newest first.
    async fn list(&self, query: &ListQuery) -> Result<Page>;

    /// The best matches of a search, best first.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>>;

    /// How many memories in `scope` pass `filter`.
    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64>;

    /// Whether the backend answers; [`crate::ErrorKind::Unavailable`] says why not.
    async fn health(&self) -> Result<()>;

    /// Deletes expired memories now; returns how many. Backends whose server expires keys itself return 0.
    async fn purge_expired(&self) -> Result<u64> {
        Ok(0)
    }

    /// The tenants that hold at least one memory, sorted, for tools that walk a whole store (migration,
    /// checksums, repair). Backends that cannot list them cheaply return [`crate::ErrorKind::Unsupported`]
    /// (capability `list_tenants`); callers then name the tenants themselves.
    async fn tenants(&self) -> Result<Vec<String>> {
        Err(Error::unsupported(self.name().to_owned(), "list_tenants"))
    }

    /// The store's change log (outbox), when it keeps one (e.g. PostgreSQL with `outbox=true`): what a composite
    /// store replays into its other tiers. Wrappers (layers) forward their inner store's. Default: none.
    fn change_log(&self) -> Option<&dyn ChangeLog> {
        None
    }
}

macro_rules! forward_impl {
    ($ty:ty) => {
        #[async_trait]
        impl<T: MemoryStore + ?Sized> MemoryStore for $ty {
            fn name(&self) -> &str {
                (**self).name()
            }
            fn capabilities(&self) -> Capabilities {
                (**self).capabilities()
            }
            async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
                (**self).add(batch, opts).await
            }
            async fn get(&self, tenant: &str, id: MemoryId) -> Result<Memory> {
                (**self).get(tenant, id).await
            }
            async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
                (**self).get_many(tenant, ids).await
            }
            async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
                (**self).update(tenant, id, update).await
            }
            async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
                (**self).delete(tenant, id).await
            }
            async fn forget(&self, scope: &Scope) -> Result<u64> {
                (**self).forget(scope).await
            }
            async fn list(&self, query: &ListQuery) -> Result<Page> {
                (**self).list(query).await
            }
            async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
                (**self).search(query).await
            }
            async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
                (**self).count(scope, filter).await
            }
            async fn health(&self) -> Result<()> {
                (**self).health().await
            }
            async fn purge_expired(&self) -> Result<u64> {
                (**self).purge_expired().await
            }
            async fn tenants(&self) -> Result<Vec<String>> {
                (**self).tenants().await
            }
            fn change_log(&self) -> Option<&dyn ChangeLog> {
                (**self).change_log()
            }
        }
    };
}

forward_impl!(Arc<T>);
forward_impl!(Box<T>);
