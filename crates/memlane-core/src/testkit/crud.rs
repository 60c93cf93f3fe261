//! Create, read, update, delete: the basic life of a memory, and health.

use serde_json::json;

use super::support::{emb, expect_err, fresh_scope, listed, obj, put, put_all};
use crate::{
    content_hash, new_id, ErrorKind, Kind, MemoryStore, MemoryStoreExt, NewMemory, SearchQuery,
    Timestamp, Update,
};

/// Allowed difference between the suite's clock and the backend's, in milliseconds.
const CLOCK_SKEW_MS: i64 = 10_000;

/// A memory added with every field comes back from `get`, `get_many`, `list` and `count` exactly as `add` returned
/// it: id a UUIDv7, version 1, `content_hash` the sha256 of the content, `created_at == updated_at` near now.
pub async fn add_and_get(store: &dyn MemoryStore) {
    let scope = fresh_scope()
        .with_user("alice")
        .with_agent("helper")
        .with_session("s1");
    let new = NewMemory::new(scope.clone(), "Alice prefers dark mode")
        .kind(Kind::Procedure)
        .meta("source", "chat")
        .meta("confidence", 0.9)
        .meta("count", 3)
        .meta("nested", json!({"a": [1, "two", {"b": null}], "t": true}))
        .embedding(emb(&[0.1, -0.25, 0.3, 1e-7]));
    let before = Timestamp::now();
    let m = put(store, new.clone()).await;
    let after = Timestamp::now();

    assert_eq!(m.scope, scope, "scope kept");
    assert_eq!(m.kind, Kind::Procedure, "kind kept");
    assert_eq!(m.content, new.content, "content kept");
    assert_eq!(m.metadata, new.metadata, "metadata kept exactly");
    assert_eq!(m.embedding, new.embedding, "embedding kept exactly");
    assert_eq!(m.version, 1, "versions start at 1");
    assert_eq!(
        m.content_hash,
        content_hash(&m.content),
        "content_hash is sha256(content)"
    );
    assert_eq!(m.expires_at, None, "no expiry unless asked");
    assert_eq!(
        m.created_at, m.updated_at,
        "a new memory was last changed when created"
    );
    assert_eq!(
        m.id.get_version_num(),
        7,
        "new ids are UUIDv7, got {}",
        m.id
    );
    assert!(
        m.created_at.as_millis() >= before.as_millis() - CLOCK_SKEW_MS
            && m.created_at.as_millis() <= after.as_millis() + CLOCK_SKEW_MS,
        "created_at {} is not near now ({before} .. {after})",
        m.created_at
    );

    let tenant = &scope.tenant;
    let got = store.get(tenant, m.id).await.expect("get the added memory");
    assert_eq!(got, m, "get returns the memory exactly as add returned it");
    let many = store.get_many(tenant, &[m.id]).await.expect("get_many");
    assert_eq!(many, vec![m.clone()], "get_many returns it exactly");
    let all = listed(store, &crate::Scope::tenant(tenant.clone()), None).await;
    assert_eq!(all, vec![m.clone()], "list returns it exactly");

    expect_err(
        store.get(tenant, new_id()).await,
        ErrorKind::NotFound,
        "get of an unknown id",
    );

    // The helper with default options adds too.
    let other = store
        .add_one(NewMemory::new(
            scope.clone(),
            format!("another memory {}", new_id()),
        ))
        .await
        .expect("add_one");
    assert_eq!(
        store.get(tenant, other.id).await.expect("get").content,
        other.content
    );
}

/// A batch's results are in the batch's order, all `created: true` with distinct ids; re-adding the same memories
/// by id returns them unchanged with `created: false`.
pub async fn add_batch_order(store: &dyn MemoryStore) {
    let scope = fresh_scope().with_user("u");
    let names = ["first", "second", "third", "fourth", "fifth"];
    let batch: Vec<NewMemory> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            NewMemory::new(scope.clone(), *n)
                .kind(Kind::ALL[i % 4])
                .meta("i", i)
        })
        .collect();
    let added = store
        .add(batch, super::support::no_dedup())
        .await
        .expect("add a batch");
    assert_eq!(added.len(), names.len(), "one result per memory");
    for (a, n) in added.iter().zip(names) {
        assert_eq!(a.memory.content, n, "results are in the order of the batch");
        assert!(a.created, "{n}: new memories are created");
    }
    let mut ids: Vec<_> = added.iter().map(|a| a.memory.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), names.len(), "every memory gets its own id");
    for a in &added {
        let got = store.get(&scope.tenant, a.memory.id).await.expect("get");
        assert_eq!(got, a.memory, "stored as returned");
    }

    let again: Vec<NewMemory> = added
        .iter()
        .rev()
        .map(|a| NewMemory::new(scope.clone(), a.memory.content.clone()).id(a.memory.id))
        .collect();
    let re = store
        .add(again, super::support::no_dedup())
        .await
        .expect("re-add by id");
    for (r, a) in re.iter().zip(added.iter().rev()) {
        assert!(!r.created, "re-adding an existing id creates nothing");
        assert_eq!(
            r.memory, a.memory,
            "re-adding returns the existing memory unchanged"
        );
    }
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        names.len() as u64
    );
}

