//! Linear layers whose weights are packed once, at load time, into the panel layout of a small register-tiled
//! kernel, stored as f16 by default: the matrix products of the encoder.
//!
//! A linear layer of `k` inputs and `n` outputs is stored as `ceil(n / NR)` panels of `k x NR` weights (`NR` = 16,
//! one AVX-512 vector of f32), the last one padded with zeros. The kernel holds a block of up to `MR` token rows x
//! `NR` output columns in f32 registers and walks `k`: each weight is loaded once per block, converted to f32 and
//! used for every row of the block, and the token rows, transposed once per call into `[k][MR]` blocks, are read
//! sequentially. Nothing is packed per call: the general `gemm` path packs or re-streams the right-hand side (the
//! encoder's weights) on every call, which is what dominated at batch 1.
//!
//! Weights are stored as IEEE f16 ([`Precision::F16`], converted with `vcvtph2ps`) unless the CPU lacks F16C or
//! `MEMLANE_EMBED_WEIGHTS=f32` asks for f32: 21 MB instead of 42 MB for the encoder, which fits in the L3 cache,
//! so repeated single-text calls stop streaming weights from memory. Activations and accumulation stay f32; the
//! vectors stay within cosine 0.99999 of the f32 ones (see `docs/embeddings.md`).
//!
//! Threads split the output columns (panels), so every weight is still read once per call; products too small to
//! pay for waking the pool run on the calling thread. Rows are processed in chunks of [`ROW_CHUNK`] so that large
//! batches keep their transposed rows in L2. From [`GEMM_MIN_ROWS`] rows on, the `gemm` crate (f32 weights, kept
//! row-major beside the panels) is faster and takes over.
//!
//! The tile kernels are written with AVX-512 and AVX2 (+ FMA, F16C) intrinsics and as portable loops, picked at
//! run time by the CPU's features ([`Isa::detect`]).

use half::f16;
use rayon::prelude::*;

/// Output columns per panel: one AVX-512 vector of `f32`.
const NR: usize = 16;

/// Token rows per register block on AVX-512 (32 vector registers: 8 accumulators).
const MR_V4: usize = 8;
/// Token rows per register block with AVX2 or less (16 vector registers: 4 x 2 accumulators).
const MR_V3: usize = 4;

/// Rows per cache block: the transposed rows of one block stay in L2 while all panels pass over them.
const ROW_CHUNK: usize = 96;

/// Below this many multiply-adds a product runs on the calling thread: waking the pool costs more.
const PAR_MIN_MACS: usize = 1 << 20;

/// The environment variable that selects the stored precision of the weights: `f32` or `f16` (the default).
pub(crate) const WEIGHTS_ENV: &str = "MEMLANE_EMBED_WEIGHTS";

/// From this many rows (tokens in one call) on, products go to the `gemm` crate with f32 weights, which blocks
/// for the caches better than the packed kernel once there are many rows (measured, see `docs/embeddings.md`).
const GEMM_MIN_ROWS: usize = 160;

/// The environment variable that overrides [`GEMM_MIN_ROWS`]: `0` sends every product to `gemm` (the previous
/// design), a huge value none.
pub(crate) const GEMM_MIN_ROWS_ENV: &str = "MEMLANE_EMBED_GEMM_MIN_ROWS";

/// [`GEMM_MIN_ROWS`], or its override from the environment, read once.
fn gemm_min_rows() -> usize {
    static ROWS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *ROWS.get_or_init(|| {
        std::env::var(GEMM_MIN_ROWS_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(GEMM_MIN_ROWS)
    })
}

/// The instruction set a product runs with; [`Isa::detect`] picks the best the CPU has. Ordered from the most
/// capable to the portable one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Isa {
    /// AVX-512F, with AVX2, FMA and F16C.
    Avx512,
    /// AVX2, FMA and F16C.
    Avx2,
    /// Portable loops, no FMA.
    Portable,
}

