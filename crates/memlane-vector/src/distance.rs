//! Similarity kernels: dot products over L2-normalized vectors (so dot = cosine similarity).
//!
//! Vectors are stored padded with zeros to a multiple of [`LANES`] floats, so the kernels work on whole chunks of
//! eight and LLVM vectorizes them. On x86-64 an AVX2+FMA version is chosen at run time when the CPU has it, so the
//! crate needs no `-C target-cpu=native`.

/// Floats per chunk; stored vectors are padded to a multiple of this.
pub(crate) const LANES: usize = 8;

/// A dot-product kernel over two padded slices of equal length.
pub(crate) type DotFn = fn(&[f32], &[f32]) -> f32;

/// The padded length for `dim` dimensions.
pub(crate) fn padded(dim: usize) -> usize {
    dim.div_ceil(LANES) * LANES
}

/// The kernel body, for inlining into callers compiled with wider vectors (see `core::walk_exact_avx2`).
#[inline(always)]
pub(crate) fn dot_chunks(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum()
}

/// The portable kernel (SSE2 on x86-64, NEON on aarch64 after autovectorization).
pub(crate) fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    dot_chunks(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2_fma(a: &[f32], b: &[f32]) -> f32 {
    let mut acc0 = [0.0f32; LANES];
    let mut acc1 = [0.0f32; LANES];
    let mut xa = a.chunks_exact(2 * LANES);
    let mut xb = b.chunks_exact(2 * LANES);
    for (x, y) in (&mut xa).zip(&mut xb) {
        for i in 0..LANES {
            acc0[i] = x[i].mul_add(y[i], acc0[i]);
            acc1[i] = x[LANES + i].mul_add(y[LANES + i], acc1[i]);
        }
    }
    for (x, y) in xa
        .remainder()
        .chunks_exact(LANES)
        .zip(xb.remainder().chunks_exact(LANES))
    {
        for i in 0..LANES {
            acc0[i] = x[i].mul_add(y[i], acc0[i]);
        }
    }
    for i in 0..LANES {
        acc0[i] += acc1[i];
    }
    acc0.iter().sum()
}

#[cfg(target_arch = "x86_64")]
fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: `dot_kernel` hands out this function only after detecting AVX2 and FMA on the running CPU.
    unsafe { dot_avx2_fma(a, b) }
}

/// True when the CPU has AVX2 and FMA.
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The fastest kernel this CPU supports.
pub(crate) fn dot_kernel() -> DotFn {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return dot_avx2;
        }
    }
    dot_portable
}

/// Checks `v` (finite, not all zero) and writes its L2-normalized, zero-padded form into `out`.
pub(crate) fn normalize_into(v: &[f32], out: &mut [f32]) -> crate::Result<()> {
    let mut norm = 0.0f64;
    for &x in v {
        if !x.is_finite() {
            return Err(crate::Error::InvalidVector(
                "a component is NaN or infinite",
            ));
        }
        norm += f64::from(x) * f64::from(x);
    }
    if norm <= f64::from(f32::MIN_POSITIVE) {
        return Err(crate::Error::InvalidVector("the vector is all zeros"));
    }
    let inv = (1.0 / norm.sqrt()) as f32;
    out.fill(0.0);
    for (o, &x) in out.iter_mut().zip(v) {
        *o = x * inv;
    }
    Ok(())
}

/// Prefetches the `bytes` bytes at `p`, one cache line at a time (a hint; no effect on results).
#[inline(always)]
pub(crate) fn prefetch_range<T>(p: *const T, bytes: usize) {
    let p = p.cast::<u8>();
    let mut off = 0;
    while off < bytes {
        prefetch(p.wrapping_add(off));
        off += 64;
    }
}

/// Prefetches the cache line at `p` (a hint; no effect on results).
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: prefetching is a hint that never faults, whatever the address; SSE is baseline on x86-64.
        unsafe { std::arch::x86_64::_mm_prefetch(p.cast::<i8>(), std::arch::x86_64::_MM_HINT_T0) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_agree_with_naive() {
        for dim in [8usize, 16, 24, 56, 384] {
            let a: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot_portable(&a, &b) - naive).abs() < 1e-3);
            assert!((dot_kernel()(&a, &b) - naive).abs() < 1e-3);
        }
    }

    #[test]
    fn normalize_rejects_bad_vectors() {
        let mut out = vec![0.0; 8];
        assert!(normalize_into(&[0.0, 0.0], &mut out).is_err());
        assert!(normalize_into(&[f32::NAN, 1.0], &mut out).is_err());
        normalize_into(&[3.0, 4.0], &mut out).expect("valid");
        assert!((out[0] - 0.6).abs() < 1e-6 && (out[1] - 0.8).abs() < 1e-6 && out[2] == 0.0);
    }
}
