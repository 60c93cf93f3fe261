//! [`Progress`]: how a migration reports its advance (a progress bar on a terminal, log lines otherwise).

/// Receives a migration's progress. Implementations must be cheap: they are called once per batch.
pub trait Progress: Send + Sync {
    /// A tenant starts: `done` memories were copied by earlier runs, of about `total`.
    fn tenant(&self, tenant: &str, done: u64, total: u64);
    /// `n` more memories were written.
    fn advance(&self, n: u64);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn tenant(&self, _tenant: &str, _done: u64, _total: u64) {}
    fn advance(&self, _n: u64) {}
}
