//! Listing: newest first, keyset pagination by cursor (also under concurrent inserts), limits, and scope matching.

use std::collections::HashSet;

use serde_json::json;

use super::support::{
    assert_newest_first, expect_err, filter, fresh_scope, ids, listed, put, put_all, sleep_ms,
    sort_newest_first,
};
use crate::{
    new_id, Cursor, ErrorKind, Kind, Memory, MemoryStore, NewMemory, Page, Scope, SearchQuery,
    Timestamp,
};

async fn page(
    store: &dyn MemoryStore,
    scope: &Scope,
    limit: usize,
    cursor: Option<Cursor>,
) -> Page {
    store
        .list(
            &crate::ListQuery::new(scope.clone())
                .limit(limit)
                .cursor(cursor),
        )
        .await
        .unwrap_or_else(|e| panic!("list limit {limit} cursor {cursor:?}: {e}"))
}

/// Reads every page of `limit`, checking each page's size and order; returns the memories in order.
async fn paginate(store: &dyn MemoryStore, q: crate::ListQuery) -> Vec<Memory> {
    let mut q = q;
    let mut all = Vec::new();
    for _ in 0..10_000 {
        let p = store.list(&q).await.expect("list a page");
        assert!(
            p.memories.len() <= q.limit,
            "a page holds at most limit memories"
        );
        if p.next.is_some() {
            assert_eq!(p.memories.len(), q.limit, "a page before the last is full");
        }
        all.extend(p.memories);
        match p.next {
            Some(c) => q.cursor = Some(c),
            None => return all,
        }
    }
    panic!("pagination did not end after 10000 pages")
}

/// Memories come newest first: `created_at` descending, then `id` descending; later batches first.
pub async fn list_newest_first(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let mut batches = Vec::new();
    for b in 0..3 {
        batches.push(
            put_all(
                store,
                (0..4)
                    .map(|i| NewMemory::new(scope.clone(), format!("batch {b} item {i}")))
                    .collect(),
            )
            .await,
        );
        sleep_ms(5).await;
    }
    let all = listed(store, &scope, None).await;
    assert_eq!(all.len(), 12);
    assert_newest_first(&all, "list");
    let mut expected: Vec<Memory> = batches.into_iter().rev().flatten().collect();
    // Within a batch the order is by (created_at, id) descending, whatever the insertion order.
    for chunk in expected.chunks_mut(4) {
        sort_newest_first(chunk);
    }
    assert_eq!(ids(&all), ids(&expected), "the newest batch comes first");
}

/// Paging 57 memories 10 at a time returns each exactly once, in order, in 6 pages; a page that reaches the end
/// has no cursor.
pub async fn list_pagination(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let mut made = Vec::new();
    for chunk in 0..3 {
        let n = if chunk == 2 { 17 } else { 20 };
        made.extend(
            put_all(
                store,
                (0..n)
                    .map(|i| {
                        NewMemory::new(scope.clone(), format!("page test {chunk}-{i}")).kind(
                            if i % 3 == 0 {
                                Kind::Message
                            } else {
                                Kind::Fact
                            },
                        )
                    })
                    .collect(),
            )
            .await,
        );
        sleep_ms(2).await;
    }
    sort_newest_first(&mut made);

    let mut pages = 0;
    let mut cursor = None;
    let mut seen = Vec::new();
    loop {
        let p = page(store, &scope, 10, cursor).await;
        pages += 1;
        assert_eq!(
            p.memories.len(),
            if pages == 6 { 7 } else { 10 },
            "page {pages} size"
        );
        seen.extend(p.memories);
        match p.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 6, "57 memories 10 at a time are 6 pages");
    }
    assert_eq!(pages, 6);
    assert_eq!(ids(&seen), ids(&made), "every memory once, newest first");

    assert!(
        page(store, &scope, 57, None).await.next.is_none(),
        "a page with everything has no next cursor"
    );
    let p = page(store, &scope, 56, None).await;
    assert_eq!(p.memories.len(), 56);
    assert!(
        p.next.is_some(),
        "a page short of everything has a next cursor"
    );
    let last = page(store, &scope, 10, p.next).await;
    assert_eq!(
        ids(&last.memories),
        vec![made[56].id],
        "the cursor continues right after the page"
    );
    assert!(last.next.is_none());

    // With a filter: the pages hold only matching memories.
    let f = filter(json!({"field": "kind", "eq": "message"}));
    let want: Vec<_> = made
        .iter()
        .filter(|m| m.kind == Kind::Message)
        .map(|m| m.id)
        .collect();
    let got = paginate(
        store,
        crate::ListQuery::new(scope.clone()).limit(3).filter(f),
    )
    .await;
    assert_eq!(ids(&got), want, "filtered pagination");
}

