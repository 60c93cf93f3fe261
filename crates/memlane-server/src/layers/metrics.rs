//! [`MetricsStore`]: latency and errors of every store operation, as Prometheus metrics.

use std::future::Future;
use std::time::Instant;

use async_trait::async_trait;
use memlane::{
    AddOptions, Added, Capabilities, Filter, ListQuery, Memory, MemoryId, MemoryStore, NewMemory,
    Page, Result, Scope, Scored, SearchQuery, Update,
};

use crate::metrics::Metrics;

/// A store that measures every operation of the inner one: `memlane_store_operation_duration_seconds` by backend,
/// operation and outcome, and `memlane_store_errors_total` by backend, operation and error kind.
#[derive(Debug)]
pub struct MetricsStore<S> {
    inner: S,
    metrics: Metrics,
}

impl<S: MemoryStore> MetricsStore<S> {
    /// Measures `inner` into `metrics`.
    pub fn new(inner: S, metrics: Metrics) -> Self {
        MetricsStore { inner, metrics }
    }

    /// The inner store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn measured<T>(
        &self,
        operation: &'static str,
        fut: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let start = Instant::now();
        let res = fut.await;
        let outcome = res.as_ref().map(|_| ()).map_err(memlane::Error::kind);
        self.metrics
            .store_operation(self.inner.name(), operation, outcome, start.elapsed());
        res
    }
}

#[async_trait]
impl<S: MemoryStore> MemoryStore for MetricsStore<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        self.measured("add", self.inner.add(batch, opts)).await
    }

    async fn get(&self, tenant: &str, id: MemoryId) -> Result<Memory> {
        self.measured("get", self.inner.get(tenant, id)).await
    }

    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        self.measured("get_many", self.inner.get_many(tenant, ids))
            .await
    }

    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
        self.measured("update", self.inner.update(tenant, id, update))
            .await
    }

    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        self.measured("delete", self.inner.delete(tenant, id)).await
    }

    async fn forget(&self, scope: &Scope) -> Result<u64> {
        self.measured("forget", self.inner.forget(scope)).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page> {
        self.measured("list", self.inner.list(query)).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
        self.measured("search", self.inner.search(query)).await
    }

    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        self.measured("count", self.inner.count(scope, filter))
            .await
    }

    async fn health(&self) -> Result<()> {
        self.measured("health", self.inner.health()).await
    }

    async fn purge_expired(&self) -> Result<u64> {
        self.measured("purge_expired", self.inner.purge_expired())
            .await
    }
}

#[cfg(test)]
mod tests {
    use memlane::{MemoryStoreExt, NewMemory, Scope};

    use super::*;
    use crate::layers::TracingStore;

    #[tokio::test]
    async fn layers_forward_and_measure() {
        let metrics = Metrics::new();
        let dir = tempfile::tempdir().expect("tmp");
        let inner = memlane::open(&dir.path().display().to_string())
            .await
            .expect("open");
        let store = TracingStore::new(MetricsStore::new(inner, metrics.clone()));
        let m = store
            .add_one(NewMemory::new(Scope::tenant("t"), "layered"))
            .await
            .expect("add");
        assert_eq!(store.get("t", m.id).await.expect("get").content, "layered");
        assert!(store.get("other", m.id).await.is_err());
        let text = metrics.render();
        assert!(text.contains("operation=\"add\",outcome=\"ok\""), "{text}");
        assert!(
            text.contains("memlane_store_errors_total{backend=\"embedded\",operation=\"get\",kind=\"not_found\"} 1"),
            "{text}"
        );
    }
}
