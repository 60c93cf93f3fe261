//! Product quantization: compact codes in RAM for graph traversal in compressed mode.
//!
//! A padded vector of `d` floats is cut into `m` sub-vectors; each is replaced by the number (one byte) of the
//! nearest of 256 centroids learned by k-means for that sub-space. A query's similarity to a code is then the sum of
//! `m` table look-ups (asymmetric distance computation): the table holds the dot product of each query sub-vector
//! with each centroid, computed once per query. Codes steer the walk; full vectors rescore the best candidates.

use crate::distance::DotFn;

/// Centroids per sub-space (one byte per code).
pub(crate) const CENTROIDS: usize = 256;

/// A trained product quantizer.
#[derive(Clone, Debug)]
pub(crate) struct Pq {
    /// Padded dimension.
    pub(crate) dim: usize,
    /// Sub-spaces (bytes per code).
    pub(crate) m: usize,
    /// `m * 256 * (dim / m)` floats: sub-space, centroid, component.
    pub(crate) centroids: Vec<f32>,
}

fn l2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn nearest(x: &[f32], cents: &[f32], dsub: usize) -> usize {
    let mut best = (f32::INFINITY, 0);
    for (c, cent) in cents.chunks_exact(dsub).enumerate() {
        let d = l2(x, cent);
        if d < best.0 {
            best = (d, c);
        }
    }
    best.1
}

/// k-means with 256 centroids on `n` points of `dsub` floats.
fn kmeans(points: &[f32], dsub: usize, iterations: usize, seed: u64) -> Vec<f32> {
    let n = points.len() / dsub;
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut cents = vec![0.0f32; CENTROIDS * dsub];
    for c in 0..CENTROIDS {
        let p = (next() % n as u64) as usize;
        cents[c * dsub..(c + 1) * dsub].copy_from_slice(&points[p * dsub..(p + 1) * dsub]);
    }
    let mut assign = vec![0usize; n];
    for _ in 0..iterations {
        for (i, a) in assign.iter_mut().enumerate() {
            *a = nearest(&points[i * dsub..(i + 1) * dsub], &cents, dsub);
        }
        let mut sums = vec![0.0f64; CENTROIDS * dsub];
        let mut counts = vec![0usize; CENTROIDS];
        for (i, &a) in assign.iter().enumerate() {
            counts[a] += 1;
            for (s, &x) in sums[a * dsub..(a + 1) * dsub]
                .iter_mut()
                .zip(&points[i * dsub..(i + 1) * dsub])
            {
                *s += f64::from(x);
            }
        }
        for c in 0..CENTROIDS {
            let dst = &mut cents[c * dsub..(c + 1) * dsub];
            if counts[c] == 0 {
                let p = (next() % n as u64) as usize;
                dst.copy_from_slice(&points[p * dsub..(p + 1) * dsub]);
            } else {
                for (d, s) in dst.iter_mut().zip(&sums[c * dsub..(c + 1) * dsub]) {
                    *d = (*s / counts[c] as f64) as f32;
                }
            }
        }
    }
    cents
}

impl Pq {
    /// Learns `m` codebooks from `data` (rows of `dim` floats), with up to `threads` threads.
    pub(crate) fn train(data: &[f32], dim: usize, m: usize, threads: usize, seed: u64) -> Pq {
        let dsub = dim / m;
        let n = data.len() / dim;
        let mut centroids = vec![0.0f32; m * CENTROIDS * dsub];
        let next = std::sync::atomic::AtomicUsize::new(0);
        let parts: Vec<Vec<(usize, Vec<f32>)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads.max(1))
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if j >= m {
                                return mine;
                            }
                            let mut pts = Vec::with_capacity(n * dsub);
                            for row in data.chunks_exact(dim) {
                                pts.extend_from_slice(&row[j * dsub..(j + 1) * dsub]);
                            }
                            mine.push((
                                j,
                                kmeans(&pts, dsub, 10, seed ^ ((j as u64 + 1) * 0x9E37)),
                            ));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for (j, cents) in parts.into_iter().flatten() {
            centroids[j * CENTROIDS * dsub..(j + 1) * CENTROIDS * dsub].copy_from_slice(&cents);
        }
        Pq { dim, m, centroids }
    }

    fn dsub(&self) -> usize {
        self.dim / self.m
    }

    /// The code of a padded vector.
    pub(crate) fn encode(&self, v: &[f32], out: &mut [u8]) {
        let dsub = self.dsub();
        for (j, o) in out.iter_mut().enumerate().take(self.m) {
            let cents = &self.centroids[j * CENTROIDS * dsub..(j + 1) * CENTROIDS * dsub];
            *o = nearest(&v[j * dsub..(j + 1) * dsub], cents, dsub) as u8;
        }
    }

    /// The look-up table of a padded query: `m * 256` partial dot products.
    pub(crate) fn table(&self, q: &[f32], dot: DotFn) -> Vec<f32> {
        let dsub = self.dsub();
        let mut t = Vec::with_capacity(self.m * CENTROIDS);
        for j in 0..self.m {
            let qs = &q[j * dsub..(j + 1) * dsub];
            for cent in
                self.centroids[j * CENTROIDS * dsub..(j + 1) * CENTROIDS * dsub].chunks_exact(dsub)
            {
                t.push(if dsub % 8 < 1 {
                    dot(qs, cent)
                } else {
                    qs.iter().zip(cent).map(|(a, b)| a * b).sum()
                });
            }
        }
        t
    }

    /// Approximate similarity of the query behind `table` to `code`.
    #[inline(always)]
    pub(crate) fn score(table: &[f32], code: &[u8]) -> f32 {
        let mut acc = [0.0f32; 4];
        let mut chunks = code.chunks_exact(4);
        let mut base = 0;
        for c in &mut chunks {
            for i in 0..4 {
                acc[i] += table
                    .get(base + i * CENTROIDS + c[i] as usize)
                    .copied()
                    .unwrap_or(0.0);
            }
            base += 4 * CENTROIDS;
        }
        for (i, &c) in chunks.remainder().iter().enumerate() {
            acc[i] += table
                .get(base + i * CENTROIDS + c as usize)
                .copied()
                .unwrap_or(0.0);
        }
        acc.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_approximate_dot_products() {
        let dim = 16;
        let mut state = 7u64;
        let mut rnd = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let data: Vec<f32> = (0..2000 * dim).map(|_| rnd()).collect();
        let pq = Pq::train(&data, dim, 4, 2, 1);
        let q: Vec<f32> = (0..dim).map(|_| rnd()).collect();
        let table = pq.table(&q, crate::distance::dot_portable);
        let mut code = vec![0u8; 4];
        let mut err = 0.0;
        for row in data.chunks_exact(dim).take(200) {
            pq.encode(row, &mut code);
            let exact: f32 = row.iter().zip(&q).map(|(a, b)| a * b).sum();
            err += (Pq::score(&table, &code) - exact).abs();
        }
        assert!(err / 200.0 < 0.1, "mean error {}", err / 200.0);
    }
}
