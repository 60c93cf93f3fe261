//! The factory: a store from a URL.
//!
//! | URL | store | feature |
//! |---|---|---|
//! | `PATH` (no scheme), `embedded://PATH`, `file://PATH` | [`crate::embedded::EmbeddedStore`] in that directory | `embedded` |
//! | `memory://` | [`crate::memory::MemoryBackend`], in process, gone when dropped | `memory` |
//! | `composite://PATH` | `crate::composite::CompositeStore` configured by the TOML file at `PATH` | `composite` |
//! | `vector://PATH` | `crate::vector::VectorStore`: memlane's vector index + payload in that directory | `vector` |
//!
//! Options go in the query string, e.g. `embedded://./data?dedup=false`. An unknown scheme, or one whose feature is
//! off, is an [`Error::InvalidInput`] that lists the schemes this build offers.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::{Error, MemoryStore, Result};

/// Every scheme memlane knows, with the cargo feature that enables it.
const SCHEMES: &[(&str, &str)] = &[
    ("embedded", "embedded"),
    ("file", "embedded"),
    ("memory", "memory"),
    ("redis", "redis"),
    ("rediss", "redis"),
    ("postgres", "postgres"),
    ("postgresql", "postgres"),
    ("vector", "vector"),
    ("composite", "composite"),
];

/// The cargo features of backends, and whether this build has each.
const FEATURES: &[(&str, bool)] = &[
    ("embedded", cfg!(feature = "embedded")),
    ("memory", cfg!(feature = "memory")),
    ("postgres", cfg!(feature = "postgres")),
    ("redis", cfg!(feature = "redis")),
    ("vector", cfg!(feature = "vector")),
    ("composite", cfg!(feature = "composite")),
];

fn enabled(feature: &str) -> bool {
    FEATURES.iter().any(|(f, on)| *f == feature && *on)
}

/// The URL schemes this build can open (a plain path is always the embedded store, when enabled).
pub fn available_schemes() -> Vec<&'static str> {
    SCHEMES
        .iter()
        .filter(|(_, f)| enabled(f))
        .map(|(s, _)| *s)
        .collect()
}

/// A parsed store URL: scheme, the rest (path or authority), and query options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The scheme (`embedded` for a plain path).
    pub scheme: String,
    /// What follows `scheme://`, without the query string.
    pub location: String,
    /// Query-string options.
    pub options: BTreeMap<String, String>,
}

impl OpenOptions {
    /// Parses a store URL.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::invalid("store", "the store URL is empty"));
        }
        let (scheme, rest) = match url.split_once("://") {
            Some((s, r))
                if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '+') =>
            {
                (s.to_ascii_lowercase(), r)
            }
            _ => ("embedded".to_owned(), url),
        };
        let (location, query) = match rest.split_once('?') {
            Some((l, q)) => (l, Some(q)),
            None => (rest, None),
        };
        let mut options = BTreeMap::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, "true"));
            options.insert(k.to_owned(), v.to_owned());
        }
        Ok(OpenOptions {
            scheme,
            location: location.to_owned(),
            options,
        })
    }

    /// Takes a boolean option (`true`/`false`/`1`/`0`).
    pub fn take_bool(&mut self, key: &str) -> Result<Option<bool>> {
        match self.options.remove(key).as_deref() {
            None => Ok(None),
            Some("true" | "1" | "yes" | "on") => Ok(Some(true)),
            Some("false" | "0" | "no" | "off") => Ok(Some(false)),
            Some(v) => Err(Error::invalid(
                format!("store option {key}"),
                format!("{v:?} is not true or false"),
            )),
        }
    }

    /// Takes a numeric option.
    pub fn take_num<T: std::str::FromStr>(&mut self, key: &str) -> Result<Option<T>> {
        match self.options.remove(key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                Error::invalid(
                    format!("store option {key}"),
                    format!("{v:?} is not a number"),
                )
            }),
        }
    }

    /// Takes the size limits every backend accepts (`max_content_bytes`, `max_metadata_bytes`, `max_batch`,
    /// `max_limit`) into `limits`, leaving the ones not given as they are.
    pub fn take_limits(&mut self, limits: &mut memlane_core::Limits) -> Result<()> {
        if let Some(v) = self.take_num("max_content_bytes")? {
            limits.max_content_bytes = v;
        }
        if let Some(v) = self.take_num("max_metadata_bytes")? {
            limits.max_metadata_bytes = v;
        }
        if let Some(v) = self.take_num("max_batch")? {
            limits.max_batch = v;
        }
        if let Some(v) = self.take_num("max_limit")? {
            limits.max_limit = v;
        }
        Ok(())
    }

    /// Fails if options are left that the backend did not take.
    pub fn finish(&self) -> Result<()> {
        match self.options.keys().next() {
            None => Ok(()),
            Some(k) => Err(Error::invalid(
                format!("store option {k}"),
                format!("unknown option for the {} store", self.scheme),
            )),
        }
    }
}

