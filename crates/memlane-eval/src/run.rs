//! Runs the protocol through memlane's public API: an embedded store in a temporary directory behind an
//! [`EmbeddingLayer`], one scope per conversation, every question a search in its conversation's scope.

use std::sync::Arc;
use std::time::{Duration, Instant};

use memlane::layers::EmbeddingLayer;
use memlane::{
    AddOptions, Embedder, Kind, MemoryStore, NewMemory, Result, Scope, SearchMode, SearchQuery,
};

use crate::locomo::{Conversation, Turn};
use crate::metrics::Outcome;

/// The tenant every conversation is loaded into.
pub const TENANT: &str = "locomo";
/// How many turns go into one `add` (and one embedding batch).
const BATCH: usize = 128;

/// A store loaded with conversations.
pub struct Loaded {
    _dir: tempfile::TempDir,
    store: EmbeddingLayer<Arc<dyn MemoryStore>>,
    /// How long loading took.
    pub load_time: Duration,
}

/// The outcomes of one mode, with the latency of each search.
#[derive(Debug, Clone, Default)]
pub struct ModeRun {
    /// One per question, in order.
    pub outcomes: Vec<Outcome>,
    /// The time of each search, embedding of the query included.
    pub latencies: Vec<Duration>,
}

/// The scope of a conversation.
pub fn scope(conv: &Conversation) -> Scope {
    Scope::tenant(TENANT).with_user(conv.name.clone())
}

/// The memory of a turn: content per the protocol, in its conversation's scope with the dialog session as
/// `session`, created at the session's date (plus one second per position, keeping the turns in order), with the
/// date and `dia_id` in metadata. The `dia_id` is read back only to score results.
pub fn memory(conv: &Conversation, t: &Turn) -> NewMemory {
    let mut m = NewMemory::new(
        scope(conv).with_session(format!("session_{}", t.session)),
        t.content(),
    )
    .kind(Kind::Message)
    .meta("dia_id", t.dia_id.clone())
    .meta("speaker", t.speaker.clone());
    if let Some(d) = &t.date_text {
        m = m.meta("session_date", d.clone());
    }
    if let Some(d) = t.date {
        let offset = i64::try_from(t.index).unwrap_or(0) * 1000;
        m.created_at = Some(memlane::Timestamp::from_millis(d.as_millis() + offset));
    }
    m
}

/// Opens a fresh embedded store with `embedder` and adds every turn of `convs`.
pub async fn load(convs: &[Conversation], embedder: Arc<dyn Embedder>) -> Result<Loaded> {
    let dir = tempfile::tempdir().map_err(|e| {
        memlane::Error::unavailable("eval", format!("no temporary directory: {e}"), None)
    })?;
    // The layer below is this run's embedder; the factory's own stays off.
    let url = format!("embedded://{}?embedder=none", dir.path().display());
    let store = EmbeddingLayer::new(memlane::open(&url).await?, embedder);
    let t = Instant::now();
    for conv in convs {
        for chunk in conv.turns.chunks(BATCH) {
            let batch = chunk.iter().map(|t| memory(conv, t)).collect();
            // No dedup: two turns with the same words are two turns.
            store.add(batch, AddOptions { dedup: Some(false) }).await?;
        }
    }
    Ok(Loaded {
        _dir: dir,
        store,
        load_time: t.elapsed(),
    })
}

impl Loaded {
    /// Runs every question of `convs` in `mode`, keeping the top 10.
    pub async fn run(&self, convs: &[Conversation], mode: SearchMode) -> Result<ModeRun> {
        let mut out = ModeRun::default();
        for conv in convs {
            for q in &conv.questions {
                let query = SearchQuery::new(scope(conv), q.text.clone())
                    .mode(mode)
                    .limit(10);
                let t = Instant::now();
                let hits = self.store.search(&query).await?;
                out.latencies.push(t.elapsed());
                let ranked: Vec<String> = hits
                    .iter()
                    .map(|h| {
                        h.memory
                            .metadata
                            .get("dia_id")
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                            .to_owned()
                    })
                    .collect();
                out.outcomes
                    .push(Outcome::score(q.category, &q.evidence, &ranked));
            }
        }
        Ok(out)
    }
}
