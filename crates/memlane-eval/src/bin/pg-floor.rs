//! `pg-floor`: what one PostgreSQL round trip costs on this machine, beside memlane's `get`, over TCP and over the
//! Unix socket, measured in one run (`bench/peers/run.sh` runs it and puts its answer in the results JSON).
//!
//! ```text
//! pg-floor --url tcp=postgres://postgres@127.0.0.1:54329/db --url socket=postgres://postgres@:54329/db?host=/run/pg
//! ```
//!
//! For each URL (a label, `=`, a `postgres://` URL), through the connection pool memlane itself uses: `select1`
//! (a prepared `SELECT 1`: one round trip, nothing else), `get` (memlane's `get` of one of 1,000 memories with a
//! 384-float embedding), and `get_raw` (the same row by a prepared statement of its own without the embedding
//! column, decoding nothing: what the embedding and memlane's decoding add). The transports and operations take
//! turns in chunks of 100, and the answer is one JSON object on stdout: `{label: {op: {p50_ms, p95_ms, p99_ms}}}`.

use std::time::Instant;

use clap::Parser;
use memlane::postgres::{PostgresConfig, PostgresStore};
use memlane::{AddOptions, Embedding, MemoryId, MemoryStore, NewMemory, OpenOptions, Scope};
use serde_json::{json, Map, Value};

type Res<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser)]
#[command(
    name = "pg-floor",
    about = "One PostgreSQL round trip beside memlane's get, per transport"
)]
struct Args {
    /// LABEL=URL of a PostgreSQL database (repeat: one per transport).
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// Measured operations per transport and operation.
    #[arg(long, default_value_t = 2000)]
    n: usize,
    /// Tokio runtime to measure on: `current` (one thread) or `multi` (the default `#[tokio::main]` runtime, the
    /// operations in a spawned task, as an application's handlers run).
    #[arg(long, default_value = "current")]
    runtime: String,
}

/// One transport: its store and the ids it holds.
struct Transport {
    label: String,
    store: PostgresStore,
    tenant: String,
    ids: Vec<MemoryId>,
}

const OPS: [&str; 3] = ["select1", "get", "get_raw"];
const CHUNK: usize = 100;

async fn open(label: &str, url: &str) -> Res<Transport> {
    let mut opts = OpenOptions::parse(url)?;
    let store = PostgresStore::open(PostgresConfig::from_options(&mut opts)?).await?;
    let tenant = format!("floor-{}", memlane::new_id().simple());
    let scope = Scope::tenant(tenant.clone()).with_user("u1");
    let mut ids = Vec::new();
    for start in (0..1000).step_by(250) {
        let news = (start..start + 250)
            .map(|i: usize| {
                let mut m = NewMemory::new(scope.clone(), format!("floor memory {i} of {label}"));
                m.metadata.insert("n".into(), json!(i));
                // A unit vector of the model's dimension (its values do not matter here).
                let vector = (0..384)
                    .map(|d| if d == i % 384 { 1.0 } else { 0.0 })
                    .collect();
                m.embedding = Some(Embedding {
                    model: memlane_embed::MODEL_NAME.to_owned(),
                    vector,
                });
                m
            })
            .collect();
        for a in store.add(news, AddOptions::default()).await? {
            ids.push(a.memory.id);
        }
    }
    Ok(Transport {
        label: label.to_owned(),
        store,
        tenant,
        ids,
    })
}

/// One operation; its latency in microseconds.
async fn once(t: &Transport, op: &str, i: usize) -> Res<f64> {
    let id = t.ids[(i * 7919) % t.ids.len()];
    // From before the pool hands out a connection, as in memlane's own `get`.
    let start = Instant::now();
    if op == "get" {
        t.store.get(&t.tenant, id).await?;
        return Ok(start.elapsed().as_secs_f64() * 1e6);
    }
    let client = t.store.pool().get().await?;
    match op {
        "select1" => {
            let stmt = client.prepare_cached("SELECT 1").await?;
            let row = client.query_one(&stmt, &[]).await?;
            let one: i32 = row.try_get(0)?;
            if one != 1 {
                return Err("SELECT 1 did not answer 1".into());
            }
        }
        _ => {
            let stmt = client
                .prepare_cached(
                    "SELECT m.id, m.content, m.metadata, m.created_ms, m.version FROM memlane_memories m \
                     WHERE m.tenant = $1 AND m.id = $2 AND (m.expires_ms IS NULL OR m.expires_ms > $3)",
                )
                .await?;
            let now = memlane::Timestamp::now().as_millis();
            client
                .query_opt(&stmt, &[&t.tenant, &id, &now])
                .await?
                .ok_or("get_raw found nothing")?;
        }
    }
    Ok(start.elapsed().as_secs_f64() * 1e6)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (
        k.floor() as usize,
        (k.ceil() as usize).min(sorted.len() - 1),
    );
    sorted[lo] + (sorted[hi] - sorted[lo]) * (k - lo as f64)
}

fn main() -> Res<()> {
    let args = Args::parse();
    let rt = match args.runtime.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        "multi" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
        other => return Err(format!("--runtime {other}: want current or multi").into()),
    };
    rt.block_on(async move { tokio::spawn(measure(args)).await? })
}

async fn measure(args: Args) -> Res<()> {
    let mut transports = Vec::new();
    for spec in &args.urls {
        let (label, url) = spec
            .split_once('=')
            .ok_or_else(|| format!("--url {spec}: want LABEL=URL"))?;
        transports.push(open(label, url).await?);
    }
    // Warm-up: every statement prepared on the connection and the rows in PostgreSQL's cache.
    for t in &transports {
        for op in OPS {
            for i in 0..200 {
                once(t, op, i).await?;
            }
        }
    }
    let mut lat: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); OPS.len()]; transports.len()];
    let mut i = 0;
    while lat[0][0].len() < args.n {
        for (ti, t) in transports.iter().enumerate() {
            for (oi, op) in OPS.iter().enumerate() {
                for _ in 0..CHUNK.min(args.n - lat[ti][oi].len()) {
                    lat[ti][oi].push(once(t, op, i).await?);
                    i += 1;
                }
            }
        }
    }
    let mut out = Map::new();
    for (ti, t) in transports.iter().enumerate() {
        let mut ops = Map::new();
        for (oi, op) in OPS.iter().enumerate() {
            let s = &mut lat[ti][oi];
            s.sort_by(f64::total_cmp);
            let ms = |q| (percentile(s, q) / 1000.0 * 10_000.0).round() / 10_000.0;
            ops.insert(
                (*op).to_owned(),
                json!({"n": s.len(), "p50_ms": ms(0.5), "p95_ms": ms(0.95), "p99_ms": ms(0.99)}),
            );
        }
        t.store.forget(&Scope::tenant(t.tenant.clone())).await?;
        out.insert(t.label.clone(), Value::Object(ops));
    }
    println!("{}", Value::Object(out));
    Ok(())
}
