//! Throughput of [`memlane_embed::MiniLm`] at given batch sizes, in texts per second.
//!
//! ```text
//! cargo run --release -p memlane-embed --example embed_bench -- [--texts FILE] [--batch 1,64] [--count N]
//!     [--warmup N] [--naive] [--json] [--evict-mb N] [--gap-us N]
//! ```
//!
//! `--texts FILE` holds one JSON string per line (what `bench/embed/st_bench.py --write-texts` writes), so the
//! sentence-transformers benchmark runs on exactly the same texts; without it a small built-in set is used. Each
//! batch size embeds the first `--count` texts (default 512) in calls of that many texts, after `--warmup` calls.
//! `--naive` measures a straightforward candle port instead (candle-transformers' `BertModel`, batches padded to
//! their longest text), for comparison. `--json` prints one JSON object per batch size.
//!
//! Back-to-back calls keep the weights in the CPU's caches and the pool's threads awake, which a store's `add` does
//! not (its database work runs between two embeddings). `--evict-mb N` writes N MiB of another buffer between calls
//! (e.g. 64 on a 32 MiB L3), `--gap-us N` sleeps that long between calls (the threads park); both are outside the
//! timed part. The median time per call is printed with the throughput (over the timed calls only).

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use memlane_core::Embedder;
use memlane_embed::{default_model_dir, MiniLm, MAX_TOKENS};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Embeds a batch of texts.
type EmbedFn = Box<dyn Fn(&[&str]) -> AnyResult<Vec<Vec<f32>>>>;

/// The straightforward port: candle-transformers' BERT on padded batches, masked mean pooling, L2 normalization.
struct Naive {
    tokenizer: Tokenizer,
    model: BertModel,
}

impl Naive {
    fn load() -> AnyResult<Self> {
        let dir = default_model_dir();
        let config: Config = serde_json::from_slice(&std::fs::read(dir.join("config.json"))?)?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer.with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..Default::default()
        }))?;
        let vb = VarBuilder::from_buffered_safetensors(
            std::fs::read(dir.join("model.safetensors"))?,
            DType::F32,
            &Device::Cpu,
        )?;
        let model = BertModel::load(vb, &config)?;
        Ok(Self { tokenizer, model })
    }

    fn embed(&self, texts: &[&str]) -> AnyResult<Vec<Vec<f32>>> {
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true)?;
        let dev = Device::Cpu;
        let ids: Vec<Tensor> = enc
            .iter()
            .map(|e| Tensor::new(e.get_ids(), &dev))
            .collect::<candle_core::Result<_>>()?;
        let mask: Vec<Tensor> = enc
            .iter()
            .map(|e| Tensor::new(e.get_attention_mask(), &dev))
            .collect::<candle_core::Result<_>>()?;
        let ids = Tensor::stack(&ids, 0)?;
        let mask = Tensor::stack(&mask, 0)?;
        let types = ids.zeros_like()?;
        let out = self.model.forward(&ids, &types, Some(&mask))?;
        let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = out.broadcast_mul(&m)?.sum(1)?;
        let pooled = summed.broadcast_div(&m.sum(1)?)?;
        let norm = pooled.sqr()?.sum_keepdim(1)?.sqrt()?;
        Ok(pooled.broadcast_div(&norm)?.to_vec2()?)
    }
}

struct Args {
    texts: Option<PathBuf>,
    batches: Vec<usize>,
    count: usize,
    warmup: usize,
    naive: bool,
    json: bool,
    evict_mb: usize,
    gap_us: u64,
}

