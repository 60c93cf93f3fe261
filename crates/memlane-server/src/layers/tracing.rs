//! [`TracingStore`]: a span per store operation, and an event when it ends.

use std::time::Instant;

use async_trait::async_trait;
use memlane::{
    AddOptions, Added, Capabilities, Filter, ListQuery, Memory, MemoryId, MemoryStore, NewMemory,
    Page, Result, Scope, Scored, SearchQuery, Update,
};
use tracing::field::Empty;
use tracing::{Instrument, Span};

/// A store that traces every operation of the inner one: a span `store` with `backend`, `operation`, `tenant` and
/// `outcome` (`ok` or the error's code), a debug event when it succeeds and a warning when the backend fails
/// (unavailable or internal).
#[derive(Debug)]
pub struct TracingStore<S> {
    inner: S,
}

impl<S: MemoryStore> TracingStore<S> {
    /// Traces `inner`.
    pub fn new(inner: S) -> Self {
        TracingStore { inner }
    }

    /// The inner store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn span(&self, operation: &'static str, tenant: &str) -> Span {
        tracing::info_span!(
            "store",
            backend = self.inner.name(),
            operation,
            tenant,
            outcome = Empty
        )
    }
}

async fn traced<T>(span: Span, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let start = Instant::now();
    let res = fut.instrument(span.clone()).await;
    let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
    let _entered = span.enter();
    match &res {
        Ok(_) => {
            span.record("outcome", "ok");
            tracing::debug!(elapsed_ms, "store operation done");
        }
        Err(e) => {
            span.record("outcome", e.kind().code());
            match e.kind() {
                memlane::ErrorKind::Unavailable | memlane::ErrorKind::Internal => {
                    tracing::warn!(elapsed_ms, error = %e, "store operation failed")
                }
                _ => tracing::debug!(elapsed_ms, error = %e, "store operation refused"),
            }
        }
    }
    drop(_entered);
    res
}

#[async_trait]
impl<S: MemoryStore> MemoryStore for TracingStore<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        let tenant = batch
            .first()
            .map(|m| m.scope.tenant.clone())
            .unwrap_or_default();
        let span = self.span("add", &tenant);
        traced(span, self.inner.add(batch, opts)).await
    }

    async fn get(&self, tenant: &str, id: MemoryId) -> Result<Memory> {
        traced(self.span("get", tenant), self.inner.get(tenant, id)).await
    }

    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        traced(
            self.span("get_many", tenant),
            self.inner.get_many(tenant, ids),
        )
        .await
    }

    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
        traced(
            self.span("update", tenant),
            self.inner.update(tenant, id, update),
        )
        .await
    }

    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        traced(self.span("delete", tenant), self.inner.delete(tenant, id)).await
    }

    async fn forget(&self, scope: &Scope) -> Result<u64> {
        traced(self.span("forget", &scope.tenant), self.inner.forget(scope)).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page> {
        traced(
            self.span("list", &query.scope.tenant),
            self.inner.list(query),
        )
        .await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
        traced(
            self.span("search", &query.scope.tenant),
            self.inner.search(query),
        )
        .await
    }

    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        traced(
            self.span("count", &scope.tenant),
            self.inner.count(scope, filter),
        )
        .await
    }

    async fn health(&self) -> Result<()> {
        traced(self.span("health", ""), self.inner.health()).await
    }

    async fn purge_expired(&self) -> Result<u64> {
        traced(self.span("purge_expired", ""), self.inner.purge_expired()).await
    }
}
