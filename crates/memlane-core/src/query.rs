//! Requests and results of `list`, `search` and `add`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::{Error, Filter, Memory, MemoryId, Scope, Timestamp};

/// The default `limit` of a list or search.
pub const DEFAULT_LIMIT: usize = 20;

/// A position in a listing: the last memory of the previous page (newest first: by `created_at`, then `id`, both
/// descending). Opaque to callers; in JSON and on the command line it is a short string.
///
/// ```
/// use memlane_core::{Cursor, Timestamp, new_id};
/// let c = Cursor { created_at: Timestamp::from_millis(5), id: new_id() };
/// assert_eq!(c.encode().parse::<Cursor>().unwrap(), c);
/// assert!("garbage".parse::<Cursor>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The `created_at` of the last memory returned.
    pub created_at: Timestamp,
    /// Its id.
    pub id: MemoryId,
}

impl Cursor {
    /// The cursor after `m`.
    pub fn after(m: &Memory) -> Self {
        Cursor {
            created_at: m.created_at,
            id: m.id,
        }
    }

    /// The opaque string form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "1:{}:{}",
            self.created_at.as_millis(),
            self.id.simple()
        ))
    }

    /// Whether a memory comes after this cursor in the newest-first order.
    pub fn precedes(&self, m: &Memory) -> bool {
        (m.created_at, m.id) < (self.created_at, self.id)
    }
}

impl std::str::FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::invalid("cursor", "not a cursor returned by list");
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let mut parts = raw.splitn(3, ':');
        if parts.next() != Some("1") {
            return Err(bad());
        }
        let ms = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let id = parts
            .next()
            .and_then(|p| MemoryId::parse_str(p).ok())
            .ok_or_else(bad)?;
        Ok(Cursor {
            created_at: Timestamp::from_millis(ms),
            id,
        })
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A listing request: memories in `scope` passing `filter`, newest first, a page at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Which memories.
    pub scope: Scope,
    /// Which of those.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Page size, 1 to the store's `max_limit`.
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// Continue after this position (from the previous [`Page::next`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// Whether the page's memories carry their embeddings (default true). Without them a page is lighter to
    /// fetch and to send: a 384-float vector outweighs most memories' text.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub embeddings: bool,
}

fn default_limit() -> usize {
    DEFAULT_LIMIT
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl ListQuery {
    /// The first page of `scope`.
    pub fn new(scope: Scope) -> Self {
        ListQuery {
            scope,
            filter: None,
            limit: DEFAULT_LIMIT,
            cursor: None,
            embeddings: true,
        }
    }

    /// Without the memories' embeddings (`embedding` is `None` in the page).
    ///
    /// ```
    /// let q = memlane_core::ListQuery::new(memlane_core::Scope::tenant("t")).without_embeddings();
    /// assert!(!q.embeddings);
    /// ```
    pub fn without_embeddings(mut self) -> Self {
        self.embeddings = false;
        self
    }

    /// With a filter.
    pub fn filter(mut self, f: Filter) -> Self {
        self.filter = Some(f);
        self
    }

    /// With a page size.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }

    /// After this cursor.
    pub fn cursor(mut self, c: Option<Cursor>) -> Self {
        self.cursor = c;
        self
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The memories, newest first.
    pub memories: Vec<Memory>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

impl Page {
    /// The page as `query` asked for it: without embeddings when it said so (for stores that read them anyway).
    pub fn shaped_for(mut self, query: &ListQuery) -> Self {
        if !query.embeddings {
            self.memories.iter_mut().for_each(|m| m.embedding = None);
        }
        self
    }

    /// A page from up to `limit + 1` memories fetched in order: the extra one only says there is more.
    pub fn from_overfetch(mut memories: Vec<Memory>, limit: usize) -> Self {
        let more = memories.len() > limit;
        memories.truncate(limit);
        let next = if more {
            memories.last().map(Cursor::after)
        } else {
            None
        };
        Page { memories, next }
    }
}

/// How a search ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// By words (BM25), score normalized to [0, 1].
    #[default]
    Keyword,
    /// By meaning: cosine similarity of embeddings.
    Semantic,
    /// Keyword and semantic fused, score in [0, 1].
    Hybrid,
}

impl std::str::FromStr for SearchMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "keyword" => Ok(SearchMode::Keyword),
            "semantic" => Ok(SearchMode::Semantic),
            "hybrid" => Ok(SearchMode::Hybrid),
            _ => Err(Error::invalid(
                "mode",
                format!("{s:?} is not a mode: use keyword, semantic or hybrid"),
            )),
        }
    }
}

impl std::fmt::Display for SearchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SearchMode::Keyword => "keyword",
            SearchMode::Semantic => "semantic",
            SearchMode::Hybrid => "hybrid",
        })
    }
}

/// A search request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Where to look.
    pub scope: Scope,
    /// What to look for.
    pub text: String,
    /// How to rank.
    #[serde(default)]
    pub mode: SearchMode,
    /// Which memories qualify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// How many results at most.
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// Drop results scoring below this, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f32>,
    /// The query's embedding, when the caller (or an embedding layer) computed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<crate::Embedding>,
}

impl SearchQuery {
    /// A keyword search for `text` in `scope`.
    pub fn new(scope: Scope, text: impl Into<String>) -> Self {
        SearchQuery {
            scope,
            text: text.into(),
            mode: SearchMode::Keyword,
            filter: None,
            limit: DEFAULT_LIMIT,
            min_score: None,
            embedding: None,
        }
    }

    /// With a mode.
    pub fn mode(mut self, mode: SearchMode) -> Self {
        self.mode = mode;
        self
    }

    /// With a filter.
    pub fn filter(mut self, f: Filter) -> Self {
        self.filter = Some(f);
        self
    }

    /// With a limit.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }

    /// With a score threshold.
    pub fn min_score(mut self, s: f32) -> Self {
        self.min_score = Some(s);
        self
    }

    /// Checks text, limit and threshold.
    pub fn validate(&self, limits: &crate::Limits) -> Result<(), Error> {
        self.scope.validate()?;
        if self.text.trim().is_empty() && self.embedding.is_none() {
            return Err(Error::invalid("text", "must not be empty"));
        }
        if self.text.len() > limits.max_content_bytes {
            return Err(Error::too_large(
                "text",
                self.text.len(),
                limits.max_content_bytes,
            ));
        }
        limits.check_limit(self.limit)?;
        if let Some(s) = self.min_score {
            if !(0.0..=1.0).contains(&s) {
                return Err(Error::invalid(
                    "min_score",
                    format!("must be between 0 and 1, got {s}"),
                ));
            }
        }
        Ok(())
    }
}

/// A search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The memory.
    pub memory: Memory,
    /// Its score in [0, 1], higher is better.
    pub score: f32,
}

/// Options of `add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddOptions {
    /// Return the existing memory instead of adding one whose content already exists, unexpired, in the same
    /// scope (same tenant, user, agent and session). Default: the store's setting.
    pub dedup: Option<bool>,
}

/// What `add` did with one memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Added {
    /// The stored memory (the existing one when not created).
    pub memory: Memory,
    /// `true` when it was stored now; `false` when the id or content already existed.
    pub created: bool,
}
