//! Scale benchmark of the compressed mode on a documented synthetic set: RAM per vector, recall@10, latency, build
//! and reopen time.
//!
//! ```text
//! cargo run --release -p memlane-vector --example compressed_bench -- [--n 1000000] [--dim 384] [--m 16] [--m0 16]
//!     [--pq 24] [--efc 100] [--ef 32,64,128] [--dir DIR] [--cache DIR] [--reuse]
//! ```
//!
//! The data: `--n` base vectors and 1,000 held-out queries drawn from one distribution that imitates sentence
//! embeddings, whose intrinsic dimension is far below their length: a mixture of 1,000 Gaussian clusters in a
//! 32-dimensional latent space (centers N(0, 1), spread 0.35), mapped to `--dim` dimensions by a fixed random
//! Gaussian matrix, plus isotropic noise of 0.05 per component; seeds are fixed, so every run sees the same set.
//! Exact ground truth (brute force, all cores) is cached in `--cache`. Prints one JSON object per line.

use std::path::PathBuf;
use std::time::Instant;

use memlane_vector::{Compression, FsyncPolicy, Index, IndexConfig, SearchParams};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn uniform(&mut self) -> f32 {
        ((self.next() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }
    fn gauss(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

const LATENT: usize = 32;
const CLUSTERS: usize = 1000;

/// `n` vectors of the documented distribution; `seed` picks which draws (the model itself is fixed).
fn generate(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut model = Rng(0x00C0_FFEE);
    let centers: Vec<f32> = (0..CLUSTERS * LATENT).map(|_| model.gauss()).collect();
    let proj: Vec<f32> = (0..LATENT * dim)
        .map(|_| model.gauss() / (LATENT as f32).sqrt())
        .collect();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = vec![0.0f32; n * dim];
    let mut z = [0.0f32; LATENT];
    for row in out.chunks_exact_mut(dim) {
        let c = (rng.next() % CLUSTERS as u64) as usize;
        for (j, zj) in z.iter_mut().enumerate() {
            *zj = centers[c * LATENT + j] + 0.35 * rng.gauss();
        }
        for (i, x) in row.iter_mut().enumerate() {
            let mut acc = 0.05 * rng.gauss();
            for (j, zj) in z.iter().enumerate() {
                acc += zj * proj[j * dim + i];
            }
            *x = acc;
        }
    }
    out
}

fn normalize(v: &mut [f32], dim: usize) {
    for row in v.chunks_exact_mut(dim) {
        let n = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        row.iter_mut().for_each(|x| *x /= n);
    }
}

fn ground_truth(base: &[f32], queries: &[f32], dim: usize, k: usize) -> Vec<u64> {
    let mut nb = base.to_vec();
    normalize(&mut nb, dim);
    let mut nq = queries.to_vec();
    normalize(&mut nq, dim);
    let nqs = nq.len() / dim;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = vec![0u64; nqs * k];
    std::thread::scope(|s| {
        for (t, chunk) in out.chunks_mut(k * nqs.div_ceil(threads)).enumerate() {
            let (nb, nq) = (&nb, &nq);
            s.spawn(move || {
                let first = t * nqs.div_ceil(threads);
                for (i, dst) in chunk.chunks_mut(k).enumerate() {
                    let q = &nq[(first + i) * dim..(first + i + 1) * dim];
                    let mut top: Vec<(f32, u64)> = Vec::with_capacity(k + 1);
                    for (id, row) in nb.chunks_exact(dim).enumerate() {
                        let mut acc = [0.0f32; 8];
                        for (x, y) in row.chunks_exact(8).zip(q.chunks_exact(8)) {
                            for l in 0..8 {
                                acc[l] += x[l] * y[l];
                            }
                        }
                        let s: f32 = acc.iter().sum::<f32>()
                            + row
                                .chunks_exact(8)
                                .remainder()
                                .iter()
                                .zip(q.chunks_exact(8).remainder())
                                .map(|(a, b)| a * b)
                                .sum::<f32>();
                        if top.len() < k || s > top[k - 1].0 {
                            let pos = top.partition_point(|e| e.0 >= s);
                            top.insert(pos, (s, id as u64));
                            top.truncate(k);
                        }
                    }
                    for (d, e) in dst.iter_mut().zip(&top) {
                        *d = e.1;
                    }
                }
            });
        }
    });
    out
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--n", 1_000_000);
    let dim: usize = arg(&args, "--dim", 384);
    let m: usize = arg(&args, "--m", 16);
    let m0: usize = arg(&args, "--m0", 16);
    let pq: usize = arg(&args, "--pq", 24);
    let efc: usize = arg(&args, "--efc", 100);
    let efs: Vec<usize> = arg(&args, "--ef", "32,64,96,128,192".to_string())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    let cache = PathBuf::from(arg(
        &args,
        "--cache",
        format!("{home}/.cache/memlane/data/synthetic"),
    ));
    let dir = PathBuf::from(arg(
        &args,
        "--dir",
        format!("{home}/.cache/memlane/data/compressed-index"),
    ));
    std::fs::create_dir_all(&cache)?;

    let t = Instant::now();
    let base = generate(n, dim, 1);
    let queries = generate(1000, dim, 2);
    let gt_path = cache.join(format!("gt-{n}-{dim}.bin"));
    let gt: Vec<u64> = match std::fs::read(&gt_path) {
        Ok(b) if b.len() == 1000 * 10 * 8 => b
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
        _ => {
            let gt = ground_truth(&base, &queries, dim, 10);
            std::fs::write(
                &gt_path,
                gt.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(),
            )?;
            gt
        }
    };
    eprintln!("data and ground truth: {:.1}s", t.elapsed().as_secs_f64());

    let config = IndexConfig {
        m,
        m0,
        ef_construction: efc,
        fsync: FsyncPolicy::Never,
        snapshot_wal_bytes: 0,
        compression: Compression::Pq {
            subspaces: pq,
            train_size: 50_000.min(n),
        },
        ..IndexConfig::new(dim)
    };
    if !(args.iter().any(|a| a == "--reuse") && dir.join("snapshot.bin").exists()) {
        let _ = std::fs::remove_dir_all(&dir);
        let index = Index::open(&dir, config.clone())?;
        index.reserve(n)?;
        let t = Instant::now();
        let ids: Vec<u64> = (0..n as u64).collect();
        for (chunk_ids, chunk) in ids.chunks(50_000).zip(base.chunks(50_000 * dim)) {
            index.insert_batch(chunk_ids, chunk)?;
            eprintln!(
                "  {} inserted, {:.0}s",
                chunk_ids[chunk_ids.len() - 1] + 1,
                t.elapsed().as_secs_f64()
            );
        }
        let build = t.elapsed().as_secs_f64();
        let t = Instant::now();
        index.snapshot()?;
        let snap = t.elapsed().as_secs_f64();
        let mem = index.memory_usage();
        println!(
            "{{\"n\":{n},\"dim\":{dim},\"m\":{m},\"m0\":{m0},\"pq_bytes\":{pq},\"efc\":{efc},\"build_s\":{build:.1},\
             \"snapshot_s\":{snap:.2},\"codes_plus_links_bytes_per_vector\":{:.1},\"codes\":{},\"links\":{},\
             \"total_ram_bytes_per_vector\":{:.1},\"ids\":{},\"id_map\":{},\"tombstones\":{}}}",
            mem.graph_bytes_per_vector(),
            mem.codes,
            mem.links,
            mem.total_bytes_per_vector(),
            mem.ids,
            mem.id_map,
            mem.tombstones
        );
        drop(index);
    }
    let t = Instant::now();
    let index = Index::open(&dir, config)?;
    let reopen = t.elapsed().as_secs_f64();
    println!("{{\"reopen_s\":{reopen:.2},\"len\":{}}}", index.len());
    for ef in efs {
        let params = SearchParams {
            ef: Some(ef),
            ..Default::default()
        };
        let mut lat = Vec::with_capacity(1000);
        let mut hits = 0usize;
        let t = Instant::now();
        for (i, q) in queries.chunks_exact(dim).enumerate() {
            let s = Instant::now();
            let r = index.search(q, 10, &params)?;
            lat.push(s.elapsed().as_secs_f64() * 1e3);
            hits += r
                .iter()
                .filter(|(id, _)| gt[i * 10..i * 10 + 10].contains(id))
                .count();
        }
        let secs = t.elapsed().as_secs_f64();
        lat.sort_by(f64::total_cmp);
        println!(
            "{{\"ef\":{ef},\"recall\":{:.4},\"qps\":{:.0},\"p50_ms\":{:.3},\"p95_ms\":{:.3}}}",
            hits as f64 / 10_000.0,
            1000.0 / secs,
            lat[500],
            lat[950]
        );
    }
    Ok(())
}
