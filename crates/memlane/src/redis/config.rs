//! The Redis store's settings, and how a `redis://` or `rediss://` URL sets them.

use std::fmt;
use std::time::Duration;

use memlane_core::{parse_ttl, Error, Limits, Result};

use super::keys::valid_prefix;
use crate::OpenOptions;

/// Settings of [`super::RedisStore`]; URL options in brackets.
///
/// ```
/// use memlane::redis::RedisConfig;
/// let c = RedisConfig::from_url("redis://:secret@127.0.0.1:6379/2?prefix=app&timeout_ms=500").unwrap();
/// assert_eq!(c.nodes, vec!["redis://:secret@127.0.0.1:6379/2".to_owned()]);
/// assert_eq!((c.prefix.as_str(), c.timeout.as_millis()), ("app", 500));
/// assert!(!format!("{c:?}").contains("secret"));
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    /// The server's URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS); for a cluster, the URLs of
    /// some of its nodes (the rest is discovered).
    pub nodes: Vec<String>,
    /// Whether `nodes` are Redis Cluster nodes (`cluster`, default false).
    pub cluster: bool,
    /// What every key starts with, so that deployments can share a server (`prefix`, default `memlane`): 1 to 64
    /// ASCII letters, digits, `-`, `_` or `.`.
    pub prefix: String,
    /// The most any operation may take, connecting included; past it the operation fails as `unavailable`
    /// (`timeout_ms`, default 2000).
    pub timeout: Duration,
    /// Deduplicate equal content in the same scope by default (`dedup`, default true).
    pub dedup: bool,
    /// How often a background task purges the index entries of expired memories; `None` for never
    /// (`purge_interval`, e.g. `30s`, or `off`; default 10s).
    pub purge_interval: Option<Duration>,
    /// Size limits (`max_content_bytes`, `max_metadata_bytes`, `max_batch`, `max_limit`).
    pub limits: Limits,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes: Vec<String> = self.nodes.iter().map(|n| redact(n)).collect();
        f.debug_struct("RedisConfig")
            .field("nodes", &nodes)
            .field("cluster", &self.cluster)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("dedup", &self.dedup)
            .field("purge_interval", &self.purge_interval)
            .field("limits", &self.limits)
            .finish()
    }
}

