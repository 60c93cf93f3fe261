//! Fused CPU kernels for the parts of the encoder that are not matrix products: embedding lookup, bias + GELU,
//! bias + residual + layer norm, variable-length attention and mean pooling.
//!
//! Every kernel is written once as plain loops that the compiler vectorizes, and compiled three times by
//! [`multiversion!`]: for AVX-512, for AVX2 + FMA and for the baseline, picked at run time by the CPU's features.
//! Rows are spread over the rayon pool when there are enough of them to pay for it.

use rayon::prelude::*;

/// Below this many `f32`s an elementwise kernel runs on the calling thread: waking the pool costs more.
const PAR_MIN_ELEMS: usize = 16 * 1024;

/// [`PAR_MIN_ELEMS`] for [`gelu_in_place`]: a short text's `[tokens, 1536]` activations (a few tens of
/// microseconds of work) run faster on the calling thread than split (measured, see `docs/embeddings.md`).
const GELU_PAR_MIN_ELEMS: usize = 64 * 1024;

/// Whether the rayon pool has one thread: work handed to it would only move to its one worker and back (a
/// wake-up and a sleep when the caller is outside the pool).
fn single_thread() -> bool {
    rayon::current_num_threads() <= 1
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    V4,
    V3,
    Base,
}

#[cfg(target_arch = "x86_64")]
fn level() -> Level {
    use std::sync::OnceLock;
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            Level::V4
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            Level::V3
        } else {
            Level::Base
        }
    })
}

/// Defines a function whose body is compiled for AVX-512, AVX2 + FMA and the baseline, dispatching at run time.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                fn v4($($arg: $ty),*) $(-> $ret)? {
                    generic($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn v3($($arg: $ty),*) $(-> $ret)? {
                    generic($($arg),*)
                }
                match level() {
                    // SAFETY: `level()` has checked that the CPU has these features.
                    Level::V4 => return unsafe { v4($($arg),*) },
                    // SAFETY: as above.
                    Level::V3 => return unsafe { v3($($arg),*) },
                    Level::Base => {}
                }
            }
            generic($($arg),*)
        }
    };
}

/// The sum of `xs`, in 16 lanes so that it vectorizes.
#[inline(always)]
fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let chunks = xs.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// The sum of squares of `xs`, in 16 lanes.
#[inline(always)]
fn sum_sq(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let chunks = xs.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().map(|x| x * x).sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = x.mul_add(x, *a);
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// The largest of `xs` (not empty), in 16 lanes.
#[inline(always)]
fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 16];
    let chunks = xs.chunks_exact(16);
    let rest = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = if x > *a { x } else { *a };
        }
    }
    acc.iter().fold(rest, |m, &x| if x > m { x } else { m })
}

/// `exp(x)` for `f32`, branch-free so loops over it vectorize; within 2 ulp of the true value on the range used
/// here (softmax inputs `<= 0`). Inputs below about -87 give 0.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E).round();
    let r = x - n * LN2_HI - n * LN2_LO;
    // Cephes' minimax polynomial for exp(r) on [-ln2/2, ln2/2].
    let mut p = 1.987_569_1e-4_f32;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5);
    let e = (p * r * r + r) + 1.0;
    let scale = f32::from_bits((((n as i32) + 127) as u32) << 23);
    e * scale
}

/// `erf(x)` for `f32`: a rational approximation (odd degree-13 over even degree-8) with an absolute error below
/// 1e-7, branch-free so that loops over it vectorize.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = p.mul_add(x2, 2.770_681_4e-8);
    p = p.mul_add(x2, -2.101_024e-6);
    p = p.mul_add(x2, -5.692_506_4e-5);
    p = p.mul_add(x2, -7.349_906_3e-4);
    p = p.mul_add(x2, -2.954_600_1e-3);
    p = p.mul_add(x2, -1.609_603_3e-2);
    p *= x;
    let mut q = -1.456_607_2e-5_f32;
    q = q.mul_add(x2, -2.133_740_6e-4);
    q = q.mul_add(x2, -1.682_827e-3);
    q = q.mul_add(x2, -7.373_329e-3);
    q = q.mul_add(x2, -1.426_474e-2);
    p / q
}

