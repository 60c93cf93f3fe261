//! The one error type of the crate.
//!
//! Every fallible operation returns [`Result`]; the variants say what went wrong so that the vector backend can map
//! them onto memlane's error kinds in one place (invalid input, corruption, I/O).

use std::path::PathBuf;

/// An error from the vector index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A vector's length differs from the index's dimension.
    #[error("dimension mismatch: the index has {expected} dimensions, the vector has {actual}")]
    DimensionMismatch {
        /// The index's dimension.
        expected: usize,
        /// The length of the vector given.
        actual: usize,
    },
    /// A vector that cannot be indexed: a NaN or infinite component, or all zeros (no direction).
    #[error("invalid vector: {0}")]
    InvalidVector(&'static str),
    /// A configuration value out of range, or one that contradicts the index stored on disk.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A file of the index failed its checks (bad magic, version or checksum) where a torn write cannot explain it.
    #[error("corrupt index file {path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An operating-system I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