/// Paging while another task inserts: every memory that existed before is returned exactly once and in order, and
/// nothing is returned twice.
pub async fn list_pagination_during_inserts(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let mut before = put_all(
        store,
        (0..40)
            .map(|i| NewMemory::new(scope.clone(), format!("existing {i}")))
            .collect(),
    )
    .await;
    sort_newest_first(&mut before);
    sleep_ms(2).await;

    let reader = async {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let p = page(store, &scope, 7, cursor).await;
            seen.extend(p.memories);
            tokio::task::yield_now().await;
            sleep_ms(1).await;
            match p.next {
                Some(c) => cursor = Some(c),
                None => return seen,
            }
        }
    };
    let writer = async {
        for i in 0..30 {
            put(
                store,
                NewMemory::new(scope.clone(), format!("inserted during paging {i}")),
            )
            .await;
            tokio::task::yield_now().await;
        }
    };
    let (seen, ()) = tokio::join!(reader, writer);

    let mut unique = HashSet::new();
    for m in &seen {
        assert!(unique.insert(m.id), "memory {} was returned twice", m.id);
    }
    assert_newest_first(&seen, "pages read during inserts");
    let old: HashSet<_> = before.iter().map(|m| m.id).collect();
    let old_seen: Vec<_> = seen
        .iter()
        .filter(|m| old.contains(&m.id))
        .map(|m| m.id)
        .collect();
    assert_eq!(
        old_seen,
        ids(&before),
        "every earlier memory exactly once, in order, despite inserts"
    );
}

/// A cursor is a position, not a memory: one past the newest lists from the start, one before the oldest lists
/// nothing, one at a deleted memory continues after it. Garbage does not parse as a cursor.
pub async fn list_cursor_positions(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let mut ms = put_all(
        store,
        (0..5)
            .map(|i| NewMemory::new(scope.clone(), format!("c{i}")))
            .collect(),
    )
    .await;
    sort_newest_first(&mut ms);

    let future = Cursor {
        created_at: Timestamp::from_millis(ms[0].created_at.as_millis() + 60_000),
        id: new_id(),
    };
    assert_eq!(
        ids(&page(store, &scope, 10, Some(future)).await.memories),
        ids(&ms),
        "a cursor after everything"
    );
    let past = Cursor {
        created_at: Timestamp::from_millis(0),
        id: new_id(),
    };
    assert!(
        page(store, &scope, 10, Some(past))
            .await
            .memories
            .is_empty(),
        "a cursor before everything"
    );

    let at = Cursor::after(&ms[1]);
    store.delete(&scope.tenant, ms[1].id).await.expect("delete");
    let rest = page(store, &scope, 10, Some(at)).await;
    assert_eq!(
        ids(&rest.memories),
        ids(&ms[2..]),
        "a cursor at a deleted memory continues after it"
    );

    for garbage in ["", "garbage", "MTpub3RhbnVtYmVy", "eyJ4IjoxfQ"] {
        expect_err(
            garbage.parse::<Cursor>(),
            ErrorKind::InvalidInput,
            &format!("cursor {garbage:?}"),
        );
    }
}

/// A `limit` of 0 or over `max_limit` is invalid input, for list and (when offered) search; `max_limit` itself is
/// accepted.
pub async fn list_limit_bounds(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    put(store, NewMemory::new(scope.clone(), "limits of limits")).await;
    let max = store.capabilities().limits.max_limit;
    for bad in [0, max + 1] {
        expect_err(
            store
                .list(&crate::ListQuery::new(scope.clone()).limit(bad))
                .await,
            ErrorKind::InvalidInput,
            &format!("list with limit {bad}"),
        );
    }
    assert_eq!(
        page(store, &scope, max, None).await.memories.len(),
        1,
        "limit max_limit is fine"
    );
    let caps = store.capabilities();
    if caps.keyword_search {
        for bad in [0, max + 1] {
            expect_err(
                store
                    .search(&SearchQuery::new(scope.clone(), "limits").limit(bad))
                    .await,
                ErrorKind::InvalidInput,
                &format!("search with limit {bad}"),
            );
        }
    }
}

