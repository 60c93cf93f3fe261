//! The tools: their definitions (name, description, input schema, hints) and what each one does.
//!
//! | tool | does | REST equivalent |
//! |---|---|---|
//! | `add` | stores a batch of memories, all or nothing | `POST /v1/memories` |
//! | `get` | one memory by id | `GET /v1/memories/{id}` |
//! | `update` | changes a memory (optionally only at an expected version) | `PATCH /v1/memories/{id}` |
//! | `delete` | deletes one memory | `DELETE /v1/memories/{id}` |
//! | `list` | a page of memories, newest first | `POST /v1/memories/list` |
//! | `search` | the best matches for a text | `POST /v1/search` |
//! | `count` | how many memories a scope holds | `POST /v1/count` |
//! | `forget` | deletes a user's, agent's or session's memories (or the tenant's) | `POST /v1/forget` |

use std::sync::{Arc, LazyLock};

use memlane::{AddOptions, Error, ListQuery, MemoryStore, SearchQuery, DEFAULT_LIMIT};
use rmcp::handler::server::common::{schema_for_empty_input, schema_for_input};
use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::params::{
    scope, AddArgs, CountArgs, ForgetArgs, IdArgs, ListArgs, SearchArgs, UpdateArgs,
};
use super::result::{self, memory};

/// Every tool, in the order `tools/list` gives them.
pub(crate) fn catalogue() -> &'static [Tool] {
    static TOOLS: LazyLock<Vec<Tool>> = LazyLock::new(|| {
        vec![
            tool::<AddArgs>(
                "add",
                "Store memories (facts about the user, what happened, how to do things, conversation turns) so \
                 they can be found later with search or list. All or nothing. Returns each stored memory with its \
                 id, and created=false when it was already stored.",
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(false)
                    .idempotent(false),
            ),
            tool::<IdArgs>(
                "get",
                "Get one memory by its id. A not_found error when there is none.",
                ToolAnnotations::new().read_only(true),
            ),
            tool::<UpdateArgs>(
                "update",
                "Change a memory's content, metadata, kind or expiry. The version goes up by one; with \
                 expected_version the update only happens if nobody changed the memory since (a conflict \
                 error with current_version otherwise). Returns the updated memory.",
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(true)
                    .idempotent(false),
            ),
            tool::<IdArgs>(
                "delete",
                "Delete one memory by its id. A not_found error when there is none.",
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(true)
                    .idempotent(true),
            ),
            tool::<ListArgs>(
                "list",
                "List memories, newest first, a page at a time, optionally narrowed to a user, agent or session \
                 and a filter. Returns {memories, next}: pass next as cursor to get the following page (null on \
                 the last page).",
                ToolAnnotations::new().read_only(true),
            ),
            tool::<SearchArgs>(
                "search",
                "Find the memories that best match a text, best first, each with a score in [0, 1]. Narrow with \
                 user, agent, session and a filter. Use this to recall what is known before answering.",
                ToolAnnotations::new().read_only(true),
            ),
            tool::<CountArgs>(
                "count",
                "Count the memories of a scope (the whole tenant, or a user, agent or session) that pass an \
                 optional filter.",
                ToolAnnotations::new().read_only(true),
            ),
            tool::<ForgetArgs>(
                "forget",
                "Delete every memory of a user, agent or session (the memories whose scope has all the given \
                 fields). To delete the whole tenant give no scope field and all=true. Returns how many were \
                 deleted.",
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(true)
                    .idempotent(true),
            ),
        ]
    });
    &TOOLS
}

/// A tool whose arguments are `T`.
fn tool<T: JsonSchema + 'static>(
    name: &'static str,
    description: &'static str,
    hints: ToolAnnotations,
) -> Tool {
    let schema = schema_for_input::<T>().unwrap_or_else(|e| {
        tracing::error!(tool = name, error = %e, "a tool's input schema is not an object");
        schema_for_empty_input()
    });
    Tool::new(name, description, schema).with_annotations(hints)
}

/// Runs the tool `name` for `tenant`; `None` when there is no such tool.
pub(crate) async fn call(
    store: &Arc<dyn MemoryStore>,
    tenant: &str,
    name: &str,
    args: JsonObject,
) -> Option<CallToolResult> {
    let outcome = match name {
        "add" => add(store, tenant, args).await,
        "get" => get(store, tenant, args).await,
        "update" => update(store, tenant, args).await,
        "delete" => delete(store, tenant, args).await,
        "list" => list(store, tenant, args).await,
        "search" => search(store, tenant, args).await,
        "count" => count(store, tenant, args).await,
        "forget" => forget(store, tenant, args).await,
        _ => return None,
    };
    Some(match outcome {
        Ok(value) => result::success(value),
        Err(e) => result::error(&e),
    })
}

/// Decodes a tool's arguments; an error names the offending argument (`memories[0].kind`).
fn decode<T: DeserializeOwned>(args: JsonObject) -> Result<T, Error> {
    serde_path_to_error::deserialize(Value::Object(args)).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "arguments".to_owned()
        } else {
            path
        };
        Error::invalid(field, e.into_inner().to_string())
    })
}

