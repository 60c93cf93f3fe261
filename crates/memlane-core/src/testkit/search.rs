//! Search: keyword and semantic ranking, scores in [0, 1] best first, `min_score`, `limit`, filter and scope; and
//! modes a store does not offer fail as unsupported, naming the capability.

use serde_json::json;

use super::support::{emb, expect_err, filter, fresh_scope, put};
use crate::{
    Capabilities, Error, ErrorKind, Memory, MemoryId, MemoryStore, NewMemory, Scored, SearchMode,
    SearchQuery,
};

async fn search(store: &dyn MemoryStore, q: &SearchQuery) -> Vec<Scored> {
    let hits = store
        .search(q)
        .await
        .unwrap_or_else(|e| panic!("search {:?} in {:?}: {e}", q.text, q.scope));
    assert!(
        hits.len() <= q.limit,
        "search returns at most limit results"
    );
    for h in &hits {
        assert!(
            (0.0..=1.0).contains(&h.score),
            "score {} of {:?} is not in [0, 1]",
            h.score,
            h.memory.content
        );
        assert!(
            q.scope.matches(&h.memory.scope),
            "result {:?} is outside the query scope",
            h.memory.scope
        );
        if let Some(min) = q.min_score {
            assert!(h.score >= min, "score {} is under min_score {min}", h.score);
        }
    }
    for w in hits.windows(2) {
        assert!(
            w[0].score >= w[1].score,
            "scores are not best first: {} then {}",
            w[0].score,
            w[1].score
        );
    }
    hits
}

fn hit_ids(hits: &[Scored]) -> Vec<MemoryId> {
    hits.iter().map(|h| h.memory.id).collect()
}

/// Keyword search (when offered): the memory with every query word ranks first and strictly above the rest;
/// results are in scope, scores in [0, 1] and non-increasing; `min_score` drops exactly the results under it; `limit`
/// and filters apply; memories without any of the words are not returned; empty text is invalid input.
pub async fn keyword_search(store: &dyn MemoryStore) {
    if !store.capabilities().keyword_search {
        return;
    }
    let alice = fresh_scope().with_user("alice");
    let bob = crate::Scope::tenant(alice.tenant.clone()).with_user("bob");
    let add = |scope: &crate::Scope, text: &str, topic: &str| {
        put(
            store,
            NewMemory::new(scope.clone(), text).meta("topic", topic),
        )
    };
    let best = add(&alice, "Alice prefers dark mode in her editor", "ui").await;
    let crash = add(&alice, "The editor crashed yesterday", "bugs").await;
    let choc = add(&alice, "Dark chocolate is her favourite", "food").await;
    let garden = add(&alice, "Gardening tips for spring", "home").await;
    let bobs = add(&bob, "Bob prefers dark mode in his editor too", "ui").await;

    let q = SearchQuery::new(alice.clone(), "dark mode editor");
    let hits = search(store, &q).await;
    assert_eq!(
        hits.first().map(|h| h.memory.id),
        Some(best.id),
        "the memory with every word ranks first: {hits:?}"
    );
    for h in &hits[1..] {
        assert!(
            hits[0].score > h.score,
            "the best match scores strictly above {:?}",
            h.memory.content
        );
    }
    let ids = hit_ids(&hits);
    assert!(
        ids.contains(&crash.id) && ids.contains(&choc.id),
        "partial matches are found"
    );
    assert!(
        !ids.contains(&garden.id),
        "a memory with none of the words is not a match"
    );
    assert!(
        !ids.contains(&bobs.id),
        "another user's memory is outside alice's scope"
    );
    let got: &Memory = &hits[0].memory;
    assert_eq!(got, &best, "results carry the whole memory");

    let wide = search(
        store,
        &SearchQuery::new(
            crate::Scope::tenant(alice.tenant.clone()),
            "dark mode editor",
        ),
    )
    .await;
    assert!(
        hit_ids(&wide).contains(&bobs.id),
        "the tenant scope includes bob"
    );

    let one = search(store, &q.clone().limit(1)).await;
    assert_eq!(hit_ids(&one), vec![best.id], "limit 1 keeps the best");

    let lower = hits
        .iter()
        .map(|h| h.score)
        .find(|s| *s < hits[0].score)
        .expect("a lower score");
    let min = (hits[0].score + lower) / 2.0;
    let above = search(store, &q.clone().min_score(min)).await;
    let want: Vec<_> = hits
        .iter()
        .filter(|h| h.score >= min)
        .map(|h| h.memory.id)
        .collect();
    assert_eq!(
        hit_ids(&above),
        want,
        "min_score {min} drops exactly the lower results"
    );

    let f = filter(json!({"field": "metadata.topic", "eq": "bugs"}));
    assert_eq!(
        hit_ids(&search(store, &q.clone().filter(f)).await),
        vec![crash.id],
        "the filter applies"
    );
    assert!(
        search(store, &SearchQuery::new(alice.clone(), "xylophone"))
            .await
            .is_empty(),
        "no match, no results"
    );

    for empty in ["", "   \n"] {
        expect_err(
            store.search(&SearchQuery::new(alice.clone(), empty)).await,
            ErrorKind::InvalidInput,
            &format!("keyword search for {empty:?}"),
        );
    }
}

