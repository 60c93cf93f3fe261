//! Embedded-store schema upgrades and dedup across handles: a store written by an older build (schema version 2,
//! with the FTS5 table, its triggers and the content-hash index) opens, is upgraded in place and keeps every
//! memory findable and deduplicated; dedup sees memories another handle (as another process would) added.

use memlane::embedded::{EmbeddedConfig, EmbeddedStore, DB_FILE};
use memlane::{AddOptions, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchQuery};

fn dedup() -> AddOptions {
    AddOptions { dedup: Some(true) }
}

/// The objects of the schema that version 3 dropped, as versions 1 and 2 created them.
const OLD_OBJECTS: &str = r#"
CREATE VIRTUAL TABLE memories_fts USING fts5(
    content, content='memories', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
END;
CREATE TRIGGER memories_au AFTER UPDATE OF content ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO memories_fts(rowid, content) VALUES (new.rowid, new.content);
END;
CREATE INDEX memories_hash ON memories (tenant, content_hash);
PRAGMA user_version = 2;
"#;

fn schema_objects(dir: &std::path::Path) -> (i64, Vec<String>) {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("raw open");
    let version = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE name LIKE 'memories%' ORDER BY name")
        .expect("prepare");
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("names");
    (version, names)
}

#[tokio::test]
async fn a_version_2_store_is_upgraded_in_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scope = Scope::tenant("t").with_user("u");
    let first = {
        let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
            .await
            .expect("open");
        store
            .add_one(NewMemory::new(scope.clone(), "The build server is ci-3"))
            .await
            .expect("add")
    };
    // Put the store back to what an older build left: version 2 with the FTS table, triggers and hash index,
    // and a row written through those triggers.
    {
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("raw open");
        conn.execute_batch(OLD_OBJECTS).expect("old schema");
        conn.execute_batch(
            "INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');
             INSERT INTO memories (id, tenant, user_id, kind, content, metadata, created_ms, updated_ms, version, \
             content_hash) SELECT '0190f0f0-0000-7000-8000-000000000001', tenant, user_id, kind, \
             'Deploys run on Fridays', '{}', created_ms, updated_ms, 1, 'not-a-real-hash' FROM memories;",
        )
        .expect("old rows");
        let (version, names) = schema_objects(dir.path());
        assert_eq!(version, 2);
        assert!(names.iter().any(|n| n == "memories_fts"));
        assert!(names.iter().any(|n| n == "memories_hash"));
    }

    let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
        .await
        .expect("open the old store");
    let (version, names) = schema_objects(dir.path());
    assert_eq!(version, 3, "the store is upgraded");
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("memories_fts") || n == "memories_hash"),
        "the FTS table, its shadow tables and the hash index are gone: {names:?}"
    );
    assert_eq!(store.get("t", first.id).await.expect("get"), first);
    assert_eq!(store.count(&scope, None).await.expect("count"), 2);
    let hits = store
        .search(&SearchQuery::new(scope.clone(), "friday deploys"))
        .await
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].memory.content, "Deploys run on Fridays");

    let again = store
        .add(
            vec![NewMemory::new(scope.clone(), "The build server is ci-3")],
            dedup(),
        )
        .await
        .expect("add a duplicate");
    assert!(
        !again[0].created,
        "a memory stored before the upgrade dedups"
    );
    assert_eq!(again[0].memory.id, first.id);
    // Writes and deletes work without the triggers.
    store.delete("t", first.id).await.expect("delete");
    assert_eq!(store.count(&scope, None).await.expect("count"), 1);
}

#[tokio::test]
async fn dedup_sees_what_another_handle_added() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scope = Scope::tenant("t").with_session("s");
    let a = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
        .await
        .expect("open a");
    // A second handle on the same directory has its own connections and RAM indexes, as another process would.
    let b = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
        .await
        .expect("open b");
    let from_b = b
        .add(vec![NewMemory::new(scope.clone(), "written by b")], dedup())
        .await
        .expect("add through b");
    let from_a = a
        .add(vec![NewMemory::new(scope.clone(), "written by b")], dedup())
        .await
        .expect("add through a");
    assert!(!from_a[0].created, "a finds b's memory");
    assert_eq!(from_a[0].memory, from_b[0].memory);

    // b deletes it; a must not return the deleted memory as the original.
    b.delete("t", from_b[0].memory.id).await.expect("delete");
    let after = a
        .add(vec![NewMemory::new(scope.clone(), "written by b")], dedup())
        .await
        .expect("add after delete");
    assert!(after[0].created, "the deleted original does not count");
}

#[tokio::test]
async fn dedup_follows_updates_and_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
        .await
        .expect("open");
    let scope = Scope::tenant("t");
    let m = store
        .add_one(NewMemory::new(scope.clone(), "before"))
        .await
        .expect("add");
    store
        .update("t", m.id, memlane::Update::default().content("after"))
        .await
        .expect("update");
    let batch = vec![
        NewMemory::new(scope.clone(), "before"),
        NewMemory::new(scope.clone(), "after"),
        NewMemory::new(scope.clone(), "new"),
        NewMemory::new(scope.clone(), "new"),
    ];
    let added = store.add(batch, dedup()).await.expect("add batch");
    let created: Vec<bool> = added.iter().map(|a| a.created).collect();
    assert_eq!(
        created,
        [true, false, true, false],
        "old content is free again, new content dedups, and so does a repeat within the batch"
    );
    assert_eq!(added[1].memory.id, m.id);
    assert_eq!(added[3].memory.id, added[2].memory.id);
    assert_eq!(store.count(&scope, None).await.expect("count"), 3);
}