/// `gelu(x) = x/2 * (1 + erf(x/sqrt 2))`, the exact (erf) form BERT uses.
#[inline(always)]
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

multiversion! {
    /// `x = gelu(x)` on the calling thread.
    pub(crate) fn gelu_slice(x: &mut [f32]) {
        for v in x.iter_mut() {
            *v = gelu(*v);
        }
    }
}

/// `x = gelu(x)`, in place.
pub(crate) fn gelu_in_place(x: &mut [f32]) {
    if x.len() < GELU_PAR_MIN_ELEMS || single_thread() {
        return gelu_slice(x);
    }
    let chunk = x
        .len()
        .div_ceil(rayon::current_num_threads().max(1) * 4)
        .max(4096);
    x.par_chunks_mut(chunk).for_each(gelu_slice);
}

/// The parameters of a layer norm over rows of `gamma.len()`.
pub(crate) struct LayerNormParams<'a> {
    pub(crate) gamma: &'a [f32],
    pub(crate) beta: &'a [f32],
    pub(crate) eps: f32,
}

multiversion! {
    /// [`add_layer_norm`] on the calling thread; an empty `residual` means none.
    pub(crate) fn add_layer_norm_rows(x: &mut [f32], residual: &[f32], gamma: &[f32], beta: &[f32], eps: f32) {
        let width = gamma.len();
        let inv = 1.0 / width as f32;
        for (row, d) in x.chunks_exact_mut(width).enumerate() {
            if !residual.is_empty() {
                for (d, &r) in d.iter_mut().zip(&residual[row * width..(row + 1) * width]) {
                    *d += r;
                }
            }
            let mean = sum(d) * inv;
            for d in d.iter_mut() {
                *d -= mean;
            }
            let rstd = 1.0 / (sum_sq(d) * inv + eps).sqrt();
            for ((d, &g), &b) in d.iter_mut().zip(gamma).zip(beta) {
                *d = (*d * rstd).mul_add(g, b);
            }
        }
    }
}

/// `x = layer_norm(x + residual)`, row by row, in place. An empty `residual` means none.
pub(crate) fn add_layer_norm(x: &mut [f32], residual: &[f32], ln: &LayerNormParams<'_>) {
    let width = ln.gamma.len();
    if x.len() < PAR_MIN_ELEMS || single_thread() {
        return add_layer_norm_rows(x, residual, ln.gamma, ln.beta, ln.eps);
    }
    let rows = (x.len() / width)
        .div_ceil(rayon::current_num_threads().max(1) * 4)
        .max(8);
    let chunk = rows * width;
    x.par_chunks_mut(chunk).enumerate().for_each(|(i, d)| {
        let r = if residual.is_empty() {
            residual
        } else {
            &residual[i * chunk..i * chunk + d.len()]
        };
        add_layer_norm_rows(d, r, ln.gamma, ln.beta, ln.eps);
    });
}

