//! The operations both sets of mem0 routes share, on the same store calls as `/v1`, answering mem0's shapes.

use axum::http::StatusCode;
use memlane::{
    AddOptions, Filter, Kind, ListQuery, Memory, MemoryId, NewMemory, Scope, SearchMode,
    SearchQuery, Timestamp, Update,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::item;
use crate::http::auth::Tenant;
use crate::http::dto::scope;
use crate::http::error::ApiError;
use crate::http::AppState;

/// The most memories one listing returns.
pub(crate) const MAX_LIST: usize = 1_000;
/// The default of a listing (mem0 lists every memory of a scope; memlane pages, up to this by default).
pub(crate) const DEFAULT_LIST: usize = 100;
/// The default number of search results (mem0's `top_k`).
pub(crate) const DEFAULT_TOP_K: usize = 20;
/// The page size of the store listings a mem0 listing is made of.
const PAGE: usize = 100;

/// One message of mem0's `messages`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Mem0InputMessage)]
pub(crate) struct Message {
    /// `user`, `assistant`, `system`, ...
    pub(crate) role: String,
    /// The text.
    pub(crate) content: String,
    /// The actor's name (mem0's `actor_id`).
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// The scope of `tenant` with mem0's ids.
pub(crate) fn mem0_scope(
    tenant: &Tenant,
    user_id: Option<String>,
    agent_id: Option<String>,
    run_id: Option<String>,
) -> Scope {
    scope(tenant, user_id, agent_id, run_id)
}

/// mem0's rule: adding, listing and deleting all need one of `user_id`, `agent_id`, `run_id`.
pub(crate) fn require_id(scope: &Scope) -> Result<(), ApiError> {
    if scope.is_whole_tenant() {
        return Err(ApiError::invalid(
            "user_id",
            "At least one identifier (user_id, agent_id, run_id) is required.",
        ));
    }
    Ok(())
}

/// mem0's `add` with `infer=False` (memlane has no LLM to extract facts): each non-system message becomes one
/// memory, as it is. `{"results": [{"id", "memory", "event": "ADD", "actor_id", "role"}]}`.
pub(crate) async fn add_messages(
    state: &AppState,
    scope: Scope,
    messages: Vec<Message>,
    metadata: Option<Map<String, Value>>,
    expires_at: Option<Timestamp>,
) -> Result<Vec<Value>, ApiError> {
    require_id(&scope)?;
    let metadata = metadata.unwrap_or_default();
    for k in metadata.keys() {
        if item::PROMOTED.iter().any(|(stored, _)| stored == k) {
            return Err(ApiError::invalid(
                format!("metadata.{k}"),
                format!("metadata.{k} is reserved: it holds mem0's own field"),
            ));
        }
    }
    let mut batch = Vec::new();
    let mut shown = Vec::new();
    for m in messages {
        if m.role == "system" {
            continue;
        }
        let mut meta = metadata.clone();
        meta.insert("mem0_role".into(), json!(m.role));
        if let Some(name) = &m.name {
            meta.insert("mem0_actor_id".into(), json!(name));
        }
        shown.push((m.role, m.name));
        batch.push(NewMemory {
            scope: scope.clone(),
            kind: Kind::Fact,
            content: m.content,
            metadata: meta,
            expires_at,
            ..NewMemory::default()
        });
    }
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let added = state
        .store()
        .add(batch, AddOptions { dedup: Some(false) })
        .await?;
    Ok(added
        .iter()
        .zip(shown)
        .map(|(a, (role, name))| {
            json!({
                "id": a.memory.id.to_string(),
                "memory": a.memory.content,
                "event": "ADD",
                "actor_id": name,
                "role": role,
            })
        })
        .collect())
}

/// One memory in mem0's shape; 404 when the tenant has none with this id.
pub(crate) async fn get(
    state: &AppState,
    tenant: &Tenant,
    id: MemoryId,
) -> Result<Memory, ApiError> {
    state
        .store()
        .get(tenant, id)
        .await
        .map_err(|e| match e.kind() {
            memlane::ErrorKind::NotFound => not_found(id),
            _ => ApiError::from(e),
        })
}

/// The 404 of a missing memory, in mem0's words.
fn not_found(id: MemoryId) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("Memory with id {id} not found"),
    )
}

