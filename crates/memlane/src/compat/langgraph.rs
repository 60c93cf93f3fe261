//! LangGraph's PostgreSQL store (`langgraph.store.postgres.PostgresStore`), read straight from its table.
//!
//! LangGraph keeps each item as a row of the table `store`: `prefix` (the namespace tuple joined with `.`), `key`,
//! `value` (JSON), `created_at`, `updated_at` and, in versions with TTL support, `expires_at`. The importer
//! connects to that database (the same `postgres://` URL LangGraph uses, optionally naming another table with
//! `table=schema.name`), reads every row, and maps it:
//!
//! | LangGraph | memlane |
//! |---|---|
//! | `value.content` (or `text`, `memory`, `data`), when a string | `content`; the other keys of `value` go to `metadata` |
//! | any other `value` | `content` is the value's JSON text |
//! | `prefix` | `metadata.langgraph_namespace` (the namespace as an array) |
//! | `key` | `metadata.langgraph_key`; the memlane `id` is derived from namespace and key (stable across imports) |
//! | a namespace element after `users`/`user` | `scope.user` (likewise `agents`/`agent` → `scope.agent`, `sessions`/`threads`/`session`/`thread` → `scope.session`) |
//! | `created_at`, `updated_at`, `expires_at` | the same (rows already expired are left out and counted) |
//!
//! Every memory is a `fact`, in the importing tenant. Rows whose namespace or key cannot be a memlane name are
//! reported.

use memlane_core::{Error, Kind, NewMemory, Result, Scope, Timestamp};
use serde_json::{Map, Value};
use tokio_postgres::NoTls;

use super::{derived_id, Parsed};

/// The format's name.
pub const FORMAT: &str = "langgraph";

/// The table LangGraph's PostgreSQL store writes.
pub const DEFAULT_TABLE: &str = "store";

/// Whether `name` is a plain SQL identifier, optionally schema-qualified (`store`, `lg.store`).
fn valid_table(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 63
            && p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    (1..=2).contains(&parts.len()) && parts.iter().all(|p| part(p))
}

/// Reads every item of LangGraph's store at `url` into memories of `tenant`. The URL may end with
/// `?table=NAME` (default `store`); the password it carries is never logged.
pub async fn read(url: &str, tenant: &str) -> Result<Parsed> {
    let (url, table) = match url.split_once("?table=") {
        Some((u, t)) => (u.to_owned(), t.to_owned()),
        None => (url.to_owned(), DEFAULT_TABLE.to_owned()),
    };
    if !valid_table(&table) {
        return Err(Error::invalid(
            "table",
            format!("{table:?} is not a table name (letters, digits, _; optionally schema.table)"),
        ));
    }
    let quoted: Vec<String> = table.split('.').map(|p| format!("\"{p}\"")).collect();
    let table = quoted.join(".");
    let (client, conn) = tokio_postgres::connect(&url, NoTls).await.map_err(|e| {
        Error::unavailable(
            FORMAT,
            format!("cannot connect to LangGraph's database: {e}"),
            Some(Box::new(e)),
        )
    })?;
    let task = tokio::spawn(conn);
    let ms = |c: &str| format!("(extract(epoch FROM {c}) * 1000)::bigint");
    let with_expiry = format!(
        "SELECT prefix, key, value, {}, {}, {} FROM {table} ORDER BY prefix, key",
        ms("created_at"),
        ms("updated_at"),
        ms("expires_at")
    );
    let rows = match client.query(&with_expiry, &[]).await {
        Ok(rows) => rows,
        // LangGraph versions before TTL support have no expires_at column.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_COLUMN) => {
            let sql = format!(
                "SELECT prefix, key, value, {}, {}, NULL::bigint FROM {table} ORDER BY prefix, key",
                ms("created_at"),
                ms("updated_at")
            );
            client.query(&sql, &[]).await.map_err(query_err)?
        }
        Err(e) => return Err(query_err(e)),
    };
    task.abort();
    let now = Timestamp::now();
    let mut out = Parsed::default();
    for row in rows {
        let get = || -> std::result::Result<Item, tokio_postgres::Error> {
            Ok(Item {
                prefix: row.try_get(0)?,
                key: row.try_get(1)?,
                value: row.try_get(2)?,
                created: row.try_get(3)?,
                updated: row.try_get(4)?,
                expires: row.try_get(5)?,
            })
        };
        match get() {
            Ok(item) => map(&mut out, item, tenant, now),
            Err(e) => out.problem("a store row", format!("unreadable: {e}")),
        }
    }
    Ok(out)
}