impl Isa {
    /// The best instruction set this CPU supports, detected once.
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::sync::OnceLock;
            static ISA: OnceLock<Isa> = OnceLock::new();
            *ISA.get_or_init(|| {
                let avx2 = std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                    && std::arch::is_x86_feature_detected!("f16c");
                if avx2 && std::arch::is_x86_feature_detected!("avx512f") {
                    Isa::Avx512
                } else if avx2 {
                    Isa::Avx2
                } else {
                    Isa::Portable
                }
            })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Self::Portable
        }
    }

    /// Every instruction set this CPU can run, the best first (for tests).
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Self> {
        let all = [Self::Avx512, Self::Avx2, Self::Portable];
        let best = Self::detect();
        all.into_iter().skip_while(|&i| i != best).collect()
    }

    fn rows_per_block(self) -> usize {
        match self {
            Self::Avx512 => MR_V4,
            Self::Avx2 | Self::Portable => MR_V3,
        }
    }
}

/// How [`PackedLinear`] stores its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Precision {
    /// IEEE half precision: half the memory traffic, converted to f32 in the kernel.
    F16,
    /// Single precision, as in the model file.
    F32,
}

impl Precision {
    /// The default: f16 when the CPU converts it in hardware (F16C) and `MEMLANE_EMBED_WEIGHTS` does not say
    /// `f32`.
    pub(crate) fn default_for_cpu() -> Self {
        let forced_f32 = std::env::var(WEIGHTS_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("f32"));
        if forced_f32 || Isa::detect() == Isa::Portable {
            Self::F32
        } else {
            Self::F16
        }
    }
}

/// The packed panels, `[panels][k][NR]`, in the stored precision.
enum Panels {
    F32(Vec<f32>),
    F16(Vec<f16>),
}

/// A linear layer `y = x · W + b` with `W` packed into panels (see the module docs), and kept row-major in f32 for
/// `gemm` on many rows.
pub(crate) struct PackedLinear {
    panels: Panels,
    /// `[k, n]`, row-major.
    rows: Vec<f32>,
    /// `[panels * NR]`, padded with zeros.
    bias: Vec<f32>,
    k: usize,
    n: usize,
}

impl PackedLinear {
    /// Packs a row-major `[k, n]` weight matrix and its `[n]` bias into `precision`; `None` when the lengths do
    /// not match.
    pub(crate) fn pack(
        w: &[f32],
        bias: &[f32],
        k: usize,
        n: usize,
        precision: Precision,
    ) -> Option<Self> {
        if w.len() != k.checked_mul(n)? || bias.len() != n || k == 0 || n == 0 {
            return None;
        }
        let count = n.div_ceil(NR);
        let mut panels = vec![0.0f32; count * k * NR];
        for (p, panel) in panels.chunks_exact_mut(k * NR).enumerate() {
            let c0 = p * NR;
            let cols = NR.min(n - c0);
            for (kk, dst) in panel.chunks_exact_mut(NR).enumerate() {
                dst[..cols].copy_from_slice(&w[kk * n + c0..kk * n + c0 + cols]);
            }
        }
        let panels = match precision {
            Precision::F32 => Panels::F32(panels),
            Precision::F16 => Panels::F16(panels.iter().map(|&v| f16::from_f32(v)).collect()),
        };
        let mut padded = vec![0.0f32; count * NR];
        padded[..n].copy_from_slice(bias);
        Some(Self {
            panels,
            rows: w.to_vec(),
            bias: padded,
            k,
            n,
        })
    }

    /// The number of inputs.
    pub(crate) fn k(&self) -> usize {
        self.k
    }

    /// The number of outputs.
    pub(crate) fn n(&self) -> usize {
        self.n
    }

    /// `dst = x · W + b` for row-major `x: [m, k]` and `dst: [m, n]`: the packed kernel with the CPU's best
    /// instruction set, or `gemm` from [`GEMM_MIN_ROWS`] rows on. Returns `false` (and does nothing) when the
    /// lengths do not match.
    pub(crate) fn forward(&self, x: &[f32], m: usize, dst: &mut [f32]) -> bool {
        if m >= gemm_min_rows() {
            let (k, n) = (self.k, self.n);
            return crate::kernels::linear(x, &self.rows, &self.bias[..n], m, k, n, dst);
        }
        self.forward_with(Isa::detect(), x, m, dst)
    }

