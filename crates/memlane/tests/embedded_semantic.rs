//! Embedded semantic and hybrid search, and the pinning of one embedding model per store.

use memlane::embedded::{EmbeddedConfig, EmbeddedStore};
use memlane::{
    Embedding, ErrorKind, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchMode, SearchQuery,
};

fn emb(model: &str, v: &[f32]) -> Embedding {
    Embedding {
        model: model.into(),
        vector: v.to_vec(),
    }
}

#[tokio::test]
async fn hybrid_fuses_words_and_meaning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
        .await
        .expect("open");
    let s = Scope::tenant("t");
    // Three memories: one matches the words only, one the meaning only, one both.
    let words = store
        .add_one(NewMemory::new(s.clone(), "the blue car").embedding(emb("m", &[0.0, 1.0])))
        .await
        .expect("add");
    let meaning = store
        .add_one(NewMemory::new(s.clone(), "an azure automobile").embedding(emb("m", &[1.0, 0.0])))
        .await
        .expect("add");
    let both = store
        .add_one(NewMemory::new(s.clone(), "a blue car parked").embedding(emb("m", &[0.9, 0.1])))
        .await
        .expect("add");
    let mut q = SearchQuery::new(s.clone(), "blue car").mode(SearchMode::Hybrid);
    q.embedding = Some(emb("m", &[1.0, 0.0]));
    let hits = store.search(&q).await.expect("hybrid");
    let ids: Vec<_> = hits.iter().map(|h| h.memory.id).collect();
    assert_eq!(
        ids[0], both.id,
        "the memory matching words and meaning ranks first: {hits:?}"
    );
    assert!(
        ids.contains(&words.id) && ids.contains(&meaning.id),
        "both sides contribute: {hits:?}"
    );
    assert!(hits.iter().all(|h| (0.0..=1.0).contains(&h.score)));
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    // A query vector of another model compares with nothing.
    q.embedding = Some(emb("other", &[1.0, 0.0]));
    q.mode = SearchMode::Semantic;
    assert!(store.search(&q).await.expect("semantic").is_empty());
    // Without a query vector, semantic search says what is missing.
    q.embedding = None;
    let err = store.search(&q).await.expect_err("no vector");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("embedding"), "{err}");
}

#[tokio::test]
async fn vectors_survive_reopen_and_follow_deletes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Scope::tenant("t");
    let (keep, gone) = {
        let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
            .await
            .expect("open");
        let keep = store
            .add_one(NewMemory::new(s.clone(), "keep").embedding(emb("m", &[1.0, 0.0])))
            .await
            .expect("add");
        let gone = store
            .add_one(NewMemory::new(s.clone(), "gone").embedding(emb("m", &[1.0, 0.1])))
            .await
            .expect("add");
        (keep, gone)
    };
    let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
        .await
        .expect("reopen");
    let mut q = SearchQuery::new(s.clone(), "x").mode(SearchMode::Semantic);
    q.embedding = Some(emb("m", &[1.0, 0.0]));
    assert_eq!(
        store.search(&q).await.expect("search").len(),
        2,
        "vectors are loaded at open"
    );
    store.delete("t", gone.id).await.expect("delete");
    let hits = store.search(&q).await.expect("search");
    assert_eq!(
        hits.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        vec![keep.id]
    );
}

#[tokio::test]
async fn a_store_keeps_one_embedding_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Scope::tenant("t");
    let mut config = EmbeddedConfig::new(dir.path());
    config.embedding_model = Some("model-a".into());
    {
        let store = EmbeddedStore::open(config.clone()).await.expect("open");
        store
            .add_one(NewMemory::new(s.clone(), "a").embedding(emb("model-a", &[1.0])))
            .await
            .expect("add");
        let err = store
            .add_one(NewMemory::new(s.clone(), "b").embedding(emb("model-b", &[1.0])))
            .await
            .expect_err("another model");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("reindex"), "{err}");
    }
    config.embedding_model = Some("model-b".into());
    let err = EmbeddedStore::open(config)
        .await
        .expect_err("opening with another model");
    assert!(err.to_string().contains("reindex"), "{err}");
}