/// Semantic search (when offered) with the caller's vectors: scores are cosine similarities (in [0, 1]), best
/// first; `min_score`, `limit`, filter and scope apply.
pub async fn semantic_search(store: &dyn MemoryStore) {
    if !store.capabilities().semantic_search {
        return;
    }
    let alice = fresh_scope().with_user("alice");
    let bob = crate::Scope::tenant(alice.tenant.clone()).with_user("bob");
    let add = |scope: &crate::Scope, text: &str, v: [f32; 3]| {
        put(
            store,
            NewMemory::new(scope.clone(), text)
                .meta("dir", text)
                .embedding(emb(&v)),
        )
    };
    let north = add(&alice, "north", [1.0, 0.0, 0.0]).await;
    let north_east = add(&alice, "north-east", [0.8, 0.6, 0.0]).await;
    let east = add(&alice, "east", [0.0, 1.0, 0.0]).await;
    add(&alice, "south", [-1.0, 0.0, 0.0]).await;
    let bobs = add(&bob, "bob's north", [1.0, 0.0, 0.0]).await;

    let mut q = SearchQuery::new(alice.clone(), "north").mode(SearchMode::Semantic);
    q.embedding = Some(emb(&[1.0, 0.0, 0.0]));
    let hits = search(store, &q).await;
    assert!(
        hits.len() >= 2,
        "at least the two close vectors are found: {hits:?}"
    );
    assert_eq!(
        hit_ids(&hits[..2]),
        vec![north.id, north_east.id],
        "closest first"
    );
    assert!(
        (hits[0].score - 1.0).abs() < 0.01,
        "identical vectors score 1, got {}",
        hits[0].score
    );
    assert!(
        (hits[1].score - 0.8).abs() < 0.01,
        "the score is the cosine similarity 0.8, got {}",
        hits[1].score
    );
    assert!(
        !hit_ids(&hits).contains(&bobs.id),
        "another user's memory is outside the scope"
    );

    assert_eq!(
        hit_ids(&search(store, &q.clone().min_score(0.5)).await),
        vec![north.id, north_east.id],
        "min_score"
    );
    assert_eq!(
        hit_ids(&search(store, &q.clone().limit(1)).await),
        vec![north.id],
        "limit"
    );
    let f = filter(json!({"field": "metadata.dir", "eq": "east"}));
    assert_eq!(
        hit_ids(&search(store, &q.clone().filter(f)).await),
        vec![east.id],
        "filter"
    );
}

/// Every search mode the capabilities leave out fails with [`ErrorKind::Unsupported`] naming the capability.
pub async fn search_unsupported_modes(store: &dyn MemoryStore) {
    let caps = store.capabilities();
    let scope = fresh_scope();
    put(
        store,
        NewMemory::new(scope.clone(), "something to search").embedding(emb(&[1.0, 0.0])),
    )
    .await;
    for mode in [
        SearchMode::Keyword,
        SearchMode::Semantic,
        SearchMode::Hybrid,
    ] {
        let cap = Capabilities::for_mode(mode);
        if caps.supports(cap) {
            continue;
        }
        let mut q = SearchQuery::new(scope.clone(), "something").mode(mode);
        q.embedding = Some(emb(&[1.0, 0.0]));
        match expect_err(
            store.search(&q).await,
            ErrorKind::Unsupported,
            &format!("{mode} search"),
        ) {
            Error::Unsupported { capability, .. } => {
                assert_eq!(
                    capability,
                    cap.to_string(),
                    "the error names the capability"
                )
            }
            other => panic!("expected Error::Unsupported, got {other:?}"),
        }
    }
}
