//! `peer-bench`: memlane's driver for the peer benchmark in `bench/peers/`.
//!
//! It speaks the JSON-lines protocol of `bench/peers/protocol.py` (one request per line on stdin, one answer per
//! line on stdout), so that one orchestrator runs memlane and its peers the same way:
//!
//! ```text
//! peer-bench --store postgres://postgres@127.0.0.1:54329/bench   # memlane as a library (memlane::open)
//! peer-bench --server http://127.0.0.1:7878                      # memlane through `memlane serve`
//! ```
//!
//! Operation i of a run uses input i: `add` the text adds\[i\] (embedded by memlane), `get` the preloaded memory
//! (i * 7919) mod N, `list` the memories of user u1 whose `metadata.category` is category i mod 16 (10 at most),
//! `semantic` and `hybrid` the query text queries\[i\] (top 5). `add_vec` and `semantic_vec` are `add` and
//! `semantic` with a vector given (a preloaded one): the store's share of the time, without the embedding. Each latency is taken around one library call or
//! one HTTP request (with its JSON decoding); C clients are C tokio tasks taking the next i in turn.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::Parser;
use memlane::{
    AddOptions, Embedding, Filter, ListQuery, MemoryId, MemoryStore, NewMemory, Scope, SearchMode,
    SearchQuery,
};
use serde::Deserialize;
use serde_json::{json, Value};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = std::result::Result<T, BoxError>;

/// The tenant of the library runs (a keyless server puts every request in its own default tenant).
const TENANT: &str = "bench";
/// The user every memory belongs to.
const USER: &str = "u1";

#[derive(Parser)]
#[command(
    name = "peer-bench",
    about = "memlane's driver for bench/peers (JSON lines on stdin/stdout)"
)]
struct Args {
    /// A store URL opened with `memlane::open` (memlane as a library).
    #[arg(long, conflicts_with = "server", required_unless_present = "server")]
    store: Option<String>,
    /// The base URL of a running `memlane serve` (memlane over HTTP).
    #[arg(long)]
    server: Option<String>,
}

/// One line of the workload's JSONL files.
#[derive(Debug, Deserialize)]
struct Row {
    text: String,
    category: String,
    n: u64,
}

/// The files `bench/peers/workload.py` wrote.
struct Workload {
    preload: Vec<Row>,
    adds: Vec<Row>,
    queries: Vec<Row>,
    vectors: Vec<f32>,
    categories: Vec<String>,
}

impl Workload {
    fn load(dir: &Path) -> Res<Self> {
        fn rows(path: PathBuf) -> Res<Vec<Row>> {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Ok(serde_json::from_str(l)?))
                .collect()
        }
        let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json"))?)?;
        let categories = meta["categories"]
            .as_array()
            .ok_or("meta.json has no categories")?
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        let raw = std::fs::read(dir.join("preload.f32"))?;
        let vectors = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let w = Workload {
            preload: rows(dir.join("preload.jsonl"))?,
            adds: rows(dir.join("adds.jsonl"))?,
            queries: rows(dir.join("queries.jsonl"))?,
            vectors,
            categories,
        };
        if w.preload.is_empty() || w.categories.is_empty() {
            return Err("the workload has no preload or no categories".into());
        }
        if w.vectors.is_empty() || !w.vectors.len().is_multiple_of(w.preload.len()) {
            return Err(format!(
                "preload.f32 holds {} floats, not one vector per preloaded text ({})",
                w.vectors.len(),
                w.preload.len()
            )
            .into());
        }
        Ok(w)
    }

    /// How many inputs operation `op` has (the adds for writes, the queries for searches; get and list cycle).
    fn inputs(&self, op: &str) -> usize {
        match op {
            "add" | "add_vec" => self.adds.len(),
            "semantic" | "semantic_vec" | "hybrid" => self.queries.len(),
            _ => usize::MAX,
        }
    }

    fn vector(&self, i: usize) -> Vec<f32> {
        let dim = self.vectors.len() / self.preload.len().max(1);
        self.vectors[i * dim..(i + 1) * dim].to_vec()
    }

    fn category(&self, i: usize) -> &str {
        &self.categories[i % self.categories.len()]
    }
}