/// `get_many` returns the memories that exist, in the order asked, leaving out unknown ids.
pub async fn get_many_order(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let ms = put_all(
        store,
        (0..4)
            .map(|i| NewMemory::new(scope.clone(), format!("memory {i}")))
            .collect(),
    )
    .await;
    let t = &scope.tenant;
    let got = store
        .get_many(t, &[ms[2].id, new_id(), ms[0].id, ms[3].id])
        .await
        .expect("get_many");
    assert_eq!(
        got,
        vec![ms[2].clone(), ms[0].clone(), ms[3].clone()],
        "in the order of ids, unknown left out"
    );
    let none = store
        .get_many(t, &[new_id(), new_id()])
        .await
        .expect("get_many of unknown ids");
    assert!(none.is_empty(), "unknown ids give nothing, not an error");
    let empty = store.get_many(t, &[]).await.expect("get_many of no ids");
    assert!(empty.is_empty(), "no ids, no memories");
}

/// Each update bumps the version by one and changes only what it names; `get` sees the new state.
pub async fn update_fields(store: &dyn MemoryStore) {
    let scope = fresh_scope().with_user("alice");
    let t = scope.tenant.clone();
    let m = put(
        store,
        NewMemory::new(scope.clone(), "Alice likes tea")
            .meta("a", 1)
            .meta("b", "x")
            .embedding(emb(&[1.0, 0.0])),
    )
    .await;

    let u1 = store
        .update(&t, m.id, Update::default().content("Alice likes green tea"))
        .await
        .expect("update content");
    assert_eq!(u1.version, 2, "first update makes version 2");
    assert_eq!(u1.content, "Alice likes green tea");
    assert_eq!(
        u1.content_hash,
        content_hash("Alice likes green tea"),
        "hash follows the content"
    );
    assert_ne!(
        u1.embedding, m.embedding,
        "the old content's embedding is not kept for new content"
    );
    assert_eq!(
        (u1.id, u1.created_at, &u1.scope, u1.kind),
        (m.id, m.created_at, &m.scope, m.kind),
        "the rest is kept"
    );
    assert_eq!(u1.metadata, m.metadata, "metadata kept");
    assert!(u1.updated_at >= m.updated_at, "updated_at never goes back");
    assert_eq!(
        store.get(&t, m.id).await.expect("get"),
        u1,
        "get sees the update"
    );

    let meta = obj(json!({"c": [1, 2], "d": {"e": false}}));
    let u2 = store
        .update(&t, m.id, Update::default().metadata(meta.clone()))
        .await
        .expect("update metadata");
    assert_eq!(u2.version, 3);
    assert_eq!(u2.metadata, meta, "metadata is replaced whole");
    assert_eq!(u2.content, u1.content);

    let u3 = store
        .update(
            &t,
            m.id,
            Update {
                kind: Some(Kind::Episode),
                ..Update::default()
            },
        )
        .await
        .expect("update kind");
    assert_eq!((u3.version, u3.kind), (4, Kind::Episode));

    let e = emb(&[0.5, 0.5, -0.5]);
    let u4 = store
        .update(
            &t,
            m.id,
            Update {
                embedding: Some(e.clone()),
                ..Update::default()
            }
            .expect_version(4),
        )
        .await
        .expect("update embedding with the right expected version");
    assert_eq!((u4.version, u4.embedding.as_ref()), (5, Some(&e)));
    assert!(u4.updated_at >= u3.updated_at);
    assert_eq!(store.get(&t, m.id).await.expect("get"), u4);
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        1,
        "updates add nothing"
    );

    expect_err(
        store
            .update(&t, new_id(), Update::default().content("x"))
            .await,
        ErrorKind::NotFound,
        "update of an unknown id",
    );
}

