//! The server's settings: [`ServerConfig`], read from a TOML file and then overridden by the environment.
//!
//! ```toml
//! listen = "127.0.0.1:7878"          # MEMLANE_LISTEN
//! store = "./memlane-data"           # MEMLANE_STORE: a directory, embedded://PATH, memory://, ...
//! log_format = "text"                # MEMLANE_LOG_FORMAT: text or json
//! log_level = "info"                 # MEMLANE_LOG_LEVEL (RUST_LOG wins when set)
//! request_timeout = "30s"            # MEMLANE_REQUEST_TIMEOUT
//! shutdown_grace = "10s"             # MEMLANE_SHUTDOWN_GRACE
//! max_body_bytes = 2097152           # MEMLANE_MAX_BODY_BYTES
//! max_import_bytes = 67108864        # MEMLANE_MAX_IMPORT_BYTES
//! max_concurrency = 256              # MEMLANE_MAX_CONCURRENCY
//! retry_after = "1s"                 # MEMLANE_RETRY_AFTER
//! purge_interval = "60s"             # MEMLANE_PURGE_INTERVAL
//! health_interval = "5s"             # MEMLANE_HEALTH_INTERVAL
//! health_timeout = "2s"              # MEMLANE_HEALTH_TIMEOUT
//!
//! [[auth.keys]]                      # plus MEMLANE_API_KEYS="tenant1:key1,tenant2:key2"
//! tenant = "acme"
//! key_sha256 = "<sha256 of the key, 64 hex digits>"
//!
//! [otlp]                             # OpenTelemetry traces; off without an endpoint (see OtlpConfig)
//! endpoint = "http://127.0.0.1:4318" # OTEL_EXPORTER_OTLP_ENDPOINT
//!
//! [compat]                           # mem0's REST API under /compat/mem0, deprecated (see CompatConfig)
//! enabled = true                     # MEMLANE_COMPAT_ENABLED
//! ```
//!
//! Every key is optional. `Debug` of a config hides secrets (key hashes, the store URL's password).

mod auth;
mod compat;
mod duration;
mod env;
mod otlp;
mod redact;

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

pub use auth::{ApiKey, AuthConfig, KeyHash, MIN_KEY_BYTES};
pub(crate) use compat::parse_date;
pub use compat::CompatConfig;
pub use otlp::OtlpConfig;
pub use redact::redact_url;

/// The environment variable naming the config file when [`ServerConfig::load`] is given no path.
pub const CONFIG_ENV: &str = "MEMLANE_CONFIG";

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, with the request's span fields (request id, trace id, tenant, ...).
    Json,
}

/// The server's settings. See the [module docs](self) for the file format and the environment variables.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The address [`crate::serve`] binds.
    pub listen: SocketAddr,
    /// The store URL, opened with [`memlane::open`].
    pub store: String,
    /// The log format.
    pub log_format: LogFormat,
    /// The log filter (`info`, `memlane_server=debug,info`, ...); `RUST_LOG` wins when set.
    pub log_level: String,
    /// The longest a request may take before it is answered 503 (with `Retry-After`).
    #[serde(deserialize_with = "duration::deserialize")]
    pub request_timeout: Duration,
    /// How long in-flight requests may still run after shutdown starts.
    #[serde(deserialize_with = "duration::deserialize")]
    pub shutdown_grace: Duration,
    /// The largest request body, in bytes (413 above it), except imports.
    pub max_body_bytes: usize,
    /// The largest import body, in bytes.
    pub max_import_bytes: usize,
    /// The most `/v1` requests served at once; more are refused at once with 503 and `Retry-After`.
    pub max_concurrency: usize,
    /// The `Retry-After` of 503 answers (rounded up to whole seconds).
    #[serde(deserialize_with = "duration::deserialize")]
    pub retry_after: Duration,
    /// How often expired memories are purged.
    #[serde(deserialize_with = "duration::deserialize")]
    pub purge_interval: Duration,
    /// How often the store's health is probed.
    #[serde(deserialize_with = "duration::deserialize")]
    pub health_interval: Duration,
    /// The longest a health probe may take before the store counts as down.
    #[serde(deserialize_with = "duration::deserialize")]
    pub health_timeout: Duration,
    /// API keys.
    pub auth: AuthConfig,
    /// OpenTelemetry trace export (`[otlp]`).
    pub otlp: OtlpConfig,
    /// The deprecated compatibility routes (`[compat]`).
    pub compat: CompatConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            store: "./memlane-data".into(),
            log_format: LogFormat::Text,
            log_level: "info".into(),
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            max_body_bytes: 2 * 1024 * 1024,
            max_import_bytes: 64 * 1024 * 1024,
            max_concurrency: 256,
            retry_after: Duration::from_secs(1),
            purge_interval: Duration::from_secs(60),
            health_interval: Duration::from_secs(5),
            health_timeout: Duration::from_secs(2),
            auth: AuthConfig::default(),
            otlp: OtlpConfig::default(),
            compat: CompatConfig::default(),
        }
    }
}