/// Where the operations go.
enum Target {
    Lib(Arc<dyn MemoryStore>),
    Http {
        client: reqwest::Client,
        base: String,
    },
}

/// The system under test with its workload and the ids of the preloaded memories.
struct Bench {
    target: Target,
    w: Workload,
    ids: Vec<MemoryId>,
    ops: Vec<&'static str>,
}

fn metadata(r: &Row) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("category".into(), json!(r.category));
    m.insert("n".into(), json!(r.n));
    m
}

fn scope() -> Scope {
    Scope::tenant(TENANT).with_user(USER)
}

fn category_filter(cat: &str) -> Res<Filter> {
    Ok(serde_json::from_value(
        json!({"field": "metadata.category", "eq": cat}),
    )?)
}

impl Bench {
    async fn open(args: &Args, w: Workload) -> Res<Self> {
        let (target, hybrid) = match (&args.store, &args.server) {
            (Some(url), _) => {
                let store = memlane::open(url).await?;
                let hybrid = store.capabilities().hybrid_search;
                (Target::Lib(store), hybrid)
            }
            (None, Some(base)) => {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(64)
                    .build()?;
                let base = base.trim_end_matches('/').to_owned();
                let caps: Value = client
                    .get(format!("{base}/v1/capabilities"))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let hybrid = caps["hybrid_search"].as_bool().unwrap_or(false);
                (Target::Http { client, base }, hybrid)
            }
            (None, None) => return Err("give --store URL or --server URL".into()),
        };
        let mut ops = vec!["add", "get", "list", "semantic", "add_vec", "semantic_vec"];
        if hybrid {
            ops.push("hybrid");
        }
        Ok(Bench {
            target,
            w,
            ids: Vec::new(),
            ops,
        })
    }

    /// Adds the preload in batches, with the precomputed vectors (the model memlane embeds with).
    async fn preload(&mut self) -> Res<usize> {
        let model = memlane_embed::MODEL_NAME;
        let batch = match self.target {
            Target::Lib(_) => 500,
            Target::Http { .. } => 100, // ~350 KB of JSON per request, under the server's 2 MiB body limit
        };
        let mut ids = Vec::with_capacity(self.w.preload.len());
        for start in (0..self.w.preload.len()).step_by(batch) {
            let end = (start + batch).min(self.w.preload.len());
            let news: Vec<NewMemory> = (start..end)
                .map(|i| {
                    let r = &self.w.preload[i];
                    let mut m = NewMemory::new(scope(), r.text.clone());
                    m.metadata = metadata(r);
                    m.embedding = Some(Embedding {
                        model: model.to_owned(),
                        vector: self.w.vector(i),
                    });
                    m
                })
                .collect();
            match &self.target {
                Target::Lib(store) => {
                    for a in store.add(news, AddOptions::default()).await? {
                        ids.push(a.memory.id);
                    }
                }
                Target::Http { client, base } => {
                    let body: Vec<Value> = news
                        .iter()
                        .map(|m| {
                            json!({"scope": {"user": USER}, "content": m.content,
                                   "metadata": m.metadata, "embedding": m.embedding})
                        })
                        .collect();
                    let out: Value = client
                        .post(format!("{base}/v1/memories"))
                        .json(&json!({ "memories": body }))
                        .send()
                        .await?
                        .error_for_status()?
                        .json()
                        .await?;
                    for a in out["results"].as_array().ok_or("no results")? {
                        let id = a["memory"]["id"].as_str().ok_or("no id")?;
                        ids.push(MemoryId::parse_str(id)?);
                    }
                }
            }
        }
        self.ids = ids;
        Ok(self.ids.len())
    }

