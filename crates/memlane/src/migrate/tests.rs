//! Unit tests of the migration engine over the in-process store (the CLI and PostgreSQL tests are in `tests/`).

use memlane_core::{Embedding, Kind, MemoryStoreExt, NewMemory, Scope};

use super::*;

async fn stores() -> Result<(
    std::sync::Arc<dyn MemoryStore>,
    std::sync::Arc<dyn MemoryStore>,
)> {
    Ok((
        crate::open("memory://?embedder=none").await?,
        crate::open("memory://?embedder=none").await?,
    ))
}

async fn fill(store: &dyn MemoryStore, tenant: &str, n: usize) -> Result<()> {
    let batch = (0..n)
        .map(|i| {
            let scope = Scope::tenant(tenant).with_user(format!("u{}", i % 3));
            NewMemory::new(scope, format!("memory {i}"))
                .kind(Kind::Episode)
                .meta("i", i as u64)
                .embedding(Embedding {
                    model: "m".into(),
                    vector: vec![1.0, i as f32],
                })
        })
        .collect();
    store.add(batch, AddOptions { dedup: Some(false) }).await?;
    Ok(())
}

#[tokio::test]
async fn copies_every_tenant_in_small_batches_and_verifies() -> Result<()> {
    let (from, to) = stores().await?;
    fill(from.as_ref(), "a", 25).await?;
    fill(from.as_ref(), "b", 7).await?;
    let opts = MigrateOptions {
        batch: 4,
        ..MigrateOptions::default()
    };
    let report = migrate(from.as_ref(), to.as_ref(), &opts, &NoProgress).await?;
    assert!(report.is_verified(), "{report:?}");
    assert_eq!(report.copied(), 32);
    assert_eq!(to.tenants().await?, vec!["a".to_owned(), "b".to_owned()]);
    let a = from.list_all(&Scope::tenant("a"), None).await?;
    let b = to.list_all(&Scope::tenant("a"), None).await?;
    assert_eq!(a, b, "every field, embeddings included, is kept");
    // Again: nothing new, everything existing.
    let again = migrate(from.as_ref(), to.as_ref(), &opts, &NoProgress).await?;
    assert_eq!(again.tenants.iter().map(|t| t.created).sum::<u64>(), 0);
    assert!(again.is_verified());
    Ok(())
}

#[tokio::test]
async fn a_checkpoint_resumes_and_drift_is_reported() -> Result<()> {
    let (from, to) = stores().await?;
    fill(from.as_ref(), "a", 10).await?;
    let dir = tempfile::tempdir().map_err(|e| Error::internal("test", e.to_string(), None))?;
    let path = dir.path().join("cp.json");
    let opts = MigrateOptions {
        batch: 3,
        checkpoint: Some(path.clone()),
        job: "one".into(),
        ..MigrateOptions::default()
    };
    let first = migrate(from.as_ref(), to.as_ref(), &opts, &NoProgress).await?;
    assert!(first.is_verified());
    // Everything is done: a rerun writes nothing.
    let second = migrate(from.as_ref(), to.as_ref(), &opts, &NoProgress).await?;
    assert_eq!(second.written(), 0);
    assert_eq!(second.copied(), 10);
    // Another job refuses this checkpoint.
    let other = MigrateOptions {
        job: "two".into(),
        ..opts.clone()
    };
    let err = migrate(from.as_ref(), to.as_ref(), &other, &NoProgress).await;
    assert!(matches!(err, Err(Error::InvalidInput { .. })), "{err:?}");
    // Drift: a memory changed on one side.
    let victim = to.list_all(&Scope::tenant("a"), None).await?[0].clone();
    to.update(
        "a",
        victim.id,
        memlane_core::Update::default().content("changed"),
    )
    .await?;
    let third = migrate(from.as_ref(), to.as_ref(), &opts, &NoProgress).await?;
    assert!(!third.is_verified());
    assert_eq!(third.verification[0].drift.scopes.len(), 1);
    Ok(())
}

#[tokio::test]
async fn vectors_of_another_model_are_dropped() -> Result<()> {
    let (from, to) = stores().await?;
    fill(from.as_ref(), "a", 3).await?;
    let opts = MigrateOptions {
        embeddings: EmbeddingPolicy::Model {
            model: "other".into(),
            dimension: 2,
        },
        ..MigrateOptions::default()
    };
    let report = migrate(from.as_ref(), to.as_ref(), &opts, &NoProgress).await?;
    assert_eq!(report.tenants[0].reembedded, 3);
    assert!(
        report.is_verified(),
        "embeddings are not part of the checksum"
    );
    let copied = to.list_all(&Scope::tenant("a"), None).await?;
    assert!(copied.iter().all(|m| m.embedding.is_none()));
    Ok(())
}
