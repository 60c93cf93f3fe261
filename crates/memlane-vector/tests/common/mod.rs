//! Shared helpers for the integration tests: a seeded generator of clustered vectors and brute-force truth.
#![allow(dead_code)]

/// A small seeded generator (xorshift64*), so tests need no `rand` crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }
    pub fn gauss(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

/// `n` vectors of `dim` around `clusters` random centers (spread `noise`), row-major.
pub fn clustered(n: usize, dim: usize, clusters: usize, noise: f32, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let centers: Vec<f32> = (0..clusters * dim).map(|_| rng.gauss()).collect();
    let mut out = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let c = (rng.next_u64() % clusters as u64) as usize;
        for j in 0..dim {
            out.push(centers[c * dim + j] + noise * rng.gauss());
        }
    }
    out
}

pub fn normalized(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

/// Exact top-`k` ids among `(id, vector)` rows that pass `keep`, by cosine.
pub fn brute_force(
    rows: &[(u64, Vec<f32>)],
    q: &[f32],
    k: usize,
    keep: impl Fn(u64) -> bool,
) -> Vec<u64> {
    let q = normalized(q);
    let mut scored: Vec<(f32, u64)> = rows
        .iter()
        .filter(|(id, _)| keep(*id))
        .map(|(id, v)| (normalized(v).iter().zip(&q).map(|(a, b)| a * b).sum(), *id))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(k).map(|x| x.1).collect()
}

/// Fraction of `truth` found in `found`.
pub fn recall(found: &[(u64, f32)], truth: &[u64]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    found.iter().filter(|(id, _)| truth.contains(id)).count() as f64 / truth.len() as f64
}