    /// One operation on input i.
    async fn op(&self, op: &str, i: usize) -> Res<()> {
        let w = &self.w;
        match &self.target {
            Target::Lib(store) => match op {
                "add" => {
                    let r = &w.adds[i];
                    let mut m = NewMemory::new(scope(), r.text.clone());
                    m.metadata = metadata(r);
                    let added = store.add(vec![m], AddOptions::default()).await?;
                    if added.len() != 1 || added[0].memory.embedding.is_none() {
                        return Err("add did not return one embedded memory".into());
                    }
                }
                "add_vec" => {
                    let r = &w.adds[i];
                    let mut m = NewMemory::new(scope(), format!("{} [v]", r.text));
                    m.metadata = metadata(r);
                    m.embedding = Some(self.vector_for(i));
                    store.add(vec![m], AddOptions::default()).await?;
                }
                "semantic_vec" => {
                    let mut q = SearchQuery::new(scope(), w.queries[i].text.clone())
                        .mode(SearchMode::Semantic)
                        .limit(5);
                    q.embedding = Some(self.vector_for(i));
                    let n = store.search(&q).await?.len();
                    if n != 5 {
                        return Err(format!("{n} results instead of 5").into());
                    }
                }
                "get" => {
                    store
                        .get(TENANT, self.ids[(i * 7919) % self.ids.len()])
                        .await?;
                }
                "list" => {
                    // Like the peers' listings, without the vectors.
                    let q = ListQuery::new(scope())
                        .filter(category_filter(w.category(i))?)
                        .limit(10)
                        .without_embeddings();
                    if store.list(&q).await?.memories.is_empty() {
                        return Err("list found nothing".into());
                    }
                }
                "semantic" | "hybrid" => {
                    let mode = if op == "semantic" {
                        SearchMode::Semantic
                    } else {
                        SearchMode::Hybrid
                    };
                    let q = SearchQuery::new(scope(), w.queries[i].text.clone())
                        .mode(mode)
                        .limit(5);
                    let n = store.search(&q).await?.len();
                    if n != 5 {
                        return Err(format!("{n} results instead of 5").into());
                    }
                }
                other => return Err(format!("unknown operation {other}").into()),
            },
            Target::Http { client, base } => {
                let req = match op {
                    "add" => {
                        let r = &w.adds[i];
                        client.post(format!("{base}/v1/memories")).json(&json!({"memories": [
                            {"scope": {"user": USER}, "content": r.text, "metadata": metadata(r)}]}))
                    }
                    "add_vec" => {
                        let r = &w.adds[i];
                        client
                            .post(format!("{base}/v1/memories"))
                            .json(&json!({"memories": [
                            {"scope": {"user": USER}, "content": format!("{} [v]", r.text),
                             "metadata": metadata(r), "embedding": self.vector_for(i)}]}))
                    }
                    "semantic_vec" => client.post(format!("{base}/v1/search")).json(&json!({
                        "user": USER, "text": w.queries[i].text, "mode": "semantic", "limit": 5,
                        "embedding": self.vector_for(i)})),
                    "get" => client.get(format!(
                        "{base}/v1/memories/{}",
                        self.ids[(i * 7919) % self.ids.len()]
                    )),
                    "list" => client
                        .post(format!("{base}/v1/memories/list"))
                        .json(&json!({
                        "user": USER, "limit": 10, "embeddings": false,
                        "filter": {"field": "metadata.category", "eq": w.category(i)}})),
                    "semantic" | "hybrid" => {
                        client.post(format!("{base}/v1/search")).json(&json!({
                        "user": USER, "text": w.queries[i].text, "mode": op, "limit": 5}))
                    }
                    other => return Err(format!("unknown operation {other}").into()),
                };
                let out: Value = req.send().await?.error_for_status()?.json().await?;
                let op = op.trim_end_matches("_vec");
                let found = match op {
                    "add" | "semantic" | "hybrid" => out["results"].as_array().map(Vec::len),
                    "list" => out["memories"].as_array().map(Vec::len),
                    _ => Some(1),
                };
                let want = match op {
                    "add" | "get" => 1,
                    "list" => 10,
                    _ => 5,
                };
                if found.unwrap_or(0) == 0 || (op != "list" && found != Some(want)) {
                    return Err(format!("{op}: unexpected answer {found:?}").into());
                }
            }
        }
        Ok(())
    }
}

