//! Tenants are isolated namespaces; `forget` removes exactly a scope.

use serde_json::json;

use super::support::{emb, expect_err, filter, fresh_scope, listed, no_dedup, put};
use crate::{ErrorKind, Filter, MemoryStore, NewMemory, Scope, SearchMode, SearchQuery, Update};

/// A memory of tenant A is invisible and untouchable from tenant B by every operation (get, get_many, list, count,
/// search, update, delete, forget); B may even reuse its id for its own memory. `tenant` is not a filter field.
pub async fn tenant_isolation(store: &dyn MemoryStore) {
    let a = fresh_scope();
    let b = fresh_scope();
    let (ta, tb) = (a.tenant.clone(), b.tenant.clone());
    let m = put(
        store,
        NewMemory::new(a.clone().with_user("alice"), "secret of tenant A")
            .meta("tenant", tb.clone())
            .embedding(emb(&[1.0, 0.0, 0.0])),
    )
    .await;

    expect_err(
        store.get(&tb, m.id).await,
        ErrorKind::NotFound,
        "get from another tenant",
    );
    assert!(
        store
            .get_many(&tb, &[m.id])
            .await
            .expect("get_many")
            .is_empty(),
        "get_many from another tenant"
    );
    for scope in [b.clone(), b.clone().with_user("alice")] {
        assert!(
            listed(store, &scope, None).await.is_empty(),
            "list from another tenant"
        );
        let f = filter(json!({"field": "metadata.tenant", "eq": tb}));
        assert!(
            listed(store, &scope, Some(&f)).await.is_empty(),
            "metadata named tenant is just metadata"
        );
    }
    let caps = store.capabilities();
    if caps.keyword_search {
        let hits = store
            .search(&SearchQuery::new(b.clone(), "secret tenant"))
            .await
            .expect("search");
        assert!(
            hits.is_empty(),
            "keyword search from another tenant finds nothing"
        );
    }
    if caps.semantic_search {
        let mut q = SearchQuery::new(b.clone(), "secret").mode(SearchMode::Semantic);
        q.embedding = Some(emb(&[1.0, 0.0, 0.0]));
        assert!(
            store.search(&q).await.expect("semantic search").is_empty(),
            "semantic search from another tenant"
        );
    }
    expect_err(
        store
            .update(&tb, m.id, Update::default().content("overwritten"))
            .await,
        ErrorKind::NotFound,
        "update from another tenant",
    );
    expect_err(
        store.delete(&tb, m.id).await,
        ErrorKind::NotFound,
        "delete from another tenant",
    );
    assert_eq!(
        store.forget(&b).await.expect("forget tenant B"),
        0,
        "forgetting B forgets nothing of A"
    );
    assert_eq!(
        store
            .forget(&b.clone().with_user("alice"))
            .await
            .expect("forget B's alice"),
        0,
        "a user of the same name in B is another user"
    );

    // B can reuse the id: ids are per tenant.
    let reuse = store
        .add(
            vec![NewMemory::new(b.clone(), "B's own memory").id(m.id)],
            no_dedup(),
        )
        .await
        .expect("B adds a memory with A's id");
    assert!(
        reuse[0].created,
        "the same id in another tenant is another memory"
    );
    assert_eq!(reuse[0].memory.scope.tenant, tb);
    assert_eq!(
        store.get(&tb, m.id).await.expect("B's memory").content,
        "B's own memory"
    );
    assert_eq!(
        store.get(&ta, m.id).await.expect("A's memory"),
        m,
        "A's memory is untouched by all of it"
    );
    assert_eq!(store.count(&a, None).await.expect("count A"), 1);
    assert_eq!(store.count(&b, None).await.expect("count B"), 1);

    expect_err(
        Filter::parse(&json!({"field": "tenant", "eq": ta})),
        ErrorKind::InvalidInput,
        "a filter on tenant",
    );
}

/// `forget` deletes exactly the memories its scope matches and returns how many: a user's, a session's, a user's
/// session, a whole tenant.
pub async fn forget_scopes(store: &dyn MemoryStore) {
    let t = fresh_scope();
    let alice_s1 = t.clone().with_user("alice").with_session("s1");
    let specs = [
        ("alice s1 one", alice_s1.clone()),
        ("alice s1 two", alice_s1.clone().with_agent("bot")),
        ("alice s2", t.clone().with_user("alice").with_session("s2")),
        ("alice", t.clone().with_user("alice")),
        ("bob s1", t.clone().with_user("bob").with_session("s1")),
        ("bob", t.clone().with_user("bob")),
        ("nobody", t.clone()),
    ];
    for (label, scope) in &specs {
        put(store, NewMemory::new(scope.clone(), *label)).await;
    }
    let remaining = |want: &'static [&'static str]| {
        let t = t.clone();
        async move {
            let mut got: Vec<String> = listed(store, &t, None)
                .await
                .into_iter()
                .map(|m| m.content)
                .collect();
            got.sort();
            let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
            want.sort();
            assert_eq!(got, want, "memories left after forget");
        }
    };
    let forget = |scope: Scope| async move { store.forget(&scope).await.expect("forget") };

    assert_eq!(
        forget(t.clone().with_user("carol")).await,
        0,
        "an unknown user has nothing to forget"
    );
    assert_eq!(forget(alice_s1.clone()).await, 2, "alice's session s1");
    remaining(&["alice s2", "alice", "bob s1", "bob", "nobody"]).await;
    assert_eq!(
        forget(t.clone().with_session("s1")).await,
        1,
        "session s1 of anyone"
    );
    remaining(&["alice s2", "alice", "bob", "nobody"]).await;
    assert_eq!(
        forget(t.clone().with_user("alice")).await,
        2,
        "all of alice"
    );
    remaining(&["bob", "nobody"]).await;
    assert_eq!(forget(t.clone()).await, 2, "the whole tenant");
    remaining(&[]).await;
    assert_eq!(
        forget(t.clone()).await,
        0,
        "forgetting twice forgets nothing"
    );
}
