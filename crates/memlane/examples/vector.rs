//! The vector store end to end: open `vector://DIR`, add memories with vectors, search by meaning with a scope, a
//! filter and a threshold, then reopen the directory and search again (the index is loaded, not rebuilt).
//!
//! Run with `cargo run -p memlane --features vector --example vector`. The vectors here are hand-made 3-d ones,
//! so the example needs no model; with the `embed` feature and the model fetched, open with `embedder=auto` and
//! leave the vectors to the embedder.

use memlane::{Embedding, Filter, MemoryStoreExt, NewMemory, Scope, SearchMode, SearchQuery};

fn emb(v: [f32; 3]) -> Embedding {
    Embedding {
        model: "example-3d".into(),
        vector: v.to_vec(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let url = format!("vector://{}?embedder=none", dir.path().display());
    let alice = Scope::tenant("acme").with_user("alice");
    {
        let store = memlane::open(&url).await?;
        for (text, topic, v) in [
            (
                "Alice drinks green tea every morning",
                "food",
                [1.0, 0.1, 0.0],
            ),
            ("Alice prefers oolong to black tea", "food", [0.9, 0.3, 0.0]),
            ("Alice's editor uses a dark theme", "ui", [0.0, 1.0, 0.2]),
            ("Alice runs on Tuesdays", "sport", [0.1, 0.0, 1.0]),
        ] {
            store
                .add_one(
                    NewMemory::new(alice.clone(), text)
                        .meta("topic", topic)
                        .embedding(emb(v)),
                )
                .await?;
        }
    }

    // Reopen: the payload and the index come back from the directory.
    let store = memlane::open(&url).await?;
    let mut q = SearchQuery::new(alice.clone(), "what does Alice drink?")
        .mode(SearchMode::Semantic)
        .min_score(0.5)
        .limit(5);
    q.embedding = Some(emb([1.0, 0.2, 0.0]));
    println!("semantic search, min_score 0.5:");
    for hit in store.search(&q).await? {
        println!("  {:.3}  {}", hit.score, hit.memory.content);
    }

    let ui = Filter::parse(&serde_json::json!({"field": "metadata.topic", "eq": "ui"}))?;
    let mut q = SearchQuery::new(alice, "themes")
        .mode(SearchMode::Semantic)
        .filter(ui);
    q.embedding = Some(emb([1.0, 0.2, 0.0]));
    println!("the same query, only topic = ui:");
    for hit in store.search(&q).await? {
        println!("  {:.3}  {}", hit.score, hit.memory.content);
    }
    Ok(())
}