impl Bench {
    /// A stored vector of the model, for the `_vec` operations (the store's share of a write or a search without
    /// the embedding: its content does not matter for the timing).
    fn vector_for(&self, i: usize) -> Embedding {
        Embedding {
            model: memlane_embed::MODEL_NAME.to_owned(),
            vector: self.w.vector(i % self.w.preload.len()),
        }
    }
}

/// Runs n operations from input `start` with `concurrency` clients; answers in the protocol's shape.
async fn run(bench: Arc<Bench>, op: String, start: usize, n: usize, concurrency: usize) -> Value {
    let next = Arc::new(AtomicUsize::new(start));
    let errors = Arc::new(Mutex::new((0u64, None::<String>)));
    let op: Arc<str> = op.into();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (bench, next, errors, op) = (bench.clone(), next.clone(), errors.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= start + n {
                    break;
                }
                let t = Instant::now();
                match bench.op(&op, i).await {
                    Ok(()) => lat.push(t.elapsed().as_secs_f64() * 1e6),
                    Err(e) => {
                        if let Ok(mut g) = errors.lock() {
                            g.0 += 1;
                            g.1.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
            }
            lat
        }));
    }
    let mut lat = Vec::with_capacity(n);
    for t in tasks {
        match t.await {
            Ok(l) => lat.extend(l),
            Err(e) => return json!({"ok": false, "error": format!("a client task failed: {e}")}),
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let (count, first) = errors
        .lock()
        .map(|g| (g.0, g.1.clone()))
        .unwrap_or((0, None));
    json!({"ok": true, "lat_us": lat, "wall_s": wall, "errors": count, "error": first})
}

async fn handle(args: &Args, bench: &mut Option<Arc<Bench>>, req: &Value) -> Res<Value> {
    let cmd = req["cmd"].as_str().ok_or("no cmd")?;
    Ok(match cmd {
        "init" => {
            let dir = req["workload"].as_str().ok_or("no workload")?;
            let b = Bench::open(args, Workload::load(Path::new(dir))?).await?;
            let ops = b.ops.clone();
            *bench = Some(Arc::new(b));
            json!({"ok": true, "ops": ops})
        }
        "preload" => {
            let mut b = bench
                .take()
                .and_then(|b| Arc::try_unwrap(b).ok())
                .ok_or("init first")?;
            let t0 = Instant::now();
            let count = b.preload().await?;
            *bench = Some(Arc::new(b));
            json!({"ok": true, "seconds": t0.elapsed().as_secs_f64(), "count": count})
        }
        "run" => {
            let b = bench.clone().ok_or("init first")?;
            let op = req["op"].as_str().ok_or("no op")?.to_owned();
            if !b.ops.contains(&op.as_str()) {
                return Err(format!("operation {op} is not offered").into());
            }
            let num = |k: &str| req[k].as_u64().map(|v| v as usize).ok_or(format!("no {k}"));
            let (start, n) = (num("start")?, num("n")?);
            if op == "get" && b.ids.is_empty() {
                return Err("get needs the preloaded ids: send preload first".into());
            }
            let have = b.w.inputs(&op);
            if start.checked_add(n).is_none_or(|end| end > have) {
                return Err(format!("{op} has {have} inputs: {start}+{n} is past them").into());
            }
            let concurrency = req["concurrency"].as_u64().unwrap_or(1) as usize;
            run(b, op, start, n, concurrency).await
        }
        other => return Err(format!("unknown command {other}").into()),
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut bench = None;
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(req) if req["cmd"] == "quit" => {
                let _ = writeln!(out, "{}", json!({"ok": true}));
                break;
            }
            Ok(req) => handle(&args, &mut bench, &req)
                .await
                .unwrap_or_else(|e| json!({"ok": false, "error": e.to_string()})),
            Err(e) => json!({"ok": false, "error": format!("not JSON: {e}")}),
        };
        if writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .is_err()
        {
            return std::process::ExitCode::FAILURE;
        }
    }
    std::process::ExitCode::SUCCESS
}