/// An update whose `expected_version` is not the stored one fails with a conflict naming the stored version, and
/// changes nothing.
pub async fn update_version_conflict(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let t = scope.tenant.clone();
    let m = put(store, NewMemory::new(scope.clone(), "v1 content")).await;
    let m2 = store
        .update(
            &t,
            m.id,
            Update::default().content("v2 content").expect_version(1),
        )
        .await
        .expect("update with the right version");
    assert_eq!(m2.version, 2);
    for stale in [1, 3, 100] {
        let err = expect_err(
            store
                .update(
                    &t,
                    m.id,
                    Update::default()
                        .content("lost write")
                        .expect_version(stale),
                )
                .await,
            ErrorKind::Conflict,
            &format!("update expecting version {stale} of a version-2 memory"),
        );
        match err {
            crate::Error::Conflict {
                current_version, ..
            } => {
                assert_eq!(
                    current_version,
                    Some(2),
                    "a version conflict names the stored version"
                )
            }
            other => panic!("expected Error::Conflict, got {other:?}"),
        }
    }
    assert_eq!(
        store.get(&t, m.id).await.expect("get"),
        m2,
        "a failed update changes nothing"
    );
}

/// `delete` removes exactly one memory; deleting it again, or an unknown id, is not found.
pub async fn delete_memory(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let t = scope.tenant.clone();
    let ms = put_all(
        store,
        vec![
            NewMemory::new(scope.clone(), "keep me"),
            NewMemory::new(scope.clone(), "delete me"),
        ],
    )
    .await;
    store.delete(&t, ms[1].id).await.expect("delete");
    expect_err(
        store.get(&t, ms[1].id).await,
        ErrorKind::NotFound,
        "get after delete",
    );
    let many = store
        .get_many(&t, &[ms[0].id, ms[1].id])
        .await
        .expect("get_many");
    assert_eq!(
        many,
        vec![ms[0].clone()],
        "a deleted memory is gone from get_many"
    );
    assert_eq!(
        listed(store, &scope, None).await,
        vec![ms[0].clone()],
        "and from list"
    );
    expect_err(
        store.delete(&t, ms[1].id).await,
        ErrorKind::NotFound,
        "deleting twice",
    );
    expect_err(
        store.delete(&t, new_id()).await,
        ErrorKind::NotFound,
        "deleting an unknown id",
    );
    expect_err(
        store
            .update(&t, ms[1].id, Update::default().content("x"))
            .await,
        ErrorKind::NotFound,
        "updating a deleted memory",
    );
    assert_eq!(
        store.get(&t, ms[0].id).await.expect("the other memory"),
        ms[0],
        "untouched"
    );
}

/// `health` answers, and the capabilities are sane.
pub async fn health_ok(store: &dyn MemoryStore) {
    store.health().await.expect("health of a working store");
    assert!(!store.name().is_empty(), "a store has a name");
    let l = store.capabilities().limits;
    assert!(
        l.max_limit >= 1 && l.max_batch >= 1 && l.max_content_bytes >= 1,
        "limits are usable: {l:?}"
    );
}

/// Unicode content, metadata and scope names round-trip exactly through add, get, list and equality filters.
pub async fn unicode_round_trip(store: &dyn MemoryStore) {
    let scope = fresh_scope().with_user("Zoë").with_agent("エージェント");
    let texts = [
        "Café crème",
        "日本語のテキスト",
        "emoji 🦀🚀 and a flag 🇫🇷",
        "e\u{301} combining, and NFC é",
        "שלום עולם",
        "tab\tand\nnewline",
        "quotes \" ' \\ and % _ * ?",
    ];
    let batch = texts
        .iter()
        .map(|t| {
            NewMemory::new(scope.clone(), *t)
                .meta("ключ", *t)
                .meta("ü", json!(["ß", "🦀"]))
        })
        .collect();
    let ms = put_all(store, batch).await;
    for (m, text) in ms.iter().zip(texts) {
        assert_eq!(m.content, text, "content kept byte for byte");
        let got = store.get(&scope.tenant, m.id).await.expect("get");
        assert_eq!(&got, m, "{text:?} comes back exactly");
        let f = super::support::filter(json!({"field": "content", "eq": text}));
        let found = listed(store, &scope, Some(&f)).await;
        assert_eq!(
            found,
            vec![m.clone()],
            "content eq {text:?} finds exactly it"
        );
        let f = super::support::filter(json!({"field": "metadata.ключ", "eq": text}));
        assert_eq!(
            listed(store, &scope, Some(&f)).await,
            vec![m.clone()],
            "unicode metadata keys and values"
        );
    }
    let all = listed(store, &scope, None).await;
    assert_eq!(all.len(), texts.len());
    for m in &all {
        assert!(
            ms.contains(m),
            "listed memory {m:?} is one of those added, exactly"
        );
    }
    if store.capabilities().keyword_search {
        let hits = store
            .search(&SearchQuery::new(scope.clone(), "crème"))
            .await
            .expect("keyword search for an accented word");
        assert_eq!(
            hits.first().map(|h| h.memory.content.as_str()),
            Some("Café crème")
        );
    }
}