/// A query scope matches the memories whose fields equal every field it gives; fields it leaves out match
/// anything. `list`, `count` and (when offered) keyword search agree.
pub async fn scope_matching(store: &dyn MemoryStore) {
    let t = fresh_scope();
    let specs = [
        ("u1", t.clone().with_user("u1")),
        ("u1-a1", t.clone().with_user("u1").with_agent("a1")),
        (
            "u1-a1-s1",
            t.clone()
                .with_user("u1")
                .with_agent("a1")
                .with_session("s1"),
        ),
        ("u2-a1", t.clone().with_user("u2").with_agent("a1")),
        ("a2-s1", t.clone().with_agent("a2").with_session("s1")),
        ("tenant", t.clone()),
    ];
    for (label, scope) in &specs {
        put(
            store,
            NewMemory::new(scope.clone(), format!("scoped memory {label}")),
        )
        .await;
    }
    let cases: [(Scope, &[&str]); 8] = [
        (
            t.clone(),
            &["u1", "u1-a1", "u1-a1-s1", "u2-a1", "a2-s1", "tenant"],
        ),
        (t.clone().with_user("u1"), &["u1", "u1-a1", "u1-a1-s1"]),
        (t.clone().with_agent("a1"), &["u1-a1", "u1-a1-s1", "u2-a1"]),
        (t.clone().with_session("s1"), &["u1-a1-s1", "a2-s1"]),
        (t.clone().with_user("u2").with_agent("a1"), &["u2-a1"]),
        (t.clone().with_user("u1").with_session("s1"), &["u1-a1-s1"]),
        (t.clone().with_user("u3"), &[]),
        (t.clone().with_agent("a2").with_user("u1"), &[]),
    ];
    for (q, want) in cases {
        let mut want: Vec<String> = want.iter().map(|l| format!("scoped memory {l}")).collect();
        want.sort();
        let mut got: Vec<String> = listed(store, &q, None)
            .await
            .into_iter()
            .map(|m| m.content)
            .collect();
        got.sort();
        assert_eq!(got, want, "query scope {q:?}");
        if store.capabilities().keyword_search {
            let mut hits: Vec<String> = store
                .search(&SearchQuery::new(q.clone(), "scoped memory").limit(50))
                .await
                .expect("search")
                .into_iter()
                .map(|s| s.memory.content)
                .collect();
            hits.sort();
            assert_eq!(hits, want, "search in query scope {q:?}");
        }
    }
}

/// A listing asked `without_embeddings` answers the same memories, in the same order, without their embeddings;
/// the default listing carries them.
pub async fn list_without_embeddings(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let made = put_all(
        store,
        (0..3)
            .map(|i| {
                let mut m = NewMemory::new(scope.clone(), format!("embedded memory {i}"));
                m.embedding = Some(super::support::emb(&[1.0, i as f32, 0.5]));
                m
            })
            .collect(),
    )
    .await;
    let with = store
        .list(&crate::ListQuery::new(scope.clone()))
        .await
        .expect("list");
    assert_eq!(with.memories.len(), 3);
    for m in &with.memories {
        let stored = made
            .iter()
            .find(|x| x.id == m.id)
            .expect("a listed memory was added");
        assert_eq!(
            m.embedding, stored.embedding,
            "the default listing carries embeddings"
        );
    }
    let without = store
        .list(&crate::ListQuery::new(scope.clone()).without_embeddings())
        .await
        .expect("list without embeddings");
    assert_eq!(
        ids(&without.memories),
        ids(&with.memories),
        "same memories, same order"
    );
    for (a, b) in without.memories.iter().zip(&with.memories) {
        assert_eq!(a.embedding, None, "no embedding when not asked");
        assert_eq!(
            Memory {
                embedding: None,
                ..b.clone()
            },
            a.clone(),
            "everything else as listed with embeddings"
        );
    }
}
