//! [`EmbeddingLayer`]: fills embeddings on write and on semantic or hybrid queries.

use std::sync::Arc;

use async_trait::async_trait;
use memlane_core::{
    AddOptions, Added, Capabilities, Embedder, Embedding, Error, Filter, ListQuery, Memory,
    MemoryId, MemoryStore, NewMemory, Page, Result, Scope, Scored, SearchMode, SearchQuery, Update,
};

/// Wraps a store so that every memory added (or whose content changes) without an embedding gets one from the
/// embedder, and every semantic or hybrid search without a query vector gets the text's.
///
/// Vectors of another model than the embedder's are refused: a store holds one model's vectors (change models by
/// re-indexing).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> memlane::Result<()> {
/// # #[derive(Debug)] struct Toy;
/// # impl memlane::Embedder for Toy {
/// #     fn model(&self) -> &str { "toy" }
/// #     fn dimension(&self) -> usize { 2 }
/// #     fn embed(&self, t: &[&str]) -> memlane::Result<Vec<Vec<f32>>> {
/// #         Ok(t.iter().map(|s| if s.contains("cat") { vec![1.0, 0.0] } else { vec![0.0, 1.0] }).collect())
/// #     }
/// # }
/// use std::sync::Arc;
/// use memlane::layers::EmbeddingLayer;
/// use memlane::{MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchMode, SearchQuery};
/// // `embedder=none`: the factory adds no embedder of its own; this layer brings one.
/// let plain = memlane::open("memory://?embedder=none").await?;
/// assert!(!plain.capabilities().embeds_text);
/// let store = EmbeddingLayer::new(plain, Arc::new(Toy));
/// assert!(store.capabilities().embeds_text); // semantic search takes plain text now
/// let s = Scope::tenant("t");
/// let m = store.add_one(NewMemory::new(s.clone(), "my cat sleeps")).await?;
/// assert_eq!(m.embedding.unwrap().model, "toy");
/// let hits = store.search(&SearchQuery::new(s, "a cat").mode(SearchMode::Semantic)).await?;
/// assert_eq!(hits[0].memory.content, "my cat sleeps");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EmbeddingLayer<S> {
    inner: S,
    embedder: Arc<dyn Embedder>,
}

impl<S: MemoryStore> EmbeddingLayer<S> {
    /// `inner` with embeddings from `embedder`.
    pub fn new(inner: S, embedder: Arc<dyn Embedder>) -> Self {
        EmbeddingLayer { inner, embedder }
    }

    /// The embedder.
    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Embedding>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let embedder = self.embedder.clone();
        let vectors = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            embedder.embed(&refs)
        })
        .await
        .map_err(|e| {
            Error::internal(
                "embedder",
                format!("embedding task failed: {e}"),
                Some(Box::new(e)),
            )
        })??;
        let model = self.embedder.model().to_owned();
        Ok(vectors
            .into_iter()
            .map(|vector| Embedding {
                model: model.clone(),
                vector,
            })
            .collect())
    }

    fn check_model(&self, field: &str, e: &Embedding) -> Result<()> {
        if e.model != self.embedder.model() || e.vector.len() != self.embedder.dimension() {
            return Err(Error::invalid(
                field,
                format!(
                    "a vector of the model {:?} ({} dimensions) in a store embedding with {:?} ({}): re-index \
                     (memlane reindex --model DIR) rather than mix models",
                    e.model,
                    e.vector.len(),
                    self.embedder.model(),
                    self.embedder.dimension()
                ),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl<S: MemoryStore> MemoryStore for EmbeddingLayer<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = self.inner.capabilities();
        c.embeds_text = true;
        c
    }

    async fn add(&self, mut batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        let mut todo = Vec::new();
        for (i, m) in batch.iter().enumerate() {
            match &m.embedding {
                Some(e) => self.check_model(&format!("memories[{i}].embedding"), e)?,
                None => todo.push(i),
            }
        }
        // Check sizes before spending model time on an input that will be refused.
        self.capabilities()
            .limits
            .check_batch(&batch, memlane_core::Timestamp::now())?;
        let texts = todo.iter().map(|&i| batch[i].content.clone()).collect();
        for (i, e) in todo.into_iter().zip(self.embed(texts).await?) {
            batch[i].embedding = Some(e);
        }
        self.inner.add(batch, opts).await
    }

    async fn get(&self, tenant: &str, id: MemoryId) -> Result<Memory> {
        self.inner.get(tenant, id).await
    }

    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        self.inner.get_many(tenant, ids).await
    }

    async fn update(&self, tenant: &str, id: MemoryId, mut update: Update) -> Result<Memory> {
        match (&update.content, &update.embedding) {
            (_, Some(e)) => self.check_model("embedding", e)?,
            (Some(c), None) => {
                self.capabilities().limits.check_update(&update)?;
                update.embedding = self.embed(vec![c.clone()]).await?.pop();
            }
            (None, None) => {}
        }
        self.inner.update(tenant, id, update).await
    }

    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        self.inner.delete(tenant, id).await
    }

    async fn forget(&self, scope: &Scope) -> Result<u64> {
        self.inner.forget(scope).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page> {
        self.inner.list(query).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
        if query.mode == SearchMode::Keyword {
            return self.inner.search(query).await;
        }
        if let Some(e) = &query.embedding {
            self.check_model("embedding", e)?;
            return self.inner.search(query).await;
        }
        query.validate(&self.capabilities().limits)?;
        let mut q = query.clone();
        q.embedding = self.embed(vec![query.text.clone()]).await?.pop();
        self.inner.search(&q).await
    }

    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        self.inner.count(scope, filter).await
    }

    async fn health(&self) -> Result<()> {
        self.inner.health().await
    }

    async fn purge_expired(&self) -> Result<u64> {
        self.inner.purge_expired().await
    }

    async fn tenants(&self) -> Result<Vec<String>> {
        self.inner.tenants().await
    }

    fn change_log(&self) -> Option<&dyn memlane_core::ChangeLog> {
        self.inner.change_log()
    }
}
