//! Environment overrides: `MEMLANE_<KEY>` for each top-level key, `MEMLANE_API_KEYS` for keys, and the standard
//! `OTEL_*` variables of the `[otlp]` section, `MEMLANE_COMPAT_*` for `[compat]`.
//!
//! An empty variable counts as unset. Keys from `MEMLANE_API_KEYS` are added to the file's keys.

use std::str::FromStr;

use super::{auth, duration, LogFormat, ServerConfig};

/// The variable of API keys: `tenant1:key1,tenant2:key2`.
pub(crate) const API_KEYS_ENV: &str = "MEMLANE_API_KEYS";

/// Applies every `MEMLANE_*` variable that `env` has to `config`.
pub(crate) fn apply(
    config: &mut ServerConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> memlane::Result<()> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if let Some(v) = get("MEMLANE_LISTEN") {
        config.listen = parse("MEMLANE_LISTEN", &v, "an address such as 127.0.0.1:7878")?;
    }
    if let Some(v) = get("MEMLANE_STORE") {
        config.store = v;
    }
    if let Some(v) = get("MEMLANE_LOG_FORMAT") {
        config.log_format = match v.trim() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(memlane::Error::invalid(
                    "MEMLANE_LOG_FORMAT",
                    format!("{other:?} is not text or json"),
                ))
            }
        };
    }
    if let Some(v) = get("MEMLANE_LOG_LEVEL") {
        config.log_level = v;
    }
    for (name, slot) in [
        ("MEMLANE_REQUEST_TIMEOUT", &mut config.request_timeout),
        ("MEMLANE_SHUTDOWN_GRACE", &mut config.shutdown_grace),
        ("MEMLANE_RETRY_AFTER", &mut config.retry_after),
        ("MEMLANE_PURGE_INTERVAL", &mut config.purge_interval),
        ("MEMLANE_HEALTH_INTERVAL", &mut config.health_interval),
        ("MEMLANE_HEALTH_TIMEOUT", &mut config.health_timeout),
    ] {
        if let Some(v) = get(name) {
            *slot = duration::parse(name, &v)?;
        }
    }
    for (name, slot) in [
        ("MEMLANE_MAX_BODY_BYTES", &mut config.max_body_bytes),
        ("MEMLANE_MAX_IMPORT_BYTES", &mut config.max_import_bytes),
        ("MEMLANE_MAX_CONCURRENCY", &mut config.max_concurrency),
    ] {
        if let Some(v) = get(name) {
            *slot = parse(name, &v, "a whole number")?;
        }
    }
    if let Some(v) = get(API_KEYS_ENV) {
        config
            .auth
            .keys
            .extend(auth::parse_env_keys(API_KEYS_ENV, &v)?);
    }
    config.otlp.apply_env(&get);
    config.compat.apply_env(&get)?;
    Ok(())
}

fn parse<T: FromStr>(name: &str, v: &str, what: &str) -> memlane::Result<T> {
    v.trim()
        .parse()
        .map_err(|_| memlane::Error::invalid(name, format!("{v:?} is not {what}")))
}
