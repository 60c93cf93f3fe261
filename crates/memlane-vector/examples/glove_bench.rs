//! GloVe benchmark for the peer comparison in `bench/vector/`: builds an index over `base.npy`, then measures
//! recall@10 and single-thread queries per second over `queries.npy` at several `ef`, against `gt.npy`.
//!
//! ```text
//! cargo run --release -p memlane-vector --example glove_bench -- DATA_DIR [--m 16] [--efc 100] [--ef 16,32,64]
//!     [--index DIR [--reuse]]   (keep the built index in DIR; --reuse reopens it instead of building)
//!     [--concurrent]            (search QPS alone, then while another thread inserts the last quarter)
//! ```
//! Prints one JSON object per line: `{"lib":"memlane","build_s":..}` then `{"lib":"memlane","ef":..,"recall":..,
//! "qps":..}` per `ef`. Files are those written by `bench/vector/peers.py prep`.

use std::path::Path;
use std::time::Instant;

use memlane_vector::{FsyncPolicy, Index, IndexConfig, SearchParams};

/// A minimal `.npy` reader: little-endian `f4`, `i4` or `i8`, C order, 2-D.
fn read_npy(path: &Path) -> Result<(Vec<f64>, usize, usize), Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    if bytes.get(..6) != Some(b"\x93NUMPY".as_slice()) {
        return Err(format!("{} is not a .npy file", path.display()).into());
    }
    let (hlen, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        )
    };
    let header = std::str::from_utf8(&bytes[start..start + hlen])?;
    if header.contains("'fortran_order': True") {
        return Err("fortran order not supported".into());
    }
    let shape = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or("no shape")?;
    let dims: Vec<usize> = shape
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let (rows, cols) = (dims[0], dims.get(1).copied().unwrap_or(1));
    let body = &bytes[start + hlen..];
    let data: Vec<f64> = if header.contains("'<f4'") {
        body.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect()
    } else if header.contains("'<i8'") {
        body.chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64)
            .collect()
    } else if header.contains("'<i4'") {
        body.chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect()
    } else {
        return Err(format!("unsupported dtype in {header}").into());
    };
    Ok((data, rows, cols))
}