    /// The packed kernel with a given instruction set (for tests of the fallbacks); one the CPU lacks is replaced
    /// by [`Isa::detect`].
    pub(crate) fn forward_with(&self, isa: Isa, x: &[f32], m: usize, dst: &mut [f32]) -> bool {
        // Never above what the CPU has: `Job::run` relies on it.
        let isa = isa.max(Isa::detect());
        let (k, n) = (self.k, self.n);
        if Some(x.len()) != m.checked_mul(k) || Some(dst.len()) != m.checked_mul(n) {
            return false;
        }
        if m == 0 {
            return true;
        }
        let mr = isa.rows_per_block();
        let xt = transpose_blocks(x, m, k, mr);
        let panels = n.div_ceil(NR);
        // Row chunks of at most ROW_CHUNK rows, of equal size (in whole blocks) so that threads get equal work.
        let chunk_rows = m.div_ceil(m.div_ceil(ROW_CHUNK)).next_multiple_of(mr);
        let chunks = m.div_ceil(chunk_rows);
        let threads = rayon::current_num_threads().max(1);
        let parallel = threads > 1 && m * k * n >= PAR_MIN_MACS;
        // Few row chunks: split the columns too, into at least two tasks per thread.
        let splits = if parallel {
            (2 * threads).div_ceil(chunks).min(panels)
        } else {
            1
        };
        let out = Out {
            ptr: dst.as_mut_ptr(),
            n,
        };
        let job = Job {
            xt: &xt,
            m,
            k,
            n,
            bias: &self.bias,
            out: &out,
        };
        let task = |t: usize| {
            let (chunk, split) = (t / splits, t % splits);
            let rows = chunk * chunk_rows..m.min((chunk + 1) * chunk_rows);
            let cols = split * panels / splits..(split + 1) * panels / splits;
            job.run(isa, &self.panels, rows, cols);
        };
        let tasks = chunks * splits;
        if parallel && tasks > 1 {
            (0..tasks).into_par_iter().for_each(task);
        } else {
            (0..tasks).for_each(task);
        }
        true
    }
}

impl PackedLinear {
    /// The number of column panels ([`NR`] outputs each, the last one padded): the unit in which
    /// [`PackedLinear::forward_panels`] splits the columns.
    pub(crate) fn panel_count(&self) -> usize {
        self.n.div_ceil(NR)
    }

    /// The output columns of `panels` (panel indices).
    pub(crate) fn panel_columns(&self, panels: std::ops::Range<usize>) -> std::ops::Range<usize> {
        (panels.start * NR).min(self.n)..(panels.end * NR).min(self.n)
    }

    /// The columns `panels` (panel indices) of `dst = x · W + b` from `xt`, the `[m, k]` input already in the
    /// layout of [`transposed_index`], on the calling thread with the CPU's best instruction set. Returns `false`
    /// (and does nothing) when `xt` does not hold `m * k` values or `panels` goes past the last panel.
    ///
    /// # Safety
    /// `dst` must point to `m * n` floats that are valid for writes, and during the call no other thread may read
    /// or write the output columns of `panels` (any row): they are written through the pointer.
    pub(crate) unsafe fn forward_panels(
        &self,
        xt: &[f32],
        m: usize,
        panels: std::ops::Range<usize>,
        dst: *mut f32,
    ) -> bool {
        let isa = Isa::detect();
        if Some(xt.len()) != m.checked_mul(self.k) || panels.end > self.panel_count() {
            return false;
        }
        let out = Out {
            ptr: dst,
            n: self.n,
        };
        let job = Job {
            xt,
            m,
            k: self.k,
            n: self.n,
            bias: &self.bias,
            out: &out,
        };
        let mr = isa.rows_per_block();
        let chunk_rows = m
            .div_ceil(m.div_ceil(ROW_CHUNK).max(1))
            .next_multiple_of(mr);
        let mut row0 = 0;
        while row0 < m {
            let rows = row0..m.min(row0 + chunk_rows);
            row0 = rows.end;
            job.run(isa, &self.panels, rows, panels.clone());
        }
        true
    }
}

/// Whether a product of `rows` rows runs on the packed kernel (else on `gemm`, see [`GEMM_MIN_ROWS`]).
pub(crate) fn uses_packed_kernel(rows: usize) -> bool {
    rows < gemm_min_rows()
}

/// The rows per transposed block of [`transposed_index`] (the register block of the CPU's kernel).
pub(crate) fn block_rows() -> usize {
    Isa::detect().rows_per_block()
}