/// `dst = x · w + bias` for row-major `x: [m, k]`, `w: [k, n]`, `bias: [n]`, `dst: [m, n]`, with the `gemm` crate
/// (candle's CPU matrix product) writing straight into `dst`, the bias rows as its starting value, on the rayon
/// pool's threads. Returns `false` (and does nothing) when the lengths do not match the shape.
pub(crate) fn linear(
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    m: usize,
    k: usize,
    n: usize,
    dst: &mut [f32],
) -> bool {
    if x.len() != m * k || w.len() != k * n || bias.len() != n || dst.len() != m * n {
        return false;
    }
    if m == 0 || n == 0 {
        return true;
    }
    for row in dst.chunks_exact_mut(n) {
        row.copy_from_slice(bias);
    }
    // Rayon(0): gemm uses the current pool's thread count and decides by itself when a product is too small to
    // split.
    let parallelism = if rayon::current_num_threads() > 1 {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the three buffers are row-major and contiguous with the lengths checked above; gemm reads `x` and `w`
    // and writes only within `dst`, which is borrowed mutably and so aliases neither.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            true,
            x.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            1,
            n as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
    true
}

/// The shape of the packed `[tokens, 3 * hidden]` query/key/value matrix that [`attention`] reads.
#[derive(Clone, Copy)]
pub(crate) struct AttentionShape {
    pub(crate) heads: usize,
    pub(crate) head_dim: usize,
}

impl AttentionShape {
    fn hidden(self) -> usize {
        self.heads * self.head_dim
    }

    /// Whether [`attention`] has a kernel for this head size.
    pub(crate) fn supported(self) -> bool {
        matches!(self.head_dim, 32 | 64)
    }
}

/// Query rows computed together, and key columns per tile (one AVX-512 vector).
const QB: usize = 4;
const KT: usize = 16;

/// `N` values of `xs` from `at`, as an array reference (the caller guarantees the range).
#[inline(always)]
fn tile<const N: usize>(xs: &[f32], at: usize) -> &[f32; N] {
    let s = &xs[at..at + N];
    s.try_into()
        .unwrap_or_else(|_| unreachable!("a slice of N elements"))
}

/// One head of one sequence, with `D = head_dim`. `qkv` holds the sequence's rows of the packed projection
/// (queries already scaled by `1/sqrt(D)`); writes `[len, D]` into `out`. Register-tiled: `QB` query rows share
/// each load of keys (transposed, `KT` columns at a time) and of values.
// Index loops over fixed-size arrays are what the vectorizer keeps in registers here.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn attention_head_impl<const D: usize>(
    qkv: &[f32],
    head: usize,
    heads: usize,
    scratch: &mut Vec<f32>,
    out: &mut [f32],
) {
    let hidden = heads * D;
    let stride = 3 * hidden;
    let len = qkv.len() / stride;
    let lp = len.next_multiple_of(KT);
    let (qo, ko, vo) = (head * D, hidden + head * D, 2 * hidden + head * D);
    // scratch = [K transposed: D x lp | V: len x D | scores: QB x lp]
    scratch.clear();
    scratch.resize(D * lp + len * D + QB * lp, 0.0);
    let (kt, rest) = scratch.split_at_mut(D * lp);
    let (v, scores) = rest.split_at_mut(len * D);
    for (j, row) in qkv.chunks_exact(stride).enumerate() {
        for (d, &x) in row[ko..ko + D].iter().enumerate() {
            kt[d * lp + j] = x;
        }
        v[j * D..(j + 1) * D].copy_from_slice(&row[vo..vo + D]);
    }
    let mut i0 = 0;
    while i0 < len {
        let rows = QB.min(len - i0);
        let mut q = [[0.0f32; D]; QB];
        for (r, q) in q.iter_mut().enumerate().take(rows) {
            let at = (i0 + r) * stride + qo;
            q.copy_from_slice(&qkv[at..at + D]);
        }
        // scores[r][j] = q_r . k_j, a tile of KT keys at a time, QB query rows sharing each load of keys.
        for jt in (0..lp).step_by(KT) {
            let (mut a0, mut a1, mut a2, mut a3) =
                ([0.0f32; KT], [0.0f32; KT], [0.0f32; KT], [0.0f32; KT]);
            for d in 0..D {
                let k: &[f32; KT] = tile(kt, d * lp + jt);
                let (q0, q1, q2, q3) = (q[0][d], q[1][d], q[2][d], q[3][d]);
                for l in 0..KT {
                    a0[l] = q0.mul_add(k[l], a0[l]);
                    a1[l] = q1.mul_add(k[l], a1[l]);
                    a2[l] = q2.mul_add(k[l], a2[l]);
                    a3[l] = q3.mul_add(k[l], a3[l]);
                }
            }
            for (r, a) in [a0, a1, a2, a3].iter().enumerate() {
                scores[r * lp + jt..r * lp + jt + KT].copy_from_slice(a);
            }
        }
        // softmax over the real keys
        let mut inv = [0.0f32; QB];
        for (r, inv) in inv.iter_mut().enumerate().take(rows) {
            let s = &mut scores[r * lp..r * lp + len];
            let m = max(s);
            for x in s.iter_mut() {
                *x = exp(*x - m);
            }
            *inv = 1.0 / sum(s);
        }
        // out_r = sum_j p_rj v_j, QB rows sharing each load of a value row.
        let (mut o0, mut o1, mut o2, mut o3) = ([0.0f32; D], [0.0f32; D], [0.0f32; D], [0.0f32; D]);
        for j in 0..len {
            let vj: &[f32; D] = tile(v, j * D);
            let (p0, p1, p2, p3) = (
                scores[j],
                scores[lp + j],
                scores[2 * lp + j],
                scores[3 * lp + j],
            );
            for d in 0..D {
                o0[d] = p0.mul_add(vj[d], o0[d]);
                o1[d] = p1.mul_add(vj[d], o1[d]);
                o2[d] = p2.mul_add(vj[d], o2[d]);
                o3[d] = p3.mul_add(vj[d], o3[d]);
            }
        }
        let o = [o0, o1, o2, o3];
        for r in 0..rows {
            let dst = &mut out[(i0 + r) * D..(i0 + r + 1) * D];
            for (d, &x) in dst.iter_mut().zip(&o[r]) {
                *d = x * inv[r];
            }
        }
        i0 += QB;
    }
}

