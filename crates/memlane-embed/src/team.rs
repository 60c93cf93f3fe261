//! A team pass: a fixed sequence of phases, each a number of independent tasks, where the tasks of a phase may read
//! what every earlier phase wrote, run by the calling thread together with idle rayon workers in **one** parallel
//! region, instead of one fork-join (with its wake-ups, steals and joins) per phase.
//!
//! Tasks are numbered in order over all phases and claimed from one atomic counter; a thread that claims a task
//! first waits until every task of the earlier phases has completed (a second counter). Claims are in order, so
//! whatever a thread waits for has already been claimed by a thread that is running it: a helper that never gets
//! scheduled (the pool is busy) just claims nothing, and the caller runs every task itself, so the pass can never
//! deadlock on a missing team member. The wait spins for a few microseconds and then yields the CPU in a loop: the
//! task waited for is always running, and a two-core machine that also runs a database must not lose a core to a
//! spinning thread. Tasks must not block on rayon (no nested parallel iterators): a thread waiting inside rayon
//! could steal a helper of this very pass and wait on itself.
//!
//! Memory ordering: completing a task is a release increment of the completion counter and waiting is an acquire
//! load of it, so everything a task wrote is visible to the tasks of the later phases (the increments form one
//! release sequence).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Busy-wait iterations (each a CPU spin hint, tens of nanoseconds) before a waiting thread starts yielding.
const SPINS_BEFORE_YIELD: u32 = 256;

/// The shared state of one pass.
struct Claims<'a, F> {
    /// `ends[p]`: the number of tasks in phases `0..=p`.
    ends: &'a [usize],
    next: AtomicUsize,
    done: AtomicUsize,
    /// Set when a task panicked, so that no thread waits for it forever (the panic is re-raised by the scope).
    poisoned: AtomicBool,
    task: F,
}

/// Sets the poison flag if dropped while its thread unwinds from a panicking task.
struct PoisonOnPanic<'a>(&'a AtomicBool);

impl Drop for PoisonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}

impl<F: Fn(usize, usize) + Sync> Claims<'_, F> {
    /// Claims and runs tasks in order until none is left.
    fn work(&self) {
        let total = self.ends.last().copied().unwrap_or(0);
        loop {
            let g = self.next.fetch_add(1, Ordering::Relaxed);
            if g >= total {
                return;
            }
            let phase = self.ends.partition_point(|&end| end <= g);
            let start = if phase == 0 { 0 } else { self.ends[phase - 1] };
            if !self.wait_for(start) {
                return;
            }
            let guard = PoisonOnPanic(&self.poisoned);
            (self.task)(phase, g - start);
            drop(guard);
            self.done.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Waits until `count` tasks have completed; `false` if a task panicked.
    fn wait_for(&self, count: usize) -> bool {
        let mut spins = 0u32;
        while self.done.load(Ordering::Acquire) < count {
            if self.poisoned.load(Ordering::Acquire) {
                return false;
            }
            if spins < SPINS_BEFORE_YIELD {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        true
    }
}

/// Runs `task(phase, index)` for every `index < tasks[phase]` of every phase, phases in order: every task of a
/// phase starts after all tasks of the earlier phases have returned, and the tasks of one phase may run at the same
/// time on different threads. Uses the calling thread and up to `rayon::current_num_threads() - 1` workers of the
/// current pool (none for a pool of one thread or when no phase has two tasks). A panic in a task is re-raised
/// here after every thread has stopped.
pub(crate) fn run<F>(tasks: &[usize], task: F)
where
    F: Fn(usize, usize) + Sync,
{
    let ends: Vec<usize> = tasks
        .iter()
        .scan(0usize, |sum, &n| {
            *sum += n;
            Some(*sum)
        })
        .collect();
    let widest = tasks.iter().copied().max().unwrap_or(0);
    let helpers = rayon::current_num_threads()
        .saturating_sub(1)
        .min(widest.saturating_sub(1));
    let claims = Claims {
        ends: &ends,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        poisoned: AtomicBool::new(false),
        task,
    };
    if helpers == 0 {
        return claims.work();
    }
    rayon::scope(|s| {
        for _ in 0..helpers {
            s.spawn(|_| claims.work());
        }
        claims.work();
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use rayon::prelude::*;

    use super::*;

    /// A chain of phases where each task reads every value of the previous phase: `v[p][t] = sum(v[p-1]) + t`.
    /// Returns the last phase's values, computed through [`run`].
    fn chain(widths: &[usize]) -> Vec<u64> {
        let cells: Vec<Vec<AtomicU64>> = widths
            .iter()
            .map(|&w| (0..w).map(|_| AtomicU64::new(u64::MAX)).collect())
            .collect();
        run(widths, |p, t| {
            let prev: u64 = if p == 0 {
                1
            } else {
                cells[p - 1]
                    .iter()
                    // Relaxed on purpose: the phase order of `run` must make the values visible.
                    .map(|c| c.load(Ordering::Relaxed))
                    .inspect(|&v| assert_ne!(v, u64::MAX, "phase {p} ran before phase {}", p - 1))
                    .fold(0u64, |a, v| a.wrapping_add(v) % 1_000_003)
            };
            cells[p][t].store(prev + t as u64, Ordering::Relaxed);
        });
        cells
            .last()
            .map(|c| c.iter().map(|v| v.load(Ordering::Relaxed)).collect())
            .unwrap_or_default()
    }

    /// The same chain computed on one thread without [`run`].
    fn chain_serial(widths: &[usize]) -> Vec<u64> {
        let mut prev = vec![];
        for (p, &w) in widths.iter().enumerate() {
            let base = if p == 0 {
                1
            } else {
                prev.iter()
                    .fold(0u64, |a, &v: &u64| a.wrapping_add(v) % 1_000_003)
            };
            prev = (0..w as u64).map(|t| base + t).collect();
        }
        prev
    }

    const WIDTHS: [usize; 9] = [1, 4, 3, 8, 1, 2, 5, 4, 2];

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
    }

    #[test]
    fn phases_run_in_order_with_any_pool_size() {
        let want = chain_serial(&WIDTHS);
        for threads in [1, 2, 3, 8] {
            let got = pool(threads).install(|| chain(&WIDTHS));
            assert_eq!(got, want, "{threads} threads");
        }
        assert!(chain(&[]).is_empty());
        assert_eq!(chain(&[0, 3]), vec![0, 1, 2]);
    }

    #[test]
    fn many_passes_at_once_from_inside_and_outside_the_pool() {
        let want = chain_serial(&WIDTHS);
        let pool = pool(2);
        // From inside the pool: more concurrent passes than workers, so helpers often never arrive.
        let inside: Vec<Vec<u64>> =
            pool.install(|| (0..64).into_par_iter().map(|_| chain(&WIDTHS)).collect());
        assert!(inside.iter().all(|v| *v == want));
        // From outside: plain threads entering the same pool at once.
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| (0..20).all(|_| pool.install(|| chain(&WIDTHS)) == want)))
                .collect();
            for h in handles {
                assert!(h.join().expect("no panic"));
            }
        });
        // And from threads outside any pool (the global pool).
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| assert_eq!(chain(&WIDTHS), want));
            }
        });
    }

    #[test]
    fn a_panicking_task_does_not_hang_the_others() {
        let pool = pool(2);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                run(&[2, 2, 2], |p, t| {
                    if p == 1 && t == 0 {
                        panic!("task failed");
                    }
                })
            })
        }));
        assert!(result.is_err());
        // The pool still works afterwards.
        assert_eq!(pool.install(|| chain(&WIDTHS)), chain_serial(&WIDTHS));
    }
}
