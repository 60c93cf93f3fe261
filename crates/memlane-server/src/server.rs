//! The entry points: [`serve`] (bind, signals, run), [`run`] (a listener and a shutdown future) and
//! [`run_with_manager`] (with a store the caller built).

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;

use memlane::Error;
use tokio::net::TcpListener;

use crate::{http, init_logging, MemoryManager, ServerConfig};

/// Installs logging (unless a subscriber is already set), binds `config.listen`, and serves until SIGTERM or
/// SIGINT (see [`run`]).
pub async fn serve(config: ServerConfig) -> memlane::Result<()> {
    init_logging(&config);
    let listener = TcpListener::bind(config.listen).await.map_err(|e| {
        Error::unavailable(
            "server",
            format!("cannot listen on {}: {e}", config.listen),
            Some(Box::new(e)),
        )
    })?;
    let result = run(listener, config, crate::signal()).await;
    // Send the spans still queued for the OTLP collector, if any.
    if let Ok(Err(e)) = tokio::task::spawn_blocking(crate::otel::flush).await {
        tracing::warn!(error = %e, "traces not exported");
    }
    result
}

/// Opens the store `config.store` names and serves it on `listener` until `shutdown` completes.
///
/// Without API keys the server is single-tenant and unauthenticated, so it refuses a listener that is not on a
/// loopback address. On `shutdown` it stops accepting connections, lets in-flight requests finish for at most
/// `config.shutdown_grace`, stops the background tasks and returns.
pub async fn run(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> memlane::Result<()> {
    check_listener(&listener, &config)?;
    let manager = MemoryManager::open(&config).await?;
    run_with_manager(listener, config, manager, shutdown).await
}

/// [`run`] with a [`MemoryManager`] the caller started (e.g. around a store it built itself).
pub async fn run_with_manager(
    listener: TcpListener,
    config: ServerConfig,
    manager: MemoryManager,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> memlane::Result<()> {
    let addr = check_listener(&listener, &config)?;
    let manager = Arc::new(manager);
    let grace = config.shutdown_grace;
    let app = http::router(http::AppState::new(manager.clone(), config.clone()));
    tracing::info!(
        %addr,
        backend = manager.store().name(),
        authenticated = config.has_keys(),
        "memlane server listening"
    );

    let (fired_tx, mut fired_rx) = tokio::sync::watch::channel(false);
    let draining = manager.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!(grace = ?grace, "shutting down: draining in-flight requests");
        draining.start_draining();
        let _ = fired_tx.send(true);
    };
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .into_future();
    let deadline = async move {
        if fired_rx.wait_for(|fired| *fired).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    };
    let result = tokio::select! {
        r = server => r.map_err(|e| Error::unavailable("server", format!("serving failed: {e}"), Some(Box::new(e)))),
        () = deadline => {
            tracing::warn!(grace = ?grace, "grace period over: abandoning the requests still running");
            Ok(())
        }
    };
    manager.shutdown().await;
    tracing::info!("memlane server stopped");
    result
}

/// The listener's address, if the config allows serving on it.
fn check_listener(listener: &TcpListener, config: &ServerConfig) -> memlane::Result<SocketAddr> {
    let addr = listener.local_addr().map_err(|e| {
        Error::unavailable(
            "server",
            format!("the listener has no address: {e}"),
            Some(Box::new(e)),
        )
    })?;
    if !config.has_keys() && !addr.ip().is_loopback() {
        return Err(Error::invalid(
            "listen",
            format!(
                "refusing to listen on {addr} without API keys: with no keys every request is served, \
                 unauthenticated, as tenant \"default\", which is only safe on a loopback address. \
                 Configure keys ([[auth.keys]] in the config file, or MEMLANE_API_KEYS=\"tenant:key\"), \
                 or listen on 127.0.0.1"
            ),
        ));
    }
    Ok(addr)
}
