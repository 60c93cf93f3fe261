//! A tour of the `MemoryStore` interface on the embedded store.
//!
//! `cargo run -p memlane --example quickstart [DIR]` (a temporary directory when none is given).

use std::time::Duration;

use memlane::{
    Filter, Kind, ListQuery, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchQuery, Update,
};

#[tokio::main]
async fn main() -> memlane::Result<()> {
    let tmp = tempfile::tempdir().map_err(|e| memlane::Error::invalid("dir", e.to_string()))?;
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| tmp.path().display().to_string());
    let store = memlane::open(&dir).await?;

    let alice = Scope::tenant("acme").with_user("alice");
    let fact = store
        .add_one(
            NewMemory::new(alice.clone(), "Alice prefers dark mode in her editor")
                .kind(Kind::Fact)
                .meta("topic", "preferences"),
        )
        .await?;
    store
        .add_one(
            NewMemory::new(
                alice.clone().with_session("s1"),
                "Alice: I'm flying to Lisbon tomorrow",
            )
            .kind(Kind::Message)
            .ttl(Duration::from_secs(2 * 3600)),
        )
        .await?;
    println!("added {} (version {})", fact.id, fact.version);

    let hits = store
        .search(&SearchQuery::new(alice.clone(), "editor theme dark"))
        .await?;
    for h in &hits {
        println!("search: {:.3} {}", h.score, h.memory.content);
    }

    let facts = Filter::parse_str(r#"{"field": "kind", "eq": "fact"}"#)?;
    let page = store
        .list(&ListQuery::new(alice.clone()).filter(facts))
        .await?;
    println!("facts about alice: {}", page.memories.len());

    let updated = store
        .update(
            "acme",
            fact.id,
            Update::default()
                .content("Alice prefers light mode")
                .expect_version(1),
        )
        .await?;
    println!(
        "updated to version {}: {}",
        updated.version, updated.content
    );

    let stale = store
        .update(
            "acme",
            fact.id,
            Update::default().content("stale").expect_version(1),
        )
        .await;
    if let Err(e) = stale {
        println!("a stale update fails: {e}");
    }

    println!("memories of alice: {}", store.count(&alice, None).await?);
    println!(
        "forgot session s1: {}",
        store.forget(&alice.clone().with_session("s1")).await?
    );
    Ok(())
}
