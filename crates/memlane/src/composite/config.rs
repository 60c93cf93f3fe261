//! The composite store's configuration: a TOML file of named tiers (each a store URL with a role), the routing
//! policy per operation, and the outbox replay settings. See `docs/backends/composite.md` and
//! `deploy/composite.example.toml`.
//!
//! ```
//! let c = memlane::composite::CompositeConfig::from_toml(r#"
//!     [tiers.cache]
//!     url = "memory://"
//!     role = "cache"
//!     [tiers.records]
//!     url = "memory://?outbox=true"
//!     role = "record"
//! "#).unwrap();
//! assert_eq!(c.routes().get, ["cache", "records"]);
//! ```

use std::collections::BTreeMap;
use std::fmt;

use memlane_core::{Error, Result};
use serde::Deserialize;

/// What a tier is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The record of truth: every write goes here first, in one transaction with its outbox entry. Exactly one.
    Record,
    /// A fast copy of every memory (e.g. Redis): answers `get` first.
    Cache,
    /// A search index by meaning (e.g. `vector://`): answers semantic and hybrid searches first.
    Semantic,
    /// A search index by words: answers keyword searches first.
    Keyword,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Record => "record",
            Role::Cache => "cache",
            Role::Semantic => "semantic",
            Role::Keyword => "keyword",
        })
    }
}

/// One tier: `[tiers.NAME]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// The store URL (any scheme but `composite`). Overridden by `$MEMLANE_COMPOSITE_<NAME>_URL` (the tier's name in
    /// upper case, `-` as `_`).
    pub url: String,
    /// What it is for.
    pub role: Role,
    /// How long one operation on it may take before it counts as failed and the next tier answers (default
    /// 2000 ms).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl fmt::Debug for TierConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: only its scheme is shown.
        let scheme = self.url.split("://").next().unwrap_or("");
        f.debug_struct("TierConfig")
            .field("scheme", &scheme)
            .field("role", &self.role)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

fn default_timeout_ms() -> u64 {
    2000
}

/// Which tiers answer each read, in order of preference: `[routing]`. Each list is tier names; the semantic and
/// hybrid lists may end with `"keyword"`: fall back to a keyword search (on the keyword route) when no tier of the
/// list can answer. A missing list takes the default (see [`CompositeConfig::routes`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    /// `get` and `get_many`.
    pub get: Option<Vec<String>>,
    /// `list`.
    pub list: Option<Vec<String>>,
    /// `count`.
    pub count: Option<Vec<String>>,
    /// Keyword search.
    pub keyword: Option<Vec<String>>,
    /// Semantic search.
    pub semantic: Option<Vec<String>>,
    /// Hybrid search.
    pub hybrid: Option<Vec<String>>,
    /// Whether a tier that is behind the outbox may answer when the record of truth is down and no caught-up tier
    /// can (default true). Such an answer may miss the latest writes; it is degraded with
    /// [`Degraded::stale`](super::Degraded::stale). Off, those reads fail as unavailable.
    pub serve_stale: Option<bool>,
}

/// The routes in effect: [`Routing`] with the defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    /// `get` and `get_many`.
    pub get: Vec<String>,
    /// `list`.
    pub list: Vec<String>,
    /// `count`.
    pub count: Vec<String>,
    /// Keyword search.
    pub keyword: Vec<String>,
    /// Semantic search.
    pub semantic: Vec<String>,
    /// Hybrid search.
    pub hybrid: Vec<String>,
}

/// The pseudo-tier that ends a semantic or hybrid route: fall back to keyword search.
pub const KEYWORD_FALLBACK: &str = "keyword";

/// Outbox replay: `[outbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// How often the background replayer catches up lagging tiers, retries tiers that are down and trims the
    /// outbox (default 200 ms).
    pub interval_ms: u64,
    /// Changes read per batch (default 500).
    pub batch: usize,
    /// Whether each write waits until the tiers that are up have applied it (default true): read-your-writes from
    /// every tier. Off, writes return once durable in the record of truth and the tiers follow within
    /// `interval_ms`.
    pub write_through: bool,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            interval_ms: 200,
            batch: 500,
            write_through: true,
        }
    }
}

/// The whole configuration. See the [module docs](self).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeConfig {
    /// The tiers by name.
    pub tiers: BTreeMap<String, TierConfig>,
    /// The read routes.
    #[serde(default)]
    pub routing: Routing,
    /// Outbox replay.
    #[serde(default)]
    pub outbox: OutboxConfig,
}

impl CompositeConfig {
    /// Parses and checks a TOML configuration (without environment overrides).
    pub fn from_toml(text: &str) -> Result<Self> {
        let c: CompositeConfig = toml::from_str(text)
            .map_err(|e| Error::invalid("composite config", e.message().to_owned()))?;
        c.check()?;
        Ok(c)
    }