fn query_err(e: tokio_postgres::Error) -> Error {
    Error::invalid(
        "source",
        format!("cannot read LangGraph's store table (is this LangGraph's database?): {e}"),
    )
}

/// One row of LangGraph's store.
#[derive(Debug, Clone)]
pub struct Item {
    /// The namespace, joined with `.`.
    pub prefix: String,
    /// The key within it.
    pub key: String,
    /// The JSON value.
    pub value: Value,
    /// Creation time, ms since the epoch.
    pub created: Option<i64>,
    /// Update time.
    pub updated: Option<i64>,
    /// Expiry time.
    pub expires: Option<i64>,
}

/// Maps one row (see the module docs).
pub fn map(out: &mut Parsed, item: Item, tenant: &str, now: Timestamp) {
    let at = format!("store row prefix={:?} key={:?}", item.prefix, item.key);
    if let Some(e) = item.expires.map(Timestamp::from_millis) {
        if e <= now {
            out.expired += 1;
            return;
        }
    }
    let namespace: Vec<&str> = item.prefix.split('.').collect();
    let after = |names: &[&str]| -> Option<String> {
        namespace
            .windows(2)
            .find(|w| names.contains(&w[0].to_ascii_lowercase().as_str()))
            .map(|w| w[1].to_owned())
    };
    let scope = Scope {
        tenant: tenant.to_owned(),
        user: after(&["users", "user"]),
        agent: after(&["agents", "agent"]),
        session: after(&["sessions", "session", "threads", "thread"]),
    };
    if let Err(e) = scope.validate() {
        return out.problem(at, e.to_string());
    }
    let mut metadata = Map::new();
    let content = match item.value {
        Value::Object(mut o) => {
            let key = ["content", "text", "memory", "data"]
                .into_iter()
                .find(|k| o.get(*k).is_some_and(Value::is_string));
            match key.and_then(|k| o.remove(k)) {
                Some(Value::String(s)) => {
                    metadata = o;
                    s
                }
                _ => Value::Object(o).to_string(),
            }
        }
        Value::String(s) => s,
        other => other.to_string(),
    };
    if content.trim().is_empty() {
        return out.problem(at, "the value has no text");
    }
    metadata.insert(
        "langgraph_namespace".into(),
        Value::Array(
            namespace
                .iter()
                .map(|s| Value::String((*s).to_owned()))
                .collect(),
        ),
    );
    metadata.insert("langgraph_key".into(), Value::String(item.key.clone()));
    let mut m = NewMemory::new(scope, content).kind(Kind::Fact);
    m.id = Some(derived_id(
        FORMAT,
        &format!("{}\u{1}{}", item.prefix, item.key),
    ));
    m.metadata = metadata;
    m.created_at = item.created.map(Timestamp::from_millis);
    m.updated_at = match (m.created_at, item.updated.map(Timestamp::from_millis)) {
        (Some(c), Some(u)) => Some(u.max(c)),
        (_, u) => u,
    };
    m.expires_at = item.expires.map(Timestamp::from_millis);
    out.memories.push(m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(prefix: &str, value: Value, expires: Option<i64>) -> Item {
        Item {
            prefix: prefix.into(),
            key: "k1".into(),
            value,
            created: Some(1_000),
            updated: Some(2_000),
            expires,
        }
    }

    #[test]
    fn maps_namespaces_values_and_expiry() {
        let mut out = Parsed::default();
        let now = Timestamp::from_millis(5_000);
        map(
            &mut out,
            item(
                "memories.users.alice",
                json!({"content": "likes tea", "tags": ["a"]}),
                None,
            ),
            "t",
            now,
        );
        map(
            &mut out,
            item("prefs", json!({"theme": "dark"}), Some(9_000)),
            "t",
            now,
        );
        map(&mut out, item("old", json!("gone"), Some(4_000)), "t", now);
        map(
            &mut out,
            item("x", json!({"content": "  "}), None),
            "t",
            now,
        );
        assert_eq!(out.memories.len(), 2);
        let a = &out.memories[0];
        assert_eq!(a.content, "likes tea");
        assert_eq!(a.scope.user.as_deref(), Some("alice"));
        assert_eq!(a.metadata["tags"], json!(["a"]));
        assert_eq!(
            a.metadata["langgraph_namespace"],
            json!(["memories", "users", "alice"])
        );
        let b = &out.memories[1];
        assert_eq!(b.content, r#"{"theme":"dark"}"#);
        assert_eq!(b.expires_at, Some(Timestamp::from_millis(9_000)));
        assert_eq!(out.expired, 1);
        assert_eq!(out.problems.len(), 1);
        assert!(valid_table("lg.store") && !valid_table("store; drop") && !valid_table("a.b.c"));
    }
}