fn parse_args() -> AnyResult<Args> {
    let mut args = Args {
        texts: None,
        batches: vec![1, 64],
        count: 512,
        warmup: 2,
        naive: false,
        json: false,
        evict_mb: 0,
        gap_us: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--texts" => args.texts = Some(PathBuf::from(value()?)),
            "--batch" => {
                args.batches = value()?
                    .split(',')
                    .map(|b| b.trim().parse::<usize>())
                    .collect::<Result<_, _>>()?
            }
            "--count" => args.count = value()?.parse()?,
            "--warmup" => args.warmup = value()?.parse()?,
            "--naive" => args.naive = true,
            "--json" => args.json = true,
            "--evict-mb" => args.evict_mb = value()?.parse()?,
            "--gap-us" => args.gap_us = value()?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if args.batches.contains(&0) {
        return Err("batch sizes must be positive".into());
    }
    Ok(args)
}

fn load_texts(path: Option<&PathBuf>) -> AnyResult<Vec<String>> {
    match path {
        Some(p) => std::fs::read_to_string(p)?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Ok(serde_json::from_str::<String>(l)?))
            .collect(),
        None => Ok([
            "The user prefers dark mode in the editor.",
            "Meeting with the billing team moved to Tuesday at 3pm.",
            "Remember that the staging API key rotates on the first of every month.",
            "She likes hiking in the mountains on weekends, especially in autumn.",
            "Redis is an in-memory key-value store often used as a cache.",
            "PostgreSQL supports full-text search with tsvector and GIN indexes.",
            "Customer #4411 reported that invoice INV-2026-0042 was charged twice; a refund was issued.",
            "ok",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()),
    }
}

/// CPU time used by this process so far (all threads), from `/proc/self/stat` (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesized command name: state is field 3, utime 14 and stime 15 (clock ticks, 100/s).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> AnyResult<()> {
    let args = parse_args()?;
    let corpus = load_texts(args.texts.as_ref())?;
    if corpus.is_empty() {
        return Err("no texts".into());
    }
    let texts: Vec<&str> = corpus
        .iter()
        .map(String::as_str)
        .cycle()
        .take(args.count)
        .collect();
    let t0 = Instant::now();
    let (name, run): (&str, EmbedFn) = if args.naive {
        let naive = Naive::load()?;
        ("candle-naive", Box::new(move |t: &[&str]| naive.embed(t)))
    } else {
        let model = MiniLm::load_default()?;
        ("memlane", Box::new(move |t: &[&str]| Ok(model.embed(t)?)))
    };
    let load_s = t0.elapsed().as_secs_f64();
    if !args.json {
        println!(
            "{name}: model loaded in {load_s:.2}s; {} texts, {} threads",
            texts.len(),
            rayon::current_num_threads()
        );
    }
    for &batch in &args.batches {
        for chunk in texts.chunks(batch).take(args.warmup) {
            run(chunk)?;
        }
        let mut evict = vec![0u8; args.evict_mb << 20];
        let (mut secs, mut cpu, mut n) = (0.0, 0.0, 0);
        let mut calls = Vec::new();
        for (k, chunk) in texts.chunks(batch).enumerate() {
            if !evict.is_empty() {
                // One write per cache line, a different value each round so no page stays untouched.
                for b in evict.iter_mut().step_by(64) {
                    *b = b.wrapping_add(k as u8 | 1);
                }
            }
            if args.gap_us > 0 {
                std::thread::sleep(std::time::Duration::from_micros(args.gap_us));
            }
            let cpu_start = cpu_seconds();
            let start = Instant::now();
            n += run(chunk)?.len();
            let took = start.elapsed().as_secs_f64();
            (secs, cpu) = (secs + took, cpu + cpu_seconds() - cpu_start);
            calls.push(took);
        }
        std::hint::black_box(&evict);
        calls.sort_by(f64::total_cmp);
        let median_ms = calls.get(calls.len() / 2).copied().unwrap_or(0.0) * 1e3;
        let rate = n as f64 / secs;
        if args.json {
            println!(
                "{{\"impl\":\"{name}\",\"batch\":{batch},\"texts\":{n},\"seconds\":{secs:.4},\"cpu_seconds\":{cpu:.2},\"texts_per_s\":{rate:.2},\"median_call_ms\":{median_ms:.3}}}"
            );
        } else {
            println!("{name}: batch {batch:>3}: {rate:>8.1} texts/s ({n} texts in {secs:.2}s, {cpu:.2} CPU-s), median call {median_ms:.2} ms");
        }
    }
    Ok(())
}