    /// Reads a TOML file and applies the environment overrides (`$MEMLANE_COMPOSITE_<NAME>_URL`).
    pub fn from_file(path: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid(
                "store",
                format!("cannot read the composite config {path:?}: {e}"),
            )
        })?;
        let mut c = Self::from_toml(&text)?;
        c.apply_env(|k| std::env::var(k).ok());
        Ok(c)
    }

    /// Replaces tier URLs by those of the environment (`get` looks a variable up).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        for (name, tier) in &mut self.tiers {
            if let Some(url) = get(&env_var(name)).filter(|u| !u.is_empty()) {
                tier.url = url;
            }
        }
    }

    /// Whether stale reads are served when the record is down ([`Routing::serve_stale`], default true).
    pub fn serve_stale(&self) -> bool {
        self.routing.serve_stale.unwrap_or(true)
    }

    /// The name of the record-of-truth tier.
    pub fn record(&self) -> &str {
        self.tiers
            .iter()
            .find(|(_, t)| t.role == Role::Record)
            .map(|(n, _)| n.as_str())
            .unwrap_or_default()
    }

    fn with_role(&self, role: Role) -> impl Iterator<Item = String> + '_ {
        self.tiers
            .iter()
            .filter(move |(_, t)| t.role == role)
            .map(|(n, _)| n.clone())
    }

    /// The routes in effect. Defaults: `get` from the caches, then the record; `list` and `count` from the record,
    /// then the caches; keyword search from the keyword tiers, then the record; semantic search from the semantic
    /// tiers, then the record, then keyword search; hybrid from the semantic tiers, the record, then keyword search.
    pub fn routes(&self) -> Routes {
        let record = || vec![self.record().to_owned()];
        let caches: Vec<String> = self.with_role(Role::Cache).collect();
        let semantic: Vec<String> = self.with_role(Role::Semantic).collect();
        let keyword: Vec<String> = self.with_role(Role::Keyword).collect();
        let cat = |parts: &[&[String]]| parts.concat();
        let fallback = vec![KEYWORD_FALLBACK.to_owned()];
        let r = &self.routing;
        Routes {
            get: r.get.clone().unwrap_or_else(|| cat(&[&caches, &record()])),
            list: r.list.clone().unwrap_or_else(|| cat(&[&record(), &caches])),
            count: r
                .count
                .clone()
                .unwrap_or_else(|| cat(&[&record(), &caches])),
            keyword: r
                .keyword
                .clone()
                .unwrap_or_else(|| cat(&[&keyword, &record()])),
            semantic: r
                .semantic
                .clone()
                .unwrap_or_else(|| cat(&[&semantic, &record(), &fallback])),
            hybrid: r
                .hybrid
                .clone()
                .unwrap_or_else(|| cat(&[&semantic, &record(), &fallback])),
        }
    }

    fn check(&self) -> Result<()> {
        let records = self.with_role(Role::Record).count();
        if records != 1 {
            return Err(Error::invalid(
                "composite config tiers",
                format!("exactly one tier must have role = \"record\", found {records}"),
            ));
        }
        for (name, t) in &self.tiers {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok || name == KEYWORD_FALLBACK {
                return Err(Error::invalid(
                    format!("composite config tiers.{name}"),
                    "a tier name is 1-64 letters, digits, - or _, and not \"keyword\"",
                ));
            }
            if t.url
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("composite:")
            {
                return Err(Error::invalid(
                    format!("composite config tiers.{name}.url"),
                    "a tier cannot be another composite store",
                ));
            }
            if t.timeout_ms == 0 {
                return Err(Error::invalid(
                    format!("composite config tiers.{name}.timeout_ms"),
                    "must be at least 1",
                ));
            }
        }
        let routes = self.routes();
        let named: [(&str, &Vec<String>, bool); 6] = [
            ("get", &routes.get, false),
            ("list", &routes.list, false),
            ("count", &routes.count, false),
            ("keyword", &routes.keyword, false),
            ("semantic", &routes.semantic, true),
            ("hybrid", &routes.hybrid, true),
        ];
        for (op, route, may_fall_back) in named {
            if route.is_empty() {
                return Err(Error::invalid(
                    format!("composite config routing.{op}"),
                    "names no tier",
                ));
            }
            for (i, t) in route.iter().enumerate() {
                let fallback = t == KEYWORD_FALLBACK && may_fall_back && i + 1 == route.len();
                if !fallback && !self.tiers.contains_key(t) {
                    return Err(Error::invalid(
                        format!("composite config routing.{op}"),
                        format!("{t:?} is not a tier (semantic and hybrid routes may end with \"keyword\")"),
                    ));
                }
            }
        }
        if self.outbox.batch == 0 || self.outbox.interval_ms == 0 {
            return Err(Error::invalid(
                "composite config outbox",
                "batch and interval_ms must be at least 1",
            ));
        }
        Ok(())
    }
}

/// The environment variable overriding a tier's URL.
pub fn env_var(tier: &str) -> String {
    format!(
        "MEMLANE_COMPOSITE_{}_URL",
        tier.to_ascii_uppercase().replace('-', "_")
    )
}