impl ServerConfig {
    /// The defaults, then the file at `path` (or at `$MEMLANE_CONFIG` when `path` is `None`; no file when neither
    /// is given), then the `MEMLANE_*` environment variables; validated.
    pub fn load(path: Option<&Path>) -> memlane::Result<Self> {
        Self::load_from(path, |name| std::env::var(name).ok())
    }

    /// [`ServerConfig::load`] with the environment given as a lookup function (for tests and embedders).
    pub fn load_from(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> memlane::Result<Self> {
        let from_env = env(CONFIG_ENV).filter(|p| !p.trim().is_empty());
        let path = path
            .map(Path::to_path_buf)
            .or_else(|| from_env.map(Into::into));
        let mut config = match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    memlane::Error::invalid("config", format!("cannot read {}: {e}", p.display()))
                })?;
                Self::from_toml_str(&text).map_err(|e| match e {
                    memlane::Error::InvalidInput { field, message } => {
                        memlane::Error::invalid(format!("{} ({field})", p.display()), message)
                    }
                    other => other,
                })?
            }
            None => ServerConfig::default(),
        };
        env::apply(&mut config, &env)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a config file's text (no environment, not validated).
    pub fn from_toml_str(text: &str) -> memlane::Result<Self> {
        toml::from_str(text).map_err(|e| memlane::Error::invalid("config", e.to_string()))
    }

    /// Checks values that parsing cannot: tenant names, non-zero limits.
    pub fn validate(&self) -> memlane::Result<()> {
        for (i, k) in self.auth.keys.iter().enumerate() {
            auth::check_tenant(&format!("auth.keys[{i}].tenant"), &k.tenant)?;
        }
        for (field, v) in [
            ("max_body_bytes", self.max_body_bytes),
            ("max_import_bytes", self.max_import_bytes),
            ("max_concurrency", self.max_concurrency),
        ] {
            if v == 0 {
                return Err(memlane::Error::invalid(field, "must be greater than zero"));
            }
        }
        for (field, d) in [
            ("request_timeout", self.request_timeout),
            ("retry_after", self.retry_after),
            ("purge_interval", self.purge_interval),
            ("health_interval", self.health_interval),
            ("health_timeout", self.health_timeout),
        ] {
            if d.is_zero() {
                return Err(memlane::Error::invalid(field, "must be greater than zero"));
            }
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log_level) {
            return Err(memlane::Error::invalid(
                "log_level",
                format!(
                    "{:?} is not a log filter such as info or memlane_server=debug,info: {e}",
                    self.log_level
                ),
            ));
        }
        if self.store.trim().is_empty() {
            return Err(memlane::Error::invalid("store", "the store URL is empty"));
        }
        self.otlp.validate()?;
        self.compat.validate()?;
        Ok(())
    }

    /// With this API key added (for embedders and tests).
    pub fn with_key(mut self, key: ApiKey) -> Self {
        self.auth.keys.push(key);
        self
    }

    /// With this store URL.
    pub fn with_store(mut self, store: impl Into<String>) -> Self {
        self.store = store.into();
        self
    }

    /// Whether requests are authenticated (some key is configured).
    pub fn has_keys(&self) -> bool {
        !self.auth.keys.is_empty()
    }

    /// `retry_after` in whole seconds, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("store", &redact_url(&self.store))
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("request_timeout", &self.request_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_import_bytes", &self.max_import_bytes)
            .field("max_concurrency", &self.max_concurrency)
            .field("retry_after", &self.retry_after)
            .field("purge_interval", &self.purge_interval)
            .field("health_interval", &self.health_interval)
            .field("health_timeout", &self.health_timeout)
            .field("auth", &self.auth)
            .field("otlp", &self.otlp)
            .field("compat", &self.compat)
            .finish()
    }
}

#[cfg(test)]
mod tests;