multiversion! {
    fn attention_head_32(qkv: &[f32], head: usize, heads: usize, scratch: &mut Vec<f32>, out: &mut [f32]) {
        attention_head_impl::<32>(qkv, head, heads, scratch, out)
    }
}

multiversion! {
    fn attention_head_64(qkv: &[f32], head: usize, heads: usize, scratch: &mut Vec<f32>, out: &mut [f32]) {
        attention_head_impl::<64>(qkv, head, heads, scratch, out)
    }
}

/// One head of one sequence of [`attention`] on the calling thread: `qkv` holds the sequence's `[len, 3 * hidden]`
/// rows, `out` receives its `[len, head_dim]` output; `scratch` is reused between calls.
pub(crate) fn attention_head(
    qkv: &[f32],
    head: usize,
    shape: AttentionShape,
    scratch: &mut Vec<f32>,
    out: &mut [f32],
) {
    match shape.head_dim {
        32 => attention_head_32(qkv, head, shape.heads, scratch, out),
        _ => attention_head_64(qkv, head, shape.heads, scratch, out),
    }
}

/// Multi-head self-attention over packed sequences without padding: `qkv` is `[tokens, 3 * hidden]` (the rows of
/// all sequences back to back, `seqs` gives each one's `(start, len)` in rows; queries pre-scaled), `out` is
/// `[tokens, hidden]`. Each sequence attends only to itself, so no mask and no padded position is ever computed.
/// The head size must be [`AttentionShape::supported`].
pub(crate) fn attention(
    qkv: &[f32],
    seqs: &[(usize, usize)],
    shape: AttentionShape,
    out: &mut [f32],
) {
    let hidden = shape.hidden();
    let stride = 3 * hidden;
    let head_fn = match shape.head_dim {
        32 => attention_head_32,
        _ => attention_head_64,
    };
    let tasks: Vec<(usize, usize)> = (0..seqs.len())
        .flat_map(|s| (0..shape.heads).map(move |h| (s, h)))
        .collect();
    let run = |scratch: &mut Vec<f32>, &(s, h): &(usize, usize)| {
        let (start, len) = seqs[s];
        let mut head_out = vec![0.0f32; len * shape.head_dim];
        head_fn(
            &qkv[start * stride..(start + len) * stride],
            h,
            shape.heads,
            scratch,
            &mut head_out,
        );
        (s, h, head_out)
    };
    let work: usize = seqs.iter().map(|&(_, len)| len * len).sum::<usize>() * hidden;
    let results: Vec<(usize, usize, Vec<f32>)> = if work < PAR_MIN_ELEMS * 8 || single_thread() {
        let mut scratch = Vec::new();
        tasks.iter().map(|t| run(&mut scratch, t)).collect()
    } else {
        tasks.par_iter().map_init(Vec::new, run).collect()
    };
    for (s, h, head_out) in results {
        let (start, _) = seqs[s];
        for (i, src) in head_out.chunks_exact(shape.head_dim).enumerate() {
            let row = (start + i) * hidden + h * shape.head_dim;
            out[row..row + shape.head_dim].copy_from_slice(src);
        }
    }
}

