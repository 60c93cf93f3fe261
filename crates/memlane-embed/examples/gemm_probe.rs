use candle_core::{Device, Tensor};
use std::time::Instant;
fn main() -> candle_core::Result<()> {
    for &(m, k, n) in &[
        (1600usize, 384usize, 1536usize),
        (1600, 1536, 384),
        (1600, 384, 1152),
        (20, 384, 1536),
        (20, 1536, 384),
        (40, 384, 1152),
    ] {
        let a = Tensor::randn(0f32, 1., (m, k), &Device::Cpu)?;
        let w = Tensor::randn(0f32, 1., (k, n), &Device::Cpu)?;
        let wt = Tensor::randn(0f32, 1., (n, k), &Device::Cpu)?;
        for _ in 0..3 {
            a.matmul(&w)?;
        }
        let iters = if m > 100 { 20 } else { 500 };
        let t = Instant::now();
        for _ in 0..iters {
            a.matmul(&w)?;
        }
        let dt = t.elapsed().as_secs_f64() / iters as f64;
        let t2 = Instant::now();
        for _ in 0..iters {
            a.matmul(&wt.t()?)?;
        }
        let dt2 = t2.elapsed().as_secs_f64() / iters as f64;
        // direct gemm into a reused buffer
        let av = a.flatten_all()?.to_vec1::<f32>()?;
        let wv = w.flatten_all()?.to_vec1::<f32>()?;
        let mut dst = vec![0f32; m * n];
        let run = |dst: &mut [f32], par: gemm::Parallelism| unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst.as_mut_ptr(),
                1,
                n as isize,
                false,
                av.as_ptr(),
                1,
                k as isize,
                wv.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                par,
            )
        };
        for _ in 0..3 {
            run(&mut dst, gemm::Parallelism::Rayon(2));
        }
        let t3 = Instant::now();
        for _ in 0..iters {
            run(&mut dst, gemm::Parallelism::Rayon(2));
        }
        let dt3 = t3.elapsed().as_secs_f64() / iters as f64;
        let t4 = Instant::now();
        for _ in 0..iters {
            run(&mut dst, gemm::Parallelism::None);
        }
        let dt4 = t4.elapsed().as_secs_f64() / iters as f64;
        let f = 2.0 * (m * k * n) as f64 / 1e9;
        println!("{m}x{k}x{n}: candle [k,n] {:.1} GF/s ({:.0}us), candle w.t() {:.1} GF/s, direct par {:.1} GF/s ({:.0}us), direct 1 thread {:.1} GF/s", f / dt, dt * 1e6, f / dt2, f / dt3, dt3*1e6, f / dt4);
    }
    Ok(())
}
