//! The outbox (`outbox=true`): a [`ChangeLog`] of every write, in the write's own transaction, that a composite
//! store replays into its other tiers.
//!
//! - Each writing transaction appends its changes last, right before it commits, after taking a transaction-level
//!   advisory lock (the outbox lock). Sequence numbers are drawn under that lock and it is held until commit, so
//!   they increase in commit order: a reader that sees change `n` sees every change before it. Gaps (rolled-back
//!   transactions) are possible, reordering is not. The cost: writes commit one after another.
//! - A consumer's position is a row of `memlane_outbox_cursors`. Its lease is a session-level advisory lock on a
//!   pooled connection, tried (never waited on in the server) until the caller's deadline. A lease dropped without
//!   release closes its connection, which releases the lock.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_postgres::{Object, Pool, Transaction};
use memlane_core::{content_hash, Change, ChangeLease, ChangeLog, Error, LoggedChange, Result};

use super::error::{map, NAME};

/// The transaction-level lock that orders outbox appends.
const OUTBOX_LOCK: i64 = 7_395_851_042_360_861_002;

/// Appends `changes` to the outbox in `tx`; call it last, right before committing.
pub(crate) async fn append(tx: &Transaction<'_>, changes: &[Change]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let values = changes
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::internal(NAME, "cannot encode an outbox change", Some(e.into())))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&OUTBOX_LOCK])
        .await
        .map_err(map)?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO memlane_outbox (change) \
             SELECT c FROM unnest($1::jsonb[]) WITH ORDINALITY AS t(c, i) ORDER BY i",
        )
        .await
        .map_err(map)?;
    tx.execute(&stmt, &[&values]).await.map_err(map)?;
    Ok(())
}

/// The outbox of a PostgreSQL store. See the [module docs](self).
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    pool: Pool,
}

impl Outbox {
    pub(crate) fn new(pool: Pool) -> Self {
        Outbox { pool }
    }
}

/// The advisory lock key of a consumer's lease.
fn lease_key(consumer: &str) -> i64 {
    let hex = content_hash(&format!("memlane-outbox-lease\u{1}{consumer}"));
    u64::from_str_radix(&hex[..16], 16).unwrap_or(0) as i64
}

fn to_seq(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn from_seq(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

async fn position(client: &Object, consumer: &str) -> Result<u64> {
    let row = client
        .query_opt(
            "SELECT seq FROM memlane_outbox_cursors WHERE consumer = $1",
            &[&consumer],
        )
        .await
        .map_err(map)?;
    Ok(row
        .map(|r| r.try_get::<_, i64>(0))
        .transpose()
        .map_err(map)?
        .map(to_seq)
        .unwrap_or(0))
}

#[async_trait]
impl ChangeLog for Outbox {
    async fn head(&self) -> Result<u64> {
        let client = self.pool.get().await.map_err(map)?;
        let v: i64 = client
            .query_one(
                "SELECT GREATEST(COALESCE((SELECT max(seq) FROM memlane_outbox), 0), \
                                 COALESCE((SELECT max(seq) FROM memlane_outbox_cursors), 0))::int8",
                &[],
            )
            .await
            .map_err(map)?
            .try_get(0)
            .map_err(map)?;
        Ok(to_seq(v))
    }

    async fn cursor(&self, consumer: &str) -> Result<u64> {
        let client = self.pool.get().await.map_err(map)?;
        position(&client, consumer).await
    }

    async fn register(&self, consumer: &str) -> Result<u64> {
        let client = self.pool.get().await.map_err(map)?;
        client
            .execute(
                "INSERT INTO memlane_outbox_cursors (consumer, seq) \
                 SELECT $1, GREATEST(COALESCE((SELECT max(seq) FROM memlane_outbox), 0), \
                                     COALESCE((SELECT max(seq) FROM memlane_outbox_cursors), 0)) \
                 ON CONFLICT (consumer) DO NOTHING",
                &[&consumer],
            )
            .await
            .map_err(map)?;
        position(&client, consumer).await
    }

    async fn lease(&self, consumer: &str, wait: Duration) -> Result<Box<dyn ChangeLease>> {
        let client = self.pool.get().await.map_err(map)?;
        let key = lease_key(consumer);
        let deadline = Instant::now() + wait;
        let stmt = client
            .prepare_cached("SELECT pg_try_advisory_lock($1)")
            .await
            .map_err(map)?;
        loop {
            let got: bool = client
                .query_one(&stmt, &[&key])
                .await
                .map_err(map)?
                .try_get(0)
                .map_err(map)?;
            if got {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::unavailable(
                    NAME,
                    format!("the outbox of {consumer:?} is being replayed by another replayer"),
                    None,
                ));
            }
            tokio::time::sleep((deadline - now).min(Duration::from_millis(2))).await;
        }
        let mut lease = PgLease {
            client: Some(client),
            consumer: consumer.to_owned(),
            key,
            position: 0,
        };
        lease.position = position(lease.client()?, consumer).await?;
        Ok(Box::new(lease))
    }

    async fn trim(&self, seq: u64) -> Result<u64> {
        let client = self.pool.get().await.map_err(map)?;
        client
            .execute(
                "DELETE FROM memlane_outbox WHERE seq <= $1",
                &[&from_seq(seq)],
            )
            .await
            .map_err(map)
    }
}

/// A consumer's lease: a session-level advisory lock held by one pooled connection.
struct PgLease {
    client: Option<Object>,
    consumer: String,
    key: i64,
    position: u64,
}

impl PgLease {
    fn client(&self) -> Result<&Object> {
        self.client
            .as_ref()
            .ok_or_else(|| Error::internal(NAME, "the outbox lease was released", None))
    }
}

impl Drop for PgLease {
    fn drop(&mut self) {
        // Not released: close the connection rather than return it to the pool holding the lock.
        if let Some(c) = self.client.take() {
            drop(Object::take(c));
        }
    }
}

#[async_trait]
impl ChangeLease for PgLease {
    fn position(&self) -> u64 {
        self.position
    }

    async fn next(&mut self, limit: usize) -> Result<Vec<LoggedChange>> {
        let client = self.client()?;
        let stmt = client
            .prepare_cached(
                "SELECT seq, change FROM memlane_outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .await
            .map_err(map)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(&stmt, &[&from_seq(self.position), &limit])
            .await
            .map_err(map)?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get(0).map_err(map)?;
                let change: serde_json::Value = r.try_get(1).map_err(map)?;
                let change: Change = serde_json::from_value(change).map_err(|e| {
                    Error::internal(
                        NAME,
                        format!("outbox change {seq} is not a change"),
                        Some(e.into()),
                    )
                })?;
                Ok(LoggedChange {
                    seq: to_seq(seq),
                    change,
                })
            })
            .collect()
    }

    async fn advance(&mut self, seq: u64) -> Result<()> {
        let client = self.client()?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO memlane_outbox_cursors (consumer, seq) VALUES ($1, $2) \
                 ON CONFLICT (consumer) DO UPDATE SET seq = EXCLUDED.seq, updated_at = now()",
            )
            .await
            .map_err(map)?;
        client
            .execute(&stmt, &[&self.consumer, &from_seq(seq)])
            .await
            .map_err(map)?;
        self.position = seq;
        Ok(())
    }

    async fn release(mut self: Box<Self>) -> Result<()> {
        let key = self.key;
        let unlocked = self
            .client()?
            .execute("SELECT pg_advisory_unlock($1)", &[&key])
            .await;
        if unlocked.is_ok() {
            // Back to the pool, unlocked.
            self.client.take();
        }
        unlocked.map(|_| ()).map_err(map)
    }
}