multiversion! {
    /// `dst[i] = words[ids[i]] + positions[i]`, rows of `width` (ids in range, checked by the caller).
    pub(crate) fn gather_rows(ids: &[u32], words: &[f32], positions: &[f32], width: usize, dst: &mut [f32]) {
        for ((i, &id), d) in ids.iter().enumerate().zip(dst.chunks_exact_mut(width)) {
            let w = &words[id as usize * width..(id as usize + 1) * width];
            let p = &positions[i * width..(i + 1) * width];
            for ((d, &w), &p) in d.iter_mut().zip(w).zip(p) {
                *d = w + p;
            }
        }
    }
}

/// The word + position (+ token type 0) embeddings of packed sequences, before the embedding layer norm.
/// `positions` already includes the token type 0 embedding; ids must be in range (checked by the caller).
pub(crate) fn embed_tokens(
    ids: &[u32],
    seqs: &[(usize, usize)],
    words: &[f32],
    positions: &[f32],
    width: usize,
    dst: &mut [f32],
) {
    for &(start, len) in seqs {
        gather_rows(
            &ids[start..start + len],
            words,
            positions,
            width,
            &mut dst[start * width..(start + len) * width],
        );
    }
}

/// Mean of each sequence's rows, L2-normalized: the sentence-transformers pooling of this model.
pub(crate) fn mean_pool_normalize(
    x: &[f32],
    seqs: &[(usize, usize)],
    width: usize,
) -> Vec<Vec<f32>> {
    seqs.iter()
        .map(|&(start, len)| {
            let mut acc = vec![0.0f64; width];
            for row in x[start * width..(start + len) * width].chunks_exact(width) {
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a += f64::from(v);
                }
            }
            let n = len.max(1) as f64;
            let norm = acc
                .iter()
                .map(|a| (a / n) * (a / n))
                .sum::<f64>()
                .sqrt()
                .max(1e-12);
            acc.iter().map(|a| (a / n / norm) as f32).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = -80.0 + i as f32 * 0.0004;
            let got = f64::from(exp(x));
            let want = f64::from(x).exp();
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 1e-6, "relative error {worst}");
    }

    #[test]
    fn gelu_is_accurate() {
        // Reference: gelu via f64 erf computed by a high-precision series (Abramowitz-Stegun 7.1.5 is slow but
        // exact enough for |x| <= 6).
        fn erf64(x: f64) -> f64 {
            let mut sum = 0.0;
            let mut term = x;
            let mut n = 0.0;
            loop {
                let t = term / (2.0 * n + 1.0);
                sum += t;
                if t.abs() < 1e-17 {
                    break;
                }
                n += 1.0;
                term *= -x * x / n;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        }
        let mut worst = 0.0f64;
        for i in 0..=12_000 {
            let x = -6.0 + i as f64 * 0.001;
            let want = 0.5 * x * (1.0 + erf64(x / std::f64::consts::SQRT_2));
            let got = f64::from(gelu(x as f32));
            // A few f32 ulps: within 3e-7 of the value's magnitude (at least 1).
            worst = worst.max((got - want).abs() / x.abs().max(1.0));
        }
        assert!(worst < 3e-7, "error {worst}");
    }

    #[test]
    fn attention_matches_naive() {
        for head_dim in [32usize, 64] {
            let shape = AttentionShape { heads: 2, head_dim };
            let hidden = shape.hidden();
            // lengths around the tile sizes: 1, QB - 1, KT + 1, ...
            let lens = [3usize, 1, 17, 5, 33];
            let mut seqs = Vec::new();
            let mut tokens = 0;
            for len in lens {
                seqs.push((tokens, len));
                tokens += len;
            }
            let qkv: Vec<f32> = (0..tokens * 3 * hidden)
                .map(|i| ((i * 7919 % 97) as f32 / 97.0) - 0.5)
                .collect();
            let mut out = vec![0.0; tokens * hidden];
            attention(&qkv, &seqs, shape, &mut out);
            let at = |row: usize, col: usize| f64::from(qkv[row * 3 * hidden + col]);
            for &(start, len) in &seqs {
                for h in 0..shape.heads {
                    for i in 0..len {
                        let scores: Vec<f64> = (0..len)
                            .map(|j| {
                                (0..head_dim)
                                    .map(|d| {
                                        at(start + i, h * head_dim + d)
                                            * at(start + j, hidden + h * head_dim + d)
                                    })
                                    .sum()
                            })
                            .collect();
                        let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                        let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                        let z: f64 = e.iter().sum();
                        for d in 0..head_dim {
                            let want: f64 = (0..len)
                                .map(|j| e[j] / z * at(start + j, 2 * hidden + h * head_dim + d))
                                .sum();
                            let got = out[(start + i) * hidden + h * head_dim + d];
                            assert!((f64::from(got) - want).abs() < 1e-5, "{got} vs {want}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn layer_norm_matches_naive() {
        let width = 8;
        let src: Vec<f32> = (0..3 * width).map(|i| i as f32 * 0.3 - 2.0).collect();
        let res: Vec<f32> = (0..3 * width).map(|i| (i % 5) as f32).collect();
        let gamma: Vec<f32> = (0..width).map(|i| 1.0 + i as f32 * 0.05).collect();
        let beta: Vec<f32> = (0..width).map(|i| -(i as f32) * 0.02).collect();
        let ln = LayerNormParams {
            gamma: &gamma,
            beta: &beta,
            eps: 1e-12,
        };
        for with_residual in [true, false] {
            let mut x = src.clone();
            add_layer_norm(&mut x, if with_residual { &res } else { &[] }, &ln);
            for r in 0..3 {
                let v: Vec<f64> = (0..width)
                    .map(|c| {
                        f64::from(
                            src[r * width + c]
                                + if with_residual {
                                    res[r * width + c]
                                } else {
                                    0.0
                                },
                        )
                    })
                    .collect();
                let mean = v.iter().sum::<f64>() / width as f64;
                let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / width as f64;
                for c in 0..width {
                    let want = (v[c] - mean) / (var + 1e-12).sqrt() * f64::from(gamma[c])
                        + f64::from(beta[c]);
                    assert!((f64::from(x[r * width + c]) - want).abs() < 1e-5);
                }
            }
        }
    }

    #[test]
    fn linear_matches_naive() {
        for (m, k, n) in [(1usize, 3usize, 2usize), (5, 7, 9), (70, 40, 33)] {
            let x: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect();
            let w: Vec<f32> = (0..k * n).map(|i| (i % 11) as f32 * 0.05 - 0.25).collect();
            let b: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let mut got = vec![f32::NAN; m * n];
            assert!(linear(&x, &w, &b, m, k, n, &mut got));
            for r in 0..m {
                for c in 0..n {
                    let want: f32 = b[c] + (0..k).map(|i| x[r * k + i] * w[i * n + c]).sum::<f32>();
                    assert!((got[r * n + c] - want).abs() < 1e-4);
                }
            }
        }
        assert!(!linear(&[1.0], &[1.0], &[1.0, 2.0], 1, 1, 1, &mut [0.0]));
    }
}