/// CPU time of this thread in nanoseconds (from the scheduler), so a busy shared machine skews QPS less.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Search throughput on one thread alone, then while another thread inserts one vector at a time.
fn concurrent(
    base: &[f32],
    n: usize,
    dim: usize,
    queries: &[f32],
    m: usize,
    efc: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let config = IndexConfig {
        m,
        ef_construction: efc,
        fsync: FsyncPolicy::Never,
        snapshot_wal_bytes: 0,
        ..IndexConfig::new(dim)
    };
    let index = Index::open(dir.path(), config)?;
    index.reserve(n)?;
    let first = n * 3 / 4;
    let ids: Vec<u64> = (0..n as u64).collect();
    index.insert_batch(&ids[..first], &base[..first * dim])?;
    let params = SearchParams {
        ef: Some(128),
        ..Default::default()
    };
    let t = Instant::now();
    for q in queries.chunks_exact(dim) {
        index.search(q, 10, &params)?;
    }
    let alone = (queries.len() / dim) as f64 / t.elapsed().as_secs_f64();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (searched, secs, inserted, insert_secs) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let t = Instant::now();
            for (id, v) in ids[first..]
                .iter()
                .zip(base[first * dim..].chunks_exact(dim))
            {
                index.insert(*id, v)?;
            }
            done.store(true, std::sync::atomic::Ordering::Release);
            Ok::<_, memlane_vector::Error>(t.elapsed().as_secs_f64())
        });
        let t = Instant::now();
        let mut searched = 0usize;
        'outer: loop {
            for q in queries.chunks_exact(dim) {
                if done.load(std::sync::atomic::Ordering::Acquire) {
                    break 'outer;
                }
                let _ = index.search(q, 10, &params);
                searched += 1;
            }
        }
        let secs = t.elapsed().as_secs_f64();
        let insert_secs = writer.join().map_err(|_| "writer panicked")??;
        Ok::<_, Box<dyn std::error::Error>>((searched, secs, n - first, insert_secs))
    })?;
    println!(
        "{{\"lib\":\"memlane\",\"mode\":\"concurrent\",\"ef\":128,\"search_qps_alone\":{alone:.0},\
         \"search_qps_during_inserts\":{:.0},\"inserts_per_s_during_searches\":{:.0},\"start_len\":{first},\
         \"end_len\":{}}}",
        searched as f64 / secs,
        inserted as f64 / insert_secs,
        index.len()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data = Path::new(
        args.get(1)
            .ok_or("usage: glove_bench DATA_DIR [--m M] [--efc EF] [--ef a,b,c]")?,
    );
    let m: usize = arg(&args, "--m").map_or(Ok(16), |s| s.parse())?;
    let efc: usize = arg(&args, "--efc").map_or(Ok(100), |s| s.parse())?;
    let efs: Vec<usize> = arg(&args, "--ef")
        .unwrap_or_else(|| "16,24,32,48,64,96,128,192,256".into())
        .split(',')
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let (base, n, dim) = read_npy(&data.join("base.npy"))?;
    let (queries, nq, _) = read_npy(&data.join("queries.npy"))?;
    let (gt, _, gk) = read_npy(&data.join("gt.npy"))?;
    let base: Vec<f32> = base.into_iter().map(|x| x as f32).collect();
    let queries: Vec<f32> = queries.into_iter().map(|x| x as f32).collect();
    if args.iter().any(|a| a == "--concurrent") {
        return concurrent(&base, n, dim, &queries, m, efc);
    }
    let tmp = tempfile::tempdir()?;
    let reuse = args.iter().any(|a| a == "--reuse");
    let dir =
        arg(&args, "--index").map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    let config = IndexConfig {
        m,
        ef_construction: efc,
        fsync: FsyncPolicy::Never,
        snapshot_wal_bytes: 0,
        ..IndexConfig::new(dim)
    };
    let index = if reuse && dir.join("snapshot.bin").exists() {
        let t = Instant::now();
        let index = Index::open(&dir, config)?;
        println!(
            "{{\"lib\":\"memlane\",\"reopen_s\":{:.3}}}",
            t.elapsed().as_secs_f64()
        );
        index
    } else {
        let _ = std::fs::remove_dir_all(&dir);
        let index = Index::open(&dir, config)?;
        index.reserve(n)?;
        let ids: Vec<u64> = (0..n as u64).collect();
        let t = Instant::now();
        for (chunk_ids, chunk) in ids.chunks(50_000).zip(base.chunks(50_000 * dim)) {
            index.insert_batch(chunk_ids, chunk)?;
        }
        let build = t.elapsed().as_secs_f64();
        let mem = index.memory_usage();
        println!(
            "{{\"lib\":\"memlane\",\"n\":{n},\"dim\":{dim},\"m\":{m},\"efc\":{efc},\"build_s\":{build:.3},\"ram_bytes_per_vector\":{:.1}}}",
            mem.total_bytes_per_vector()
        );
        if arg(&args, "--index").is_some() {
            index.snapshot()?;
        }
        index
    };
    for ef in efs {
        let params = SearchParams {
            ef: Some(ef),
            ..Default::default()
        };
        let mut results = Vec::with_capacity(nq);
        let cpu = thread_cpu_ns();
        let t = Instant::now();
        for q in queries.chunks_exact(dim) {
            results.push(index.search(q, 10, &params)?);
        }
        let secs = t.elapsed().as_secs_f64();
        let cpu_secs = (thread_cpu_ns() - cpu) as f64 / 1e9;
        let mut hits = 0usize;
        for (i, r) in results.iter().enumerate() {
            let truth = &gt[i * gk..i * gk + 10.min(gk)];
            hits += r
                .iter()
                .filter(|(id, _)| truth.contains(&(*id as f64)))
                .count();
        }
        let recall = hits as f64 / (nq * 10) as f64;
        println!(
            "{{\"lib\":\"memlane\",\"ef\":{ef},\"recall\":{recall:.4},\"qps\":{:.1},\"cpu_qps\":{:.1}}}",
            nq as f64 / secs,
            nq as f64 / cpu_secs
        );
    }
    Ok(())
}
