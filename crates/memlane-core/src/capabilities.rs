//! What a backend can do. The conformance suite, the server and the composite store read capabilities instead of
//! guessing.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Limits;

/// One thing a backend may or may not offer; named in [`crate::Error::Unsupported`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Capability {
    /// Search by words.
    KeywordSearch,
    /// Search by meaning.
    SemanticSearch,
    /// Keyword and semantic fused.
    HybridSearch,
    /// Memories that expire.
    Ttl,
    /// Batches that are all-or-nothing.
    Transactions,
    /// Data that survives a restart.
    Durable,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Capability::KeywordSearch => "keyword_search",
            Capability::SemanticSearch => "semantic_search",
            Capability::HybridSearch => "hybrid_search",
            Capability::Ttl => "ttl",
            Capability::Transactions => "transactions",
            Capability::Durable => "durable",
        })
    }
}

/// What a backend offers, and its limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Keyword search.
    pub keyword_search: bool,
    /// Semantic search.
    pub semantic_search: bool,
    /// Hybrid search.
    pub hybrid_search: bool,
    /// TTL.
    pub ttl: bool,
    /// All-or-nothing batches.
    pub transactions: bool,
    /// Survives restarts.
    pub durable: bool,
    /// It computes embeddings itself (an embedder is configured): memories and queries given without a vector
    /// are embedded, so semantic and hybrid search take plain text.
    #[serde(default)]
    pub embeds_text: bool,
    /// The size limits it enforces.
    pub limits: Limits,
}

impl Capabilities {
    /// Nothing optional, default limits; switch on what a backend has.
    pub fn none() -> Self {
        Capabilities {
            keyword_search: false,
            semantic_search: false,
            hybrid_search: false,
            ttl: false,
            transactions: false,
            durable: false,
            embeds_text: false,
            limits: Limits::default(),
        }
    }

    /// Whether `c` is offered.
    pub fn supports(&self, c: Capability) -> bool {
        match c {
            Capability::KeywordSearch => self.keyword_search,
            Capability::SemanticSearch => self.semantic_search,
            Capability::HybridSearch => self.hybrid_search,
            Capability::Ttl => self.ttl,
            Capability::Transactions => self.transactions,
            Capability::Durable => self.durable,
        }
    }

    /// The capability a search mode needs.
    pub fn for_mode(mode: crate::SearchMode) -> Capability {
        match mode {
            crate::SearchMode::Keyword => Capability::KeywordSearch,
            crate::SearchMode::Semantic => Capability::SemanticSearch,
            crate::SearchMode::Hybrid => Capability::HybridSearch,
        }
    }
}