/// Where element (`row`, `col`) of a row-major `[m, k]` matrix goes in the layout the packed kernel reads:
/// consecutive blocks of `mr` rows (the last one shorter), each transposed to `[k][rows]`.
#[inline(always)]
pub(crate) fn transposed_index(m: usize, k: usize, mr: usize, row: usize, col: usize) -> usize {
    let start = row - row % mr;
    let rows = mr.min(m - start);
    start * k + col * rows + row % mr
}

/// `x: [m, k]` as consecutive blocks of `mr` rows (the last one shorter), each transposed to `[k][rows]`.
fn transpose_blocks(x: &[f32], m: usize, k: usize, mr: usize) -> Vec<f32> {
    let mut xt = vec![0.0f32; m * k];
    for (b, block) in xt.chunks_mut(mr * k).enumerate() {
        let rows = block.len() / k;
        for r in 0..rows {
            let src = &x[(b * mr + r) * k..(b * mr + r + 1) * k];
            for (kk, &v) in src.iter().enumerate() {
                block[kk * rows + r] = v;
            }
        }
    }
    xt
}

/// Where tasks write their disjoint tiles of the `[m, n]` output.
struct Out {
    ptr: *mut f32,
    n: usize,
}

// SAFETY: `Out` is only a base pointer into the `dst` slice that `forward_with` borrows mutably for the whole call;
// the tasks sharing it across threads write disjoint (row, column) tiles (see `Job::store`).
unsafe impl Sync for Out {}

/// One product, shared read-only by the tasks that compute its tiles.
struct Job<'a> {
    xt: &'a [f32],
    m: usize,
    k: usize,
    n: usize,
    bias: &'a [f32],
    out: &'a Out,
}