/// A node URL with its password replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rfind('@') {
        Some(at) => {
            let (userinfo, host) = rest.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***{host}"),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

impl RedisConfig {
    /// Defaults for one standalone server.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            nodes: vec![url.into()],
            cluster: false,
            prefix: "memlane".to_owned(),
            timeout: Duration::from_millis(2000),
            dedup: true,
            purge_interval: Some(Duration::from_secs(10)),
            limits: Limits::default(),
        }
    }

    /// Defaults for a Redis Cluster reached through `nodes`.
    pub fn cluster(nodes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let mut c = RedisConfig::new(String::new());
        c.nodes = nodes.into_iter().map(Into::into).collect();
        c.cluster = true;
        c
    }

    /// From a whole store URL (see the [module docs](super)).
    pub fn from_url(url: &str) -> Result<Self> {
        RedisConfig::from_options(&mut OpenOptions::parse(url)?)
    }

    /// From a parsed URL, taking the options it knows and refusing others.
    ///
    /// The location is `[user:password@]host[:port][,host[:port]...][/db]`; several hosts only with `cluster=true`.
    pub fn from_options(opts: &mut OpenOptions) -> Result<Self> {
        let scheme = opts.scheme.clone();
        let location = opts.location.clone();
        if scheme != "redis" && scheme != "rediss" {
            return Err(Error::invalid(
                "store",
                format!("{scheme}:// is not a Redis URL"),
            ));
        }
        let (userinfo, rest) = match location.rfind('@') {
            Some(at) => (Some(&location[..at]), &location[at + 1..]),
            None => (None, location.as_str()),
        };
        let (hosts, db) = match rest.split_once('/') {
            Some((h, d)) => (h, Some(d).filter(|d| !d.is_empty())),
            None => (rest, None),
        };
        let hosts: Vec<&str> = hosts.split(',').map(str::trim).collect();
        if hosts.iter().any(|h| h.is_empty()) {
            return Err(Error::invalid(
                "store",
                "the Redis URL needs a host, e.g. redis://127.0.0.1:6379",
            ));
        }
        let cluster = opts.take_bool("cluster")?.unwrap_or(false);
        if hosts.len() > 1 && !cluster {
            return Err(Error::invalid(
                "store",
                "several Redis hosts name a cluster: add cluster=true",
            ));
        }
        if cluster && db.is_some_and(|d| d != "0") {
            return Err(Error::invalid("store", "Redis Cluster has only database 0"));
        }
        let fragment = match opts.take_bool("tls_insecure")? {
            Some(true) if scheme == "rediss" => "#insecure",
            Some(true) => {
                return Err(Error::invalid(
                    "store option tls_insecure",
                    "only for rediss://",
                ))
            }
            _ => "",
        };
        let nodes = hosts
            .iter()
            .map(|h| {
                let auth = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
                let db = db.map(|d| format!("/{d}")).unwrap_or_default();
                format!("{scheme}://{auth}{h}{db}{fragment}")
            })
            .collect();
        let mut c = RedisConfig::new(String::new());
        c.nodes = nodes;
        c.cluster = cluster;
        if let Some(p) = opts.options.remove("prefix") {
            c.prefix = p;
        }
        if let Some(ms) = opts.take_num::<u64>("timeout_ms")? {
            c.timeout = Duration::from_millis(ms);
        }
        if let Some(d) = opts.take_bool("dedup")? {
            c.dedup = d;
        }
        if let Some(p) = opts.options.remove("purge_interval") {
            c.purge_interval = match p.as_str() {
                "off" | "0" => None,
                _ => Some(parse_ttl(&p).map_err(|_| {
                    Error::invalid(
                        "store option purge_interval",
                        format!("{p:?} is not a duration like 30s, nor off"),
                    )
                })?),
            };
        }
        opts.take_limits(&mut c.limits)?;
        opts.finish()?;
        c.validate()?;
        Ok(c)
    }

    /// Checks the settings (done by [`super::RedisStore::open`] too).
    pub fn validate(&self) -> Result<()> {
        if self.nodes.is_empty() || self.nodes.iter().any(|n| n.is_empty()) {
            return Err(Error::invalid("store", "no Redis server named"));
        }
        if !self.cluster && self.nodes.len() > 1 {
            return Err(Error::invalid(
                "store",
                "several Redis nodes name a cluster: set cluster",
            ));
        }
        if !valid_prefix(&self.prefix) {
            return Err(Error::invalid(
                "store option prefix",
                format!(
                    "{:?}: use 1 to 64 ASCII letters, digits, '-', '_' or '.'",
                    self.prefix
                ),
            ));
        }
        if self.timeout.is_zero() {
            return Err(Error::invalid(
                "store option timeout_ms",
                "must be at least 1",
            ));
        }
        if self.limits.max_batch == 0 || self.limits.max_limit == 0 {
            return Err(Error::invalid(
                "store option max_batch",
                "limits must be at least 1",
            ));
        }
        Ok(())
    }

    /// Whether the connection uses TLS.
    pub(crate) fn tls(&self) -> bool {
        self.nodes.iter().any(|n| n.starts_with("rediss://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = RedisConfig::from_url("redis://127.0.0.1:7000,127.0.0.1:7001?cluster=true")
            .expect("cluster URL");
        assert!(c.cluster);
        assert_eq!(
            c.nodes,
            vec!["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]
        );
        let c =
            RedisConfig::from_url("rediss://u:p%40w@h:1/3?tls_insecure=true&purge_interval=off")
                .expect("TLS URL");
        assert_eq!(c.nodes, vec!["rediss://u:p%40w@h:1/3#insecure"]);
        assert_eq!(c.purge_interval, None);
        assert!(c.tls());
        assert_eq!(redact(&c.nodes[0]), "rediss://u:***@h:1/3#insecure");
        for bad in [
            "redis://",
            "redis://a,b",
            "redis://h?prefix=a:b",
            "redis://h?prefix=",
            "redis://h?nope=1",
            "redis://h?timeout_ms=0",
            "redis://h/2?cluster=true",
            "redis://h?tls_insecure=true",
        ] {
            let err = RedisConfig::from_url(bad).expect_err(bad);
            assert_eq!(err.kind(), memlane_core::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
