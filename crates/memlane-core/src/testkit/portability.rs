//! The portable export format: an export imported into another tenant reproduces every field but the tenant, and
//! importing again creates nothing.

use std::io::Cursor as IoCursor;
use std::time::Duration;

use serde_json::json;

use super::support::{emb, fresh_scope, fresh_tenant, listed, put, put_all};
use crate::export::{export, import, Header, ImportOptions, FORMAT};
use crate::{Kind, Memory, MemoryStore, NewMemory, Scope, Update};

/// Exports a scope (memories with embeddings, metadata, expiry, updated versions, unicode) and imports it into a
/// fresh tenant: every memory is reproduced exactly except the tenant; a second import, and an import into the
/// source tenant, create nothing.
pub async fn export_import_round_trip(store: &dyn MemoryStore) {
    let caps = store.capabilities();
    let src = fresh_scope();
    let scope = src.clone().with_user("exporter");
    let mut batch = vec![
        NewMemory::new(scope.clone(), "with an embedding")
            .kind(Kind::Episode)
            .meta("nested", json!({"a": [1, 2.5, "three", null, {"b": true}]}))
            .embedding(emb(&[0.1, 0.2, -0.3, 1e-7, 12345.678, f32::MIN_POSITIVE])),
        NewMemory::new(
            scope.clone().with_session("s1").with_agent("bot"),
            "Café crème 🦀",
        )
        .kind(Kind::Message),
        NewMemory::new(scope.clone(), "to be updated").meta("n", 1),
    ];
    if caps.ttl {
        batch.push(
            NewMemory::new(scope.clone(), "expires in an hour").ttl(Duration::from_secs(3600)),
        );
    }
    let ms = put_all(store, batch).await;
    store
        .update(
            &src.tenant,
            ms[2].id,
            Update::default()
                .content("updated before export")
                .expect_version(1),
        )
        .await
        .expect("update");
    put(
        store,
        NewMemory::new(src.clone().with_user("someone else"), "not exported"),
    )
    .await;
    let mut originals = listed(store, &scope, None).await;
    assert_eq!(originals.len(), ms.len());

    let mut buf = Vec::new();
    let n = export(store, &scope, &mut buf).await.expect("export");
    assert_eq!(n, originals.len() as u64, "export counts what it wrote");
    let text = String::from_utf8(buf.clone()).expect("an export is UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        originals.len() + 1,
        "a header and one line per memory"
    );
    let header: Header = serde_json::from_str(lines[0]).expect("the first line is a header");
    assert_eq!(header.format, FORMAT);

    let dst = fresh_tenant();
    let report = import(store, &dst, IoCursor::new(&buf), ImportOptions::default())
        .await
        .expect("import");
    assert_eq!(
        (report.created, report.existing),
        (n, 0),
        "the first import creates everything"
    );
    assert!(report.skipped.is_empty());
    let mut copies = listed(store, &Scope::tenant(dst.clone()), None).await;
    let retenant = |mut m: Memory| {
        m.scope.tenant = dst.clone();
        m
    };
    originals.sort_by_key(|m| m.id);
    copies.sort_by_key(|m| m.id);
    let expected: Vec<Memory> = originals.iter().cloned().map(retenant).collect();
    assert_eq!(copies, expected, "every field is reproduced but the tenant");
    let updated = copies
        .iter()
        .find(|m| m.content == "updated before export")
        .expect("the updated memory");
    assert_eq!(updated.version, 2, "versions survive");
    assert!(
        copies.iter().any(|m| m.embedding.is_some()),
        "embeddings survive"
    );

    let again = import(store, &dst, IoCursor::new(&buf), ImportOptions::default())
        .await
        .expect("import again");
    assert_eq!(
        (again.created, again.existing),
        (0, n),
        "a second import creates nothing"
    );
    let home = import(
        store,
        &src.tenant,
        IoCursor::new(&buf),
        ImportOptions::default(),
    )
    .await
    .expect("import home");
    assert_eq!(
        (home.created, home.existing),
        (0, n),
        "importing into the source tenant creates nothing"
    );
    assert_eq!(
        store.count(&Scope::tenant(dst), None).await.expect("count"),
        n
    );
}