async fn add(store: &Arc<dyn MemoryStore>, tenant: &str, args: JsonObject) -> Result<Value, Error> {
    let args: AddArgs = decode(args)?;
    let batch = args
        .memories
        .into_iter()
        .map(|m| m.into_new(tenant))
        .collect();
    let added = store.add(batch, AddOptions { dedup: args.dedup }).await?;
    let results: Vec<Value> = added
        .into_iter()
        .map(|a| json!({"memory": memory(a.memory), "created": a.created}))
        .collect();
    Ok(json!({ "results": results }))
}

async fn get(store: &Arc<dyn MemoryStore>, tenant: &str, args: JsonObject) -> Result<Value, Error> {
    let args: IdArgs = decode(args)?;
    Ok(memory(store.get(tenant, args.id).await?))
}

async fn update(
    store: &Arc<dyn MemoryStore>,
    tenant: &str,
    args: JsonObject,
) -> Result<Value, Error> {
    let (id, update) = decode::<UpdateArgs>(args)?.into_update();
    Ok(memory(store.update(tenant, id, update).await?))
}

async fn delete(
    store: &Arc<dyn MemoryStore>,
    tenant: &str,
    args: JsonObject,
) -> Result<Value, Error> {
    let args: IdArgs = decode(args)?;
    store.delete(tenant, args.id).await?;
    Ok(json!({"deleted": true, "id": args.id}))
}

async fn list(
    store: &Arc<dyn MemoryStore>,
    tenant: &str,
    args: JsonObject,
) -> Result<Value, Error> {
    let args: ListArgs = decode(args)?;
    let query = ListQuery {
        scope: scope(tenant, args.user, args.agent, args.session),
        filter: args.filter,
        limit: args.limit.unwrap_or(DEFAULT_LIMIT),
        cursor: args.cursor,
        embeddings: true,
    };
    let page = store.list(&query).await?;
    let memories: Vec<Value> = page.memories.into_iter().map(memory).collect();
    Ok(json!({"memories": memories, "next": page.next.map(|c| c.encode())}))
}

async fn search(
    store: &Arc<dyn MemoryStore>,
    tenant: &str,
    args: JsonObject,
) -> Result<Value, Error> {
    let args: SearchArgs = decode(args)?;
    let query = SearchQuery {
        scope: scope(tenant, args.user, args.agent, args.session),
        text: args.text,
        mode: args.mode,
        filter: args.filter,
        limit: args.limit.unwrap_or(DEFAULT_LIMIT),
        min_score: args.min_score,
        embedding: None,
    };
    let results: Vec<Value> = store
        .search(&query)
        .await?
        .into_iter()
        .map(|s| json!({"memory": memory(s.memory), "score": s.score}))
        .collect();
    Ok(json!({ "results": results }))
}

async fn count(
    store: &Arc<dyn MemoryStore>,
    tenant: &str,
    args: JsonObject,
) -> Result<Value, Error> {
    let args: CountArgs = decode(args)?;
    let scope = scope(tenant, args.user, args.agent, args.session);
    let n = store.count(&scope, args.filter.as_ref()).await?;
    Ok(json!({ "count": n }))
}

async fn forget(
    store: &Arc<dyn MemoryStore>,
    tenant: &str,
    args: JsonObject,
) -> Result<Value, Error> {
    let args: ForgetArgs = decode(args)?;
    let scope = scope(tenant, args.user, args.agent, args.session);
    match (scope.is_whole_tenant(), args.all) {
        (true, false) => {
            return Err(Error::invalid(
                "all",
                "this would forget every memory of the tenant: give user, agent or session, \
                 or set all=true to forget them all",
            ))
        }
        (false, true) => {
            return Err(Error::invalid(
                "all",
                "give either all=true or scope fields (user, agent, session), not both",
            ))
        }
        _ => {}
    }
    let deleted = store.forget(&scope).await?;
    tracing::info!(deleted, whole_tenant = args.all, "forgot memories (MCP)");
    Ok(json!({ "deleted": deleted }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_an_object_with_descriptions() {
        let tools = catalogue();
        assert_eq!(tools.len(), 8);
        for t in tools {
            let schema = Value::Object((*t.input_schema).clone());
            assert_eq!(schema["type"], "object", "{}", t.name);
            for (name, prop) in schema["properties"].as_object().expect("properties") {
                let described = prop.get("description").is_some()
                    || prop.get("$ref").is_some()
                    || prop.get("items").is_some();
                assert!(described, "{}.{name} has no description: {prop}", t.name);
            }
        }
        let add = &catalogue()[0];
        let schema = Value::Object((*add.input_schema).clone());
        assert_eq!(schema["required"], json!(["memories"]));
    }

    #[tokio::test]
    async fn arguments_errors_name_the_argument() {
        let e = decode::<AddArgs>(
            json!({"memories": [{"content": "x", "kind": "fakt"}]})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect_err("bad kind");
        match e {
            Error::InvalidInput { field, .. } => assert_eq!(field, "memories[0].kind"),
            other => panic!("{other:?}"),
        }
    }
}