impl Job<'_> {
    /// Computes the output tile of `rows` (a row chunk, starting at a multiple of the block size) by `cols` (panel
    /// indices).
    fn run(
        &self,
        isa: Isa,
        panels: &Panels,
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
    ) {
        match (isa, panels) {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `forward_with` never passes an `Isa` above `Isa::detect`, which checked the CPU's features.
            (Isa::Avx512, Panels::F32(w)) => unsafe {
                run_v4::<x86::Avx512F32>(self, w, rows, cols)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            (Isa::Avx512, Panels::F16(w)) => unsafe {
                run_v4::<x86::Avx512F16>(self, w, rows, cols)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, for AVX2, FMA and F16C.
            (Isa::Avx2, Panels::F32(w)) => unsafe { run_v3::<x86::Avx2F32>(self, w, rows, cols) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            (Isa::Avx2, Panels::F16(w)) => unsafe { run_v3::<x86::Avx2F16>(self, w, rows, cols) },
            (_, Panels::F32(w)) => run_tiles::<Portable, MR_V3>(self, w, rows, cols),
            (_, Panels::F16(w)) => run_tiles::<PortableF16, MR_V3>(self, w, rows, cols),
        }
    }

    /// Writes an `R x NR` register tile at (`row0`, panel `p`), clipped to the output's columns.
    #[inline(always)]
    fn store<const R: usize>(&self, acc: &[[f32; NR]; R], row0: usize, p: usize) {
        let c0 = p * NR;
        let cols = NR.min(self.n - c0);
        assert!(row0 + R <= self.m, "tile inside the output");
        for (r, acc) in acc.iter().enumerate() {
            // SAFETY: `row0 + r < m` (asserted above) and `c0 + cols <= n`, so the `cols` floats written lie inside
            // the `[m, n]` output slice `forward_with` holds mutably (its length was checked against `m * n`); each
            // tile (row block x panel) belongs to exactly one task, so no two writes overlap, and nothing reads the
            // output until all tasks are done.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    acc.as_ptr(),
                    self.out.ptr.add((row0 + r) * self.out.n + c0),
                    cols,
                );
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn run_v4<T: Tile>(
    job: &Job<'_>,
    panels: &[T::W],
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) {
    run_tiles::<T, MR_V4>(job, panels, rows, cols)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn run_v3<T: Tile>(
    job: &Job<'_>,
    panels: &[T::W],
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) {
    run_tiles::<T, MR_V3>(job, panels, rows, cols)
}

/// A register tile kernel: `R` token rows (`xt`, transposed `[k][R]`) times one panel (`[k][NR]` weights of type
/// `W`), plus the bias.
trait Tile {
    type W;
    fn block<const R: usize>(xt: &[f32], panel: &[Self::W], bias: &[f32; NR]) -> [[f32; NR]; R];
}

/// The tile loop: panels outer (a panel stays in L1/L2 while every row block of the chunk passes over it), row
/// blocks inner.
#[inline(always)]
fn run_tiles<T: Tile, const MR: usize>(
    job: &Job<'_>,
    panels: &[T::W],
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) {
    const { assert!(MR <= 12) };
    let k = job.k;
    for p in cols {
        let panel = &panels[p * k * NR..(p + 1) * k * NR];
        let bias: &[f32; NR] = tile(job.bias, p * NR);
        let mut row0 = rows.start;
        while row0 < rows.end {
            let r = MR.min(rows.end - row0);
            let xt = &job.xt[row0 * k..(row0 + r) * k];
            match r {
                1 => job.store(&T::block::<1>(xt, panel, bias), row0, p),
                2 => job.store(&T::block::<2>(xt, panel, bias), row0, p),
                3 => job.store(&T::block::<3>(xt, panel, bias), row0, p),
                4 => job.store(&T::block::<4>(xt, panel, bias), row0, p),
                5 => job.store(&T::block::<5>(xt, panel, bias), row0, p),
                6 => job.store(&T::block::<6>(xt, panel, bias), row0, p),
                7 => job.store(&T::block::<7>(xt, panel, bias), row0, p),
                8 => job.store(&T::block::<8>(xt, panel, bias), row0, p),
                9 => job.store(&T::block::<9>(xt, panel, bias), row0, p),
                10 => job.store(&T::block::<10>(xt, panel, bias), row0, p),
                11 => job.store(&T::block::<11>(xt, panel, bias), row0, p),
                // r == MR: the arms above cover every shorter block (MR <= 12, checked at compile time).
                _ => job.store(&T::block::<MR>(xt, panel, bias), row0, p),
            }
            row0 += r;
        }
    }
}

/// `N` values of `xs` from `at`, as an array reference (the caller guarantees the range).
#[inline(always)]
fn tile<T, const N: usize>(xs: &[T], at: usize) -> &[T; N] {
    let s = &xs[at..at + N];
    s.try_into()
        .unwrap_or_else(|_| unreachable!("a slice of N elements"))
}

/// A weight as f32.
trait Weight: Copy {
    fn f32(self) -> f32;
}

impl Weight for f32 {
    #[inline(always)]
    fn f32(self) -> f32 {
        self
    }
}

impl Weight for f16 {
    #[inline(always)]
    fn f32(self) -> f32 {
        self.to_f32()
    }
}

/// The portable kernel: plain loops, no FMA, for either precision (f16 converted one weight at a time, slowly:
/// it is used only when forced).
struct Portable;

impl Tile for Portable {
    type W = f32;
    #[inline(always)]
    fn block<const R: usize>(xt: &[f32], panel: &[f32], bias: &[f32; NR]) -> [[f32; NR]; R] {
        portable_block::<f32, R>(xt, panel, bias)
    }
}

/// [`Portable`] on f16 weights.
struct PortableF16;

impl Tile for PortableF16 {
    type W = f16;
    #[inline(always)]
    fn block<const R: usize>(xt: &[f32], panel: &[f16], bias: &[f32; NR]) -> [[f32; NR]; R] {
        portable_block::<f16, R>(xt, panel, bias)
    }
}

#[inline(always)]
fn portable_block<W: Weight, const R: usize>(
    xt: &[f32],
    panel: &[W],
    bias: &[f32; NR],
) -> [[f32; NR]; R] {
    let mut acc = [*bias; R];
    for (a, w) in xt.chunks_exact(R).zip(panel.chunks_exact(NR)) {
        let w: &[W; NR] = tile(w, 0);
        for (acc, &a) in acc.iter_mut().zip(a) {
            for (acc, &w) in acc.iter_mut().zip(w) {
                *acc += a * w.f32();
            }
        }
    }
    acc
}

/// The AVX-512 and AVX2 kernels, with explicit vector intrinsics (the vectorizer does not keep a tile in
/// registers by itself here).
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use half::f16;

    use super::{tile, Tile, NR};

    /// 16 weights as one AVX-512 vector of f32.
    trait Load512: Sized {
        /// # Safety
        /// The CPU must have AVX-512F.
        unsafe fn load(w: &[Self; NR]) -> __m512;
    }

    impl Load512 for f32 {
        #[inline(always)]
        unsafe fn load(w: &[f32; NR]) -> __m512 {
            // SAFETY: the 16 floats of `w` are exactly what the unaligned load reads; AVX-512F per the contract.
            unsafe { _mm512_loadu_ps(w.as_ptr()) }
        }
    }

    impl Load512 for f16 {
        #[inline(always)]
        unsafe fn load(w: &[f16; NR]) -> __m512 {
            // SAFETY: `f16` is a `repr(transparent)` `u16`, so `w` is 32 readable bytes, what the unaligned 256-bit
            // load reads; AVX-512F (which has the 512-bit `vcvtph2ps`) per the contract.
            unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(w.as_ptr().cast::<__m256i>())) }
        }
    }

    /// 16 weights as two AVX vectors of f32.
    trait Load256: Sized {
        /// # Safety
        /// The CPU must have AVX2 and F16C.
        unsafe fn load(w: &[Self; NR]) -> (__m256, __m256);
    }

    impl Load256 for f32 {
        #[inline(always)]
        unsafe fn load(w: &[f32; NR]) -> (__m256, __m256) {
            // SAFETY: floats 0..8 and 8..16 of `w`, in bounds; AVX per the contract.
            unsafe {
                (
                    _mm256_loadu_ps(w.as_ptr()),
                    _mm256_loadu_ps(w.as_ptr().add(8)),
                )
            }
        }
    }

    impl Load256 for f16 {
        #[inline(always)]
        unsafe fn load(w: &[f16; NR]) -> (__m256, __m256) {
            // SAFETY: bytes 0..16 and 16..32 of the 32 bytes of `w` (`f16` is a `repr(transparent)` `u16`); F16C per
            // the contract.
            unsafe {
                let p = w.as_ptr().cast::<__m128i>();
                (
                    _mm256_cvtph_ps(_mm_loadu_si128(p)),
                    _mm256_cvtph_ps(_mm_loadu_si128(p.add(1))),
                )
            }
        }
    }

    /// AVX-512, f32 weights: one 16-float vector per row of the tile.
    pub(super) struct Avx512F32;
    /// AVX-512, f16 weights.
    pub(super) struct Avx512F16;
    /// AVX2, f32 weights: two 8-float vectors per row of the tile.
    pub(super) struct Avx2F32;
    /// AVX2, f16 weights.
    pub(super) struct Avx2F16;

    macro_rules! tiles {
        ($($name:ident: $w:ty => $block:ident;)*) => {$(
            impl Tile for $name {
                type W = $w;
                #[inline(always)]
                fn block<const R: usize>(xt: &[f32], panel: &[$w], bias: &[f32; NR]) -> [[f32; NR]; R] {
                    // SAFETY: these tiles run only inside `run_v4` / `run_v3`, which `Job::run` calls only when
                    // `Isa::detect` found the CPU features.
                    unsafe { $block::<$w, R>(xt, panel, bias) }
                }
            }
        )*};
    }

    tiles! {
        Avx512F32: f32 => block_avx512;
        Avx512F16: f16 => block_avx512;
        Avx2F32: f32 => block_avx2;
        Avx2F16: f16 => block_avx2;
    }

    #[target_feature(enable = "avx512f,avx2,fma,f16c")]
    #[inline]
    fn block_avx512<W: Load512, const R: usize>(
        xt: &[f32],
        panel: &[W],
        bias: &[f32; NR],
    ) -> [[f32; NR]; R] {
        // SAFETY: 16 floats, in bounds; this function requires AVX-512F.
        let b = unsafe { _mm512_loadu_ps(bias.as_ptr()) };
        let mut acc = [b; R];
        for (a, w) in xt.chunks_exact(R).zip(panel.chunks_exact(NR)) {
            let a: &[f32; R] = tile(a, 0);
            // SAFETY: this function requires AVX-512F.
            let w = unsafe { W::load(tile(w, 0)) };
            for (acc, &a) in acc.iter_mut().zip(a) {
                *acc = _mm512_fmadd_ps(_mm512_set1_ps(a), w, *acc);
            }
        }
        let mut out = [[0.0f32; NR]; R];
        for (out, acc) in out.iter_mut().zip(acc) {
            // SAFETY: 16 floats of `out`, in bounds.
            unsafe { _mm512_storeu_ps(out.as_mut_ptr(), acc) };
        }
        out
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn block_avx2<W: Load256, const R: usize>(
        xt: &[f32],
        panel: &[W],
        bias: &[f32; NR],
    ) -> [[f32; NR]; R] {
        // SAFETY: floats 0..8 and 8..16 of `bias`, in bounds; this function requires AVX.
        let b = unsafe {
            (
                _mm256_loadu_ps(bias.as_ptr()),
                _mm256_loadu_ps(bias.as_ptr().add(8)),
            )
        };
        let mut acc = [b; R];
        for (a, w) in xt.chunks_exact(R).zip(panel.chunks_exact(NR)) {
            let a: &[f32; R] = tile(a, 0);
            // SAFETY: this function requires AVX2 and F16C.
            let (w0, w1) = unsafe { W::load(tile(w, 0)) };
            for (acc, &a) in acc.iter_mut().zip(a) {
                let a = _mm256_set1_ps(a);
                *acc = (_mm256_fmadd_ps(a, w0, acc.0), _mm256_fmadd_ps(a, w1, acc.1));
            }
        }
        let mut out = [[0.0f32; NR]; R];
        for (out, acc) in out.iter_mut().zip(acc) {
            // SAFETY: floats 0..8 and 8..16 of `out`, in bounds.
            unsafe {
                _mm256_storeu_ps(out.as_mut_ptr(), acc.0);
                _mm256_storeu_ps(out.as_mut_ptr().add(8), acc.1);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `x · w + b` in f64, with the weights rounded as `precision` stores them.
    fn naive(
        x: &[f32],
        w: &[f32],
        b: &[f32],
        (m, k, n): (usize, usize, usize),
        precision: Precision,
    ) -> Vec<f64> {
        let weight = |i: usize| match precision {
            Precision::F32 => f64::from(w[i]),
            Precision::F16 => f64::from(f16::from_f32(w[i]).to_f32()),
        };
        let mut out = vec![0.0f64; m * n];
        for r in 0..m {
            for c in 0..n {
                out[r * n + c] = f64::from(b[c])
                    + (0..k)
                        .map(|i| f64::from(x[r * k + i]) * weight(i * n + c))
                        .sum::<f64>();
            }
        }
        out
    }

    fn data(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7919 + seed * 104_729) % 1009) as f32 / 1009.0 - 0.5)
            .collect()
    }

    #[test]
    fn matches_naive_for_every_isa_precision_and_edge_sizes() {
        // m around the block sizes (4, 8) and the row chunk (96); n not a multiple of the panel width (16).
        let shapes = [
            (1usize, 1usize, 1usize),
            (1, 3, 2),
            (2, 5, 17),
            (3, 16, 16),
            (5, 7, 9),
            (7, 33, 31),
            (8, 64, 48),
            (9, 40, 33),
            (15, 384, 1152),
            (17, 100, 20),
            (70, 40, 33),
            (97, 21, 50),
            (200, 48, 65),
        ];
        let isas = Isa::available();
        assert!(isas.contains(&Isa::Portable));
        for isa in isas {
            for precision in [Precision::F32, Precision::F16] {
                for &(m, k, n) in &shapes {
                    let (x, w, b) = (data(m * k, 1), data(k * n, 2), data(n, 3));
                    let lin = PackedLinear::pack(&w, &b, k, n, precision).expect("shapes match");
                    assert_eq!((lin.k(), lin.n()), (k, n));
                    let mut got = vec![f32::NAN; m * n];
                    assert!(lin.forward_with(isa, &x, m, &mut got));
                    let want = naive(&x, &w, &b, (m, k, n), precision);
                    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            (f64::from(g) - w).abs() < 2e-6 * (k as f64),
                            "{isa:?} {precision:?} m={m} k={k} n={n} at {i}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn f16_weights_stay_close_to_f32() {
        let (m, k, n) = (15, 384, 1536);
        let (x, w, b) = (data(m * k, 7), data(k * n, 8), data(n, 9));
        let want = naive(&x, &w, &b, (m, k, n), Precision::F32);
        let lin = PackedLinear::pack(&w, &b, k, n, Precision::F16).expect("shapes match");
        let mut got = vec![0.0; m * n];
        assert!(lin.forward(&x, m, &mut got));
        let scale = want.iter().map(|v| v.abs()).fold(0.0, f64::max);
        for (&g, &w) in got.iter().zip(&want) {
            assert!((f64::from(g) - w).abs() < 1e-3 * scale, "{g} vs {w}");
        }
    }

    #[test]
    fn many_rows_go_to_gemm_with_the_same_result() {
        let (m, k, n) = (GEMM_MIN_ROWS + 3, 40, 50);
        let (x, w, b) = (data(m * k, 10), data(k * n, 11), data(n, 12));
        let want = naive(&x, &w, &b, (m, k, n), Precision::F32);
        let lin = PackedLinear::pack(&w, &b, k, n, Precision::F16).expect("shapes match");
        let mut got = vec![f32::NAN; m * n];
        assert!(lin.forward(&x, m, &mut got));
        // f32 weights in gemm (f16 if MEMLANE_EMBED_GEMM_MIN_ROWS moved the switch): close to the f64 product.
        for (&g, &w) in got.iter().zip(&want) {
            assert!((f64::from(g) - w).abs() < 1e-2, "{g} vs {w}");
        }
        assert!(!lin.forward(&x[1..], m, &mut got));
    }

    #[test]
    fn threads_give_the_same_result() {
        let (m, k, n) = (15, 384, 1536);
        let (x, w, b) = (data(m * k, 4), data(k * n, 5), data(n, 6));
        let lin = PackedLinear::pack(&w, &b, k, n, Precision::F16).expect("shapes match");
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let mut out = vec![0.0; m * n];
            pool.install(|| assert!(lin.forward(&x, m, &mut out)));
            out
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn panels_of_a_transposed_input_match_the_whole_product() {
        let mr = block_rows();
        for (m, k, n) in [
            (1usize, 5usize, 17usize),
            (22, 384, 1152),
            (13, 40, 33),
            (100, 24, 50),
        ] {
            let (x, w, b) = (data(m * k, 13), data(k * n, 14), data(n, 15));
            let lin = PackedLinear::pack(&w, &b, k, n, Precision::F16).expect("shapes match");
            let mut want = vec![0.0; m * n];
            assert!(lin.forward_with(Isa::detect(), &x, m, &mut want));
            let mut xt = vec![f32::NAN; m * k];
            for r in 0..m {
                for c in 0..k {
                    xt[transposed_index(m, k, mr, r, c)] = x[r * k + c];
                }
            }
            assert_eq!(xt, transpose_blocks(&x, m, k, mr));
            let mut got = vec![f32::NAN; m * n];
            let count = lin.panel_count();
            for split in [0, 1, count / 2, count] {
                // SAFETY: `got` holds `m * n` floats and is not otherwise accessed during the calls.
                unsafe {
                    assert!(lin.forward_panels(&xt, m, 0..split, got.as_mut_ptr()));
                    assert!(lin.forward_panels(&xt, m, split..count, got.as_mut_ptr()));
                }
                assert_eq!(got, want, "m={m} k={k} n={n} split at {split}");
                assert_eq!(lin.panel_columns(0..count), 0..n);
            }
            // SAFETY: as above; the calls are rejected before writing.
            unsafe {
                assert!(!lin.forward_panels(&xt[1..], m, 0..1, got.as_mut_ptr()));
                assert!(!lin.forward_panels(&xt, m, 0..count + 1, got.as_mut_ptr()));
            }
        }
    }

    #[test]
    fn rejects_mismatched_lengths() {
        let f32 = Precision::F32;
        assert!(PackedLinear::pack(&[1.0; 6], &[0.0; 2], 2, 3, f32).is_none());
        assert!(PackedLinear::pack(&[1.0; 5], &[0.0; 3], 2, 3, f32).is_none());
        assert!(PackedLinear::pack(&[], &[], 0, 0, f32).is_none());
        let lin = PackedLinear::pack(&[1.0; 6], &[0.0, 1.0, 2.0], 2, 3, f32).expect("shapes match");
        assert!(!lin.forward(&[1.0; 3], 1, &mut [0.0; 3]));
        assert!(!lin.forward(&[1.0; 2], 1, &mut [0.0; 2]));
        assert!(lin.forward(&[], 0, &mut []));
        let mut out = [0.0; 3];
        assert!(lin.forward(&[1.0, 2.0], 1, &mut out));
        assert_eq!(out, [3.0, 4.0, 5.0]);
    }
}
