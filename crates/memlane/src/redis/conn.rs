//! The connection: a [`ConnectionManager`] to one server, or a cluster connection, behind one type.
//!
//! Both multiplex every request over their connections, reconnect by themselves after a failure, and are cheap to
//! clone (one clone per operation). Each request is bounded by the configured timeout, set here as the response and
//! connection timeout and enforced again around each whole operation by the store.

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use super::config::RedisConfig;
use super::error::map;
use memlane_core::Result;

/// A connection to a standalone server or to a cluster.
#[derive(Clone)]
pub(crate) enum Conn {
    /// One server.
    Single(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl Conn {
    /// Connects (within the caller's timeout).
    pub(crate) async fn connect(config: &RedisConfig) -> Result<Conn> {
        if config.tls() {
            // The redis crate's TLS uses rustls' process-wide provider; this build ships ring. Another one may have
            // been installed already, which is as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let t = config.timeout;
        if config.cluster {
            let client = ClusterClientBuilder::new(config.nodes.clone())
                .connection_timeout(t)
                .response_timeout(t)
                .retries(3)
                .min_retry_wait(20)
                .max_retry_wait(t.as_millis().min(500) as u64)
                .build()
                .map_err(map)?;
            let conn = client.get_async_connection().await.map_err(map)?;
            Ok(Conn::Cluster(conn))
        } else {
            let url = config.nodes.first().map(String::as_str).unwrap_or("");
            let client = redis::Client::open(url).map_err(map)?;
            let cfg = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(t))
                .set_response_timeout(Some(t))
                .set_number_of_retries(2)
                .set_min_delay(std::time::Duration::from_millis(20))
                .set_max_delay(t.min(std::time::Duration::from_millis(500)));
            let conn = ConnectionManager::new_with_config(client, cfg)
                .await
                .map_err(map)?;
            Ok(Conn::Single(conn))
        }
    }

    /// Whether this is a cluster connection.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Conn::Cluster(_))
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}
