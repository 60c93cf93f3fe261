//! The memory model: [`Memory`], what a caller sends to create one ([`NewMemory`]) or change one ([`Update`]).
//!
//! The JSON form of a memory (the one form used by the library, the REST API, the CLI and the export format):
//!
//! ```json
//! {
//!   "id": "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b",
//!   "scope": {"tenant": "acme", "user": "alice", "session": "s1"},
//!   "kind": "fact",
//!   "content": "Alice prefers dark mode.",
//!   "metadata": {"source": "chat", "confidence": 0.9},
//!   "embedding": {"model": "all-MiniLM-L6-v2", "vector": [0.01, -0.02]},
//!   "created_at": "2026-11-25T13:35:45.123Z",
//!   "updated_at": "2026-11-25T13:35:45.123Z",
//!   "expires_at": "2026-11-26T13:35:45.123Z",
//!   "version": 1,
//!   "content_hash": "9b1c…(sha256 of content, hex)"
//! }
//! ```
//! `user`, `agent`, `session`, `embedding` and `expires_at` are left out when absent.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Error, Scope, Timestamp};

/// A memory's id: a UUIDv7 (time-ordered) unless the caller brought its own UUID.
pub type MemoryId = Uuid;

/// Makes a new time-ordered id.
pub fn new_id() -> MemoryId {
    Uuid::now_v7()
}

/// Parses a memory id, with an error that names the field.
///
/// ```
/// assert!(memlane_core::parse_id("not-a-uuid").is_err());
/// ```
pub fn parse_id(s: &str) -> Result<MemoryId, Error> {
    Uuid::parse_str(s.trim()).map_err(|_| Error::invalid("id", format!("{s:?} is not a UUID")))
}

/// What sort of memory this is. Kinds are filters (`{"field": "kind", "eq": "fact"}`), not separate APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Short-term: a conversation turn, usually with a TTL.
    Message,
    /// Semantic, long-term: a fact or preference.
    #[default]
    Fact,
    /// Something that happened.
    Episode,
    /// How to do something.
    Procedure,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 4] = [Kind::Message, Kind::Fact, Kind::Episode, Kind::Procedure];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::Fact => "fact",
            Kind::Episode => "episode",
            Kind::Procedure => "procedure",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "kind",
                    format!("{s:?} is not a kind: use message, fact, episode or procedure"),
                )
            })
    }
}

/// An embedding vector with the model that produced it. Vectors of different models are never compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embedding {
    /// The model's name, e.g. `all-MiniLM-L6-v2`.
    pub model: String,
    /// The vector; its length is the model's dimension.
    pub vector: Vec<f32>,
}

impl Embedding {
    /// The dimension.
    pub fn dim(&self) -> usize {
        self.vector.len()
    }
}

/// The sha256 of a memory's content, in lowercase hex: the key of deduplication.
///
/// ```
/// assert_eq!(
///     memlane_core::content_hash("hello"),
///     "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
/// );
/// ```
pub fn content_hash(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A stored memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    /// Its id.
    pub id: MemoryId,
    /// Whose it is.
    pub scope: Scope,
    /// What sort it is.
    pub kind: Kind,
    /// The text.
    pub content: String,
    /// Free-form JSON object.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The content's embedding, when one was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Embedding>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// When it expires; it is never returned after that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// Starts at 1, bumped by each update (optimistic concurrency).
    pub version: u64,
    /// sha256 of `content` (see [`content_hash`]).
    pub content_hash: String,
}

impl Memory {
    /// Whether it has expired at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// A memory to add. Only `scope` and `content` are required; the rest has defaults.
///
/// `id`, `created_at`, `updated_at` and `version` are for import and migration, which must reproduce a memory
/// exactly; an ordinary caller leaves them out.
///
/// ```
/// use memlane_core::{NewMemory, Scope, Kind};
/// let m = NewMemory::new(Scope::tenant("acme").with_user("alice"), "Alice likes tea")
///     .kind(Kind::Fact)
///     .meta("source", "chat");
/// assert_eq!(m.metadata["source"], "chat");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMemory {
    /// Its id; a new UUIDv7 when absent. Adding an id that exists with the same content and scope returns the
    /// existing memory (idempotent); with other content it is a conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<MemoryId>,
    /// Whose it is.
    pub scope: Scope,
    /// What sort it is (default `fact`).
    #[serde(default)]
    pub kind: Kind,
    /// The text; must not be empty.
    pub content: String,
    /// A JSON object.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// A precomputed embedding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Embedding>,
    /// Time to live, from now; exclusive with `expires_at`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "ttl_serde")]
    pub ttl: Option<Duration>,
    /// Absolute expiry; must be in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// Import only: the original creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Import only: the original update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Import only: the original version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

impl NewMemory {
    /// A new memory of `content` in `scope`.
    pub fn new(scope: Scope, content: impl Into<String>) -> Self {
        NewMemory {
            scope,
            content: content.into(),
            ..NewMemory::default()
        }
    }