/// Opens the store a URL names. See the `factory` table in the crate docs for the URLs.
pub async fn open(url: &str) -> Result<Arc<dyn MemoryStore>> {
    open_with(OpenOptions::parse(url)?).await
}

/// Opens the store parsed options name.
///
/// With the `embed` feature, the option `embedder` (`auto`, the default; `minilm`; `none`) wraps the store in an
/// [`crate::layers::EmbeddingLayer`] with the local all-MiniLM-L6-v2 model (`model_dir` option, else
/// `$MEMLANE_MODEL_DIR`, else `~/.cache/memlane/models/all-MiniLM-L6-v2`). `auto` uses the model when its files are
/// there and goes without otherwise; `minilm` fails, naming the fetch command, when they are missing.
pub async fn open_with(opts: OpenOptions) -> Result<Arc<dyn MemoryStore>> {
    open_embedding(opts).await
}

#[cfg(feature = "embed")]
async fn open_embedding(mut opts: OpenOptions) -> Result<Arc<dyn MemoryStore>> {
    let embedder = crate::embedder::from_options(&mut opts)?;
    if let Some(e) = &embedder {
        if matches!(opts.scheme.as_str(), "embedded" | "file" | "vector") {
            opts.options
                .insert("embedding_model".into(), e.model().to_owned());
        }
    }
    let store = open_backend(opts).await?;
    Ok(match embedder {
        Some(e) => Arc::new(crate::layers::EmbeddingLayer::new(store, e)),
        None => store,
    })
}

#[cfg(not(feature = "embed"))]
async fn open_embedding(mut opts: OpenOptions) -> Result<Arc<dyn MemoryStore>> {
    match opts.options.remove("embedder").as_deref() {
        None | Some("none") | Some("auto") => open_backend(opts).await,
        Some(other) => Err(Error::invalid(
            "store option embedder",
            format!("{other:?} needs the cargo feature \"embed\", which this build does not have"),
        )),
    }
}

#[allow(unused_mut)]
async fn open_backend(mut opts: OpenOptions) -> Result<Arc<dyn MemoryStore>> {
    match opts.scheme.as_str() {
        #[cfg(feature = "embedded")]
        "embedded" | "file" => crate::embedded::EmbeddedStore::open_with(&mut opts).await,
        #[cfg(feature = "memory")]
        "memory" => crate::memory::MemoryBackend::open_with(&mut opts),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => crate::postgres::PostgresStore::open_with(&mut opts).await,
        #[cfg(feature = "redis")]
        "redis" | "rediss" => crate::redis::RedisStore::open_with(&mut opts).await,
        #[cfg(feature = "vector")]
        "vector" => crate::vector::VectorStore::open_with(&mut opts).await,
        #[cfg(feature = "composite")]
        "composite" => crate::composite::CompositeStore::open_with(&mut opts).await,
        other => {
            let known = SCHEMES.iter().find(|(s, _)| *s == other);
            let available = available_schemes().join(", ");
            Err(match known {
                Some((_, feature)) => Error::invalid(
                    "store",
                    format!("the {other}:// store is not in this build (enable the cargo feature {feature:?}); available: {available}"),
                ),
                None => Error::invalid("store", format!("unknown scheme {other:?}; available: {available}")),
            })
        }
    }
}