/// Up to `limit` memories of `scope` passing `filter`, newest first, and whether there are more.
pub(crate) async fn list(
    state: &AppState,
    scope: Scope,
    filter: Option<Filter>,
    limit: usize,
) -> Result<(Vec<Memory>, bool), ApiError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = state
            .store()
            .list(&ListQuery {
                scope: scope.clone(),
                filter: filter.clone(),
                limit: PAGE.min(limit - out.len()).max(1),
                cursor,
                // mem0's items carry no vectors.
                embeddings: false,
            })
            .await?;
        out.extend(page.memories);
        cursor = page.next;
        if cursor.is_none() || out.len() >= limit {
            out.truncate(limit);
            return Ok((out, cursor.is_some()));
        }
    }
}

/// Checks a mem0 `limit`/`top_k`.
pub(crate) fn limit(field: &str, v: Option<usize>, default: usize) -> Result<usize, ApiError> {
    match v.unwrap_or(default) {
        0 => Err(ApiError::invalid(
            field,
            format!("{field} must be at least 1"),
        )),
        n if n > MAX_LIST => Err(ApiError::invalid(
            field,
            format!("{field} must be at most {MAX_LIST}"),
        )),
        n => Ok(n),
    }
}

/// mem0's search over the scope, best first, ranked as `[compat] search_mode` says (by default semantic when the
/// store embeds queries, else keyword: BM25 normalized to [0, 1]); `{"results": [item + score]}`.
pub(crate) async fn search(
    state: &AppState,
    scope: Scope,
    filter: Option<Filter>,
    text: String,
    limit: usize,
    threshold: Option<f32>,
) -> Result<Value, ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid("query", "the query is empty"));
    }
    let store = state.store();
    let mode = state.config.compat.search_mode.unwrap_or_else(|| {
        let caps = store.capabilities();
        if caps.embeds_text && caps.semantic_search {
            SearchMode::Semantic
        } else {
            SearchMode::Keyword
        }
    });
    let results = store
        .search(&SearchQuery {
            scope,
            text,
            mode,
            filter,
            limit,
            min_score: threshold,
            embedding: None,
        })
        .await?;
    let items: Vec<Value> = results
        .iter()
        .map(|s| item::scored(&s.memory, s.score))
        .collect();
    Ok(json!({ "results": items }))
}

/// What mem0's update may change.
#[derive(Debug, Default)]
pub(crate) struct Change {
    /// New text.
    pub(crate) text: Option<String>,
    /// New metadata (mem0's own fields in it are kept).
    pub(crate) metadata: Option<Map<String, Value>>,
    /// New `expiration_date`: `Some(None)` clears it.
    pub(crate) expiration_date: Option<Option<String>>,
}

/// mem0's update: new text, metadata or expiry; the stored version is checked (a concurrent change is a 409).
pub(crate) async fn update(
    state: &AppState,
    tenant: &Tenant,
    id: MemoryId,
    change: Change,
) -> Result<Memory, ApiError> {
    if change.text.is_none() && change.metadata.is_none() && change.expiration_date.is_none() {
        return Err(ApiError::invalid(
            "text",
            "At least one of text, metadata, or expiration_date must be provided.",
        ));
    }
    let current = get(state, tenant, id).await?;
    let metadata = match change.metadata {
        Some(mut m) => {
            for (stored, _) in item::PROMOTED {
                m.remove(*stored);
                if let Some(v) = current.metadata.get(*stored) {
                    m.insert((*stored).to_owned(), v.clone());
                }
            }
            Some(m)
        }
        None => None,
    };
    let expires_at = match change.expiration_date {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) => Some(Some(item::expires_at("expiration_date", &d)?)),
    };
    let update = Update {
        content: change.text,
        metadata,
        expires_at,
        expected_version: Some(current.version),
        ..Update::default()
    };
    Ok(state.store().update(tenant, id, update).await?)
}

/// Deletes one memory; 404 when missing.
pub(crate) async fn delete(
    state: &AppState,
    tenant: &Tenant,
    id: MemoryId,
) -> Result<(), ApiError> {
    state
        .store()
        .delete(tenant, id)
        .await
        .map_err(|e| match e.kind() {
            memlane::ErrorKind::NotFound => not_found(id),
            _ => ApiError::from(e),
        })
}

/// Deletes every memory of a scope that names a user, agent or run.
pub(crate) async fn forget(state: &AppState, scope: Scope) -> Result<u64, ApiError> {
    require_id(&scope)?;
    let deleted = state.store().forget(&scope).await?;
    tracing::info!(deleted, "forgot memories (mem0 compatibility route)");
    Ok(deleted)
}

/// The body of a `{"message": ...}` answer.
pub(crate) fn message(text: &str) -> Value {
    json!({ "message": text })
}
