//! A real server on 127.0.0.1:0 over a temp-dir embedded store, and a small HTTP client for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use memlane::{
    AddOptions, Added, Capabilities, Filter, ListQuery, Memory, MemoryId, MemoryStore, NewMemory,
    Page, Result, Scope, Scored, SearchQuery, Update,
};
use memlane_server::{ApiKey, MemoryManager, ServerConfig};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

/// Tenant `a`'s key.
pub const KEY_A: &str = "key-of-tenant-a-0123456789";
/// Tenant `b`'s key.
pub const KEY_B: &str = "key-of-tenant-b-0123456789";

/// A config with the keys of tenants `a` and `b`.
pub fn keyed_config() -> ServerConfig {
    ServerConfig::default()
        .with_key(ApiKey::from_secret("a", KEY_A))
        .with_key(ApiKey::from_secret("b", KEY_B))
}

/// A running server.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<memlane::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// An answer: status, headers and the body as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// The field of an error answer.
    pub fn field(&self) -> &str {
        self.json["error"]["field"].as_str().unwrap_or("")
    }
}

impl TestServer {
    /// Starts a server with `config` over a new embedded store.
    pub async fn start(config: ServerConfig) -> TestServer {
        Self::start_with(config, |s| s).await
    }

    /// Starts a server whose store is `wrap(embedded store)`.
    pub async fn start_with(
        config: ServerConfig,
        wrap: impl FnOnce(Arc<dyn MemoryStore>) -> Arc<dyn MemoryStore>,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config.with_store(format!("{}?embedder=none", dir.path().display()));
        let store = memlane::open(&config.store).await.expect("open store");
        let manager = MemoryManager::start(wrap(store), &config).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(memlane_server::run_with_manager(
            listener,
            config,
            manager,
            async move {
                let _ = rx.await;
            },
        ));
        TestServer {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            handle: Some(handle),
            _dir: dir,
        }
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional key and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        answer(req.send().await.expect("send")).await
    }

    /// POST with a JSON body as tenant of `key`.
    pub async fn post(&self, path: &str, key: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    /// GET as tenant of `key`.
    pub async fn get(&self, path: &str, key: &str) -> Answer {
        self.call(Method::GET, path, Some(key), None).await
    }

    /// Triggers shutdown without waiting.
    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Shuts down and waits for `run` to return.
    pub async fn stop(mut self) -> memlane::Result<()> {
        self.trigger_shutdown();
        let handle = self.handle.take().expect("running");
        handle.await.expect("server task")
    }

    /// Waits for `run` to return (after a shutdown was triggered).
    pub async fn join(&mut self) -> memlane::Result<()> {
        self.handle
            .take()
            .expect("running")
            .await
            .expect("server task")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.trigger_shutdown();
    }
}

/// Reads a response into an [`Answer`].
pub async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}

/// A store whose `count` takes `delay_ms` (to hold a request in flight), and says when one has started.
#[derive(Debug)]
pub struct SlowStore {
    pub inner: Arc<dyn MemoryStore>,
    pub delay_ms: Arc<AtomicU64>,
    pub started: Arc<Notify>,
}

/// The wrapper [`TestServer::start_with`] takes.
pub type Wrap = Box<dyn FnOnce(Arc<dyn MemoryStore>) -> Arc<dyn MemoryStore>>;

impl SlowStore {
    /// A wrapper delaying `count` by `delay`, and the signal of a `count` having started.
    pub fn wrap(delay: Duration) -> (Wrap, Arc<Notify>) {
        let started = Arc::new(Notify::new());
        let signal = started.clone();
        let wrap: Wrap = Box::new(move |inner| {
            Arc::new(SlowStore {
                inner,
                delay_ms: Arc::new(AtomicU64::new(delay.as_millis() as u64)),
                started: signal,
            })
        });
        (wrap, started)
    }
}

#[async_trait]
impl MemoryStore for SlowStore {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        self.inner.add(batch, opts).await
    }
    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        self.inner.get_many(tenant, ids).await
    }
    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
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
        self.inner.search(query).await
    }
    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        self.started.notify_one();
        let ms = self.delay_ms.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.inner.count(scope, filter).await
    }
    async fn health(&self) -> Result<()> {
        self.inner.health().await
    }
}
