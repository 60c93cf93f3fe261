//! Keyword and hybrid search through the store: selective filters (the exact SQL path), session context, time
//! expressions, updates and deletes, and the index rebuilt at reopen.

use memlane_core::{
    AddOptions, Embedding, Filter, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchMode,
    SearchQuery, Timestamp, Update,
};

use crate::embedded::{EmbeddedConfig, EmbeddedStore};

async fn open(dir: &std::path::Path) -> EmbeddedStore {
    EmbeddedStore::open(EmbeddedConfig::new(dir))
        .await
        .expect("open")
}

fn contents(hits: &[memlane_core::Scored]) -> Vec<String> {
    hits.iter().map(|h| h.memory.content.clone()).collect()
}

#[tokio::test]
async fn a_selective_filter_falls_back_to_the_exact_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    let s = Scope::tenant("t").with_user("u");
    for start in (0..3000).step_by(1000) {
        let batch: Vec<NewMemory> = (start..start + 1000)
            .map(|i| {
                let m = NewMemory::new(s.clone(), format!("apple number {i}"));
                if i % 1000 == 999 {
                    m.meta("tag", "rare")
                } else {
                    m
                }
            })
            .collect();
        store
            .add(batch, AddOptions { dedup: Some(false) })
            .await
            .expect("add");
    }
    let f =
        Filter::parse(&serde_json::json!({"field": "metadata.tag", "eq": "rare"})).expect("filter");
    let hits = store
        .search(
            &SearchQuery::new(s.clone(), "apple")
                .filter(f.clone())
                .limit(10),
        )
        .await
        .expect("search");
    let mut got = contents(&hits);
    got.sort();
    assert_eq!(
        got,
        ["apple number 1999", "apple number 2999", "apple number 999"]
    );
    let none = store
        .search(&SearchQuery::new(s, "pear").filter(f))
        .await
        .expect("search");
    assert!(none.is_empty());
}

#[tokio::test]
async fn context_time_updates_and_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Scope::tenant("t").with_user("u");
    let day = 86_400_000;
    let june = 1_686_000_000_000; // 5 June 2023
    let turn = |session: &str, text: &str, at: i64| {
        let mut m = NewMemory::new(s.clone().with_session(session), text);
        m.created_at = Some(Timestamp::from_millis(at));
        m
    };
    let answer = {
        let store = open(dir.path()).await;
        store
            .add(
                vec![
                    turn("s1", "Where did you go camping?", june),
                    turn("s1", "By the lake, with my kids!", june + 1000),
                    turn("s1", "Sounds lovely.", june + 2000),
                    turn("s2", "We went camping in the mountains", june + 40 * day),
                ],
                AddOptions::default(),
            )
            .await
            .expect("add");
        let hits = store
            .search(&SearchQuery::new(s.clone(), "camping lake"))
            .await
            .expect("search");
        // The reply matches "lake" and is read with the question before it, so it beats the other camping turn.
        assert_eq!(hits[0].memory.content, "By the lake, with my kids!");
        assert!(hits.iter().all(|h| h.score > 0.0 && h.score < 1.0));
        assert!(
            !contents(&hits).contains(&"Sounds lovely.".to_owned()),
            "no query word, no match"
        );
        // Naming the month of the second session puts it first.
        let july = store
            .search(&SearchQuery::new(s.clone(), "camping in July 2023"))
            .await
            .expect("search");
        assert_eq!(july[0].memory.content, "We went camping in the mountains");
        hits[0].memory.clone()
    };
    let store = open(dir.path()).await;
    let again = store
        .search(&SearchQuery::new(s.clone(), "lake"))
        .await
        .expect("search after reopen");
    assert_eq!(
        again[0].memory.id, answer.id,
        "the index is rebuilt at open"
    );
    store
        .update("t", answer.id, Update::default().content("By the river"))
        .await
        .expect("update");
    assert!(store
        .search(&SearchQuery::new(s.clone(), "lake"))
        .await
        .expect("search")
        .is_empty());
    assert_eq!(
        store
            .search(&SearchQuery::new(s.clone(), "river"))
            .await
            .expect("search")[0]
            .memory
            .id,
        answer.id
    );
    store.delete("t", answer.id).await.expect("delete");
    assert!(store
        .search(&SearchQuery::new(s.clone(), "river"))
        .await
        .expect("search")
        .is_empty());
    assert_eq!(store.forget(&s).await.expect("forget"), 3);
    assert!(store
        .search(&SearchQuery::new(s, "camping"))
        .await
        .expect("search")
        .is_empty());
}

#[tokio::test]
async fn hybrid_with_a_filter_and_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    let s = Scope::tenant("t").with_session("chat");
    let emb = |v: [f32; 2]| Embedding {
        model: "m".into(),
        vector: v.to_vec(),
    };
    for (i, (text, v, tag)) in [
        ("Which book should I read?", [1.0, 0.0], "q"),
        ("Becoming Nicole, it changed my life", [0.0, 1.0], "a"),
        ("A book about gardens", [0.7, 0.7], "a"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut m = NewMemory::new(s.clone(), text)
            .embedding(emb(v))
            .meta("tag", tag);
        m.created_at = Some(Timestamp::from_millis(1_000 + i as i64));
        store.add_one(m).await.expect("add");
    }
    let f =
        Filter::parse(&serde_json::json!({"field": "metadata.tag", "eq": "a"})).expect("filter");
    let mut q = SearchQuery::new(s, "book to read")
        .mode(SearchMode::Hybrid)
        .filter(f);
    q.embedding = Some(emb([1.0, 0.0]));
    let hits = store.search(&q).await.expect("hybrid");
    assert_eq!(hits.len(), 2, "the filter keeps the answers only: {hits:?}");
    assert!(hits.iter().all(|h| h.memory.metadata["tag"] == "a"));
    assert!(hits.iter().all(|h| (0.0..=1.0).contains(&h.score)));
}