    /// With this kind.
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    /// With this id.
    pub fn id(mut self, id: MemoryId) -> Self {
        self.id = Some(id);
        self
    }

    /// With one metadata entry added.
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// With this time to live.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// With this embedding.
    pub fn embedding(mut self, embedding: Embedding) -> Self {
        self.embedding = Some(embedding);
        self
    }

    /// The memory that re-adding `m` creates: every field kept, for import and migration.
    pub fn restore(m: Memory) -> Self {
        NewMemory {
            id: Some(m.id),
            scope: m.scope,
            kind: m.kind,
            content: m.content,
            metadata: m.metadata,
            embedding: m.embedding,
            ttl: None,
            expires_at: m.expires_at,
            created_at: Some(m.created_at),
            updated_at: Some(m.updated_at),
            version: Some(m.version),
        }
    }

    /// Turns this request into the memory to store at time `now` (after [`crate::Limits::check_new`]).
    pub fn into_memory(self, now: Timestamp) -> Memory {
        let created_at = self.created_at.unwrap_or(now);
        let expires_at = self.expires_at.or_else(|| self.ttl.map(|t| now.plus(t)));
        Memory {
            id: self.id.unwrap_or_else(new_id),
            content_hash: content_hash(&self.content),
            scope: self.scope,
            kind: self.kind,
            content: self.content,
            metadata: self.metadata,
            embedding: self.embedding,
            created_at,
            updated_at: self.updated_at.unwrap_or(created_at),
            expires_at,
            version: self.version.unwrap_or(1),
        }
    }
}

/// A change to a memory. Fields left `None` are kept.
///
/// ```
/// use memlane_core::Update;
/// let u = Update::default().content("Alice prefers green tea").expect_version(1);
/// assert_eq!(u.expected_version, Some(1));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Update {
    /// New content (the embedding is dropped, or recomputed by an embedding layer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// New metadata, replacing the old object whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// New kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// New expiry: `Some(None)` (JSON `null`) removes it, `Some(Some(t))` sets it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub expires_at: Option<Option<Timestamp>>,
    /// New time to live from now; exclusive with `expires_at`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "ttl_serde")]
    pub ttl: Option<Duration>,
    /// New embedding (only with unchanged or new content that it embeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Embedding>,
    /// Apply only if the stored version is this one; otherwise fail with a conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

impl Update {
    /// With new content.
    pub fn content(mut self, c: impl Into<String>) -> Self {
        self.content = Some(c.into());
        self
    }

    /// With new metadata.
    pub fn metadata(mut self, m: serde_json::Map<String, serde_json::Value>) -> Self {
        self.metadata = Some(m);
        self
    }

    /// Only if the stored version is `v`.
    pub fn expect_version(mut self, v: u64) -> Self {
        self.expected_version = Some(v);
        self
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.content.is_none()
            && self.metadata.is_none()
            && self.kind.is_none()
            && self.expires_at.is_none()
            && self.ttl.is_none()
            && self.embedding.is_none()
    }

    /// Applies this update to `m` at time `now`: the new state of the memory (version bumped, hash recomputed).
    /// Call [`crate::Limits::check_update`] first; the version check is the backend's, done atomically.
    pub fn apply(&self, m: &Memory, now: Timestamp) -> Memory {
        let mut next = m.clone();
        if let Some(c) = &self.content {
            if *c != m.content {
                next.content_hash = content_hash(c);
                next.content = c.clone();
                next.embedding = None;
            }
        }
        if let Some(meta) = &self.metadata {
            next.metadata = meta.clone();
        }
        if let Some(k) = self.kind {
            next.kind = k;
        }
        if let Some(e) = self.expires_at {
            next.expires_at = e;
        }
        if let Some(t) = self.ttl {
            next.expires_at = Some(now.plus(t));
        }
        if let Some(e) = &self.embedding {
            next.embedding = Some(e.clone());
        }
        next.version = m.version + 1;
        next.updated_at = now.max(m.updated_at);
        next
    }
}

mod ttl_serde {
    //! A TTL in JSON: a string like `"10m"` or a number of seconds.
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(&format_args!("{}ms", d.as_millis())),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Ttl {
            Secs(u64),
            Text(String),
        }
        match Option::<Ttl>::deserialize(d)? {
            None => Ok(None),
            Some(Ttl::Secs(0)) => Err(serde::de::Error::custom("ttl must be greater than zero")),
            Some(Ttl::Secs(n)) => Ok(Some(Duration::from_secs(n))),
            Some(Ttl::Text(t)) => crate::parse_ttl(&t)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

mod double_option {
    //! `Option<Option<T>>` where an absent field is `None` and `null` is `Some(None)`.
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}
