//! The one error type of memlane.
//!
//! Every operation of every backend fails with [`Error`]. Its [`ErrorKind`] says what went wrong in terms a caller
//! can act on (fix the input, retry later, pick another id, ...); [`Error::is_temporary`] says whether retrying the
//! same call may succeed. Backends map their driver's errors into it in one place each, keeping the driver error as
//! the [`std::error::Error::source`].

use std::borrow::Cow;
use std::fmt;

/// A boxed error from a driver or the operating system, kept as the source of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with memlane's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The name of a backend (`"embedded"`, `"redis"`, ...), carried by errors that come from a backend.
pub type Backend = Cow<'static, str>;

/// What went wrong, without the details: the stable part of an error that callers, HTTP status codes and metrics
/// labels are derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request itself is wrong (bad field, malformed filter, limit out of range). Fix it; retrying won't help.
    InvalidInput,
    /// The memory (or other object) does not exist in the caller's tenant.
    NotFound,
    /// A precondition failed: version mismatch, or an id that exists with other content.
    Conflict,
    /// A value is over a configured size limit.
    TooLarge,
    /// The backend does not offer this capability.
    Unsupported,
    /// The backend cannot be reached or is overloaded; retrying later may succeed.
    Unavailable,
    /// A bug or corruption: should never happen.
    Internal,
}

impl ErrorKind {
    /// A stable snake_case code for this kind (`"invalid_input"`, `"not_found"`, ...), used in JSON errors and
    /// metric labels.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// memlane's error.
///
/// ```
/// use memlane_core::{Error, ErrorKind};
/// let err = Error::invalid("limit", "must be between 1 and 1000");
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert!(!err.is_temporary());
/// assert_eq!(err.to_string(), "invalid input: limit: must be between 1 and 1000");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is wrong; `field` names the offending part (a field name, or a JSON pointer into a filter).
    #[error("invalid input: {field}: {message}")]
    InvalidInput {
        /// The offending field or part.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Nothing with that id (or name) exists in the caller's tenant.
    #[error("{backend}: not found: {what}")]
    NotFound {
        /// The backend that answered.
        backend: Backend,
        /// What was looked for.
        what: String,
    },
    /// A precondition failed (version mismatch, id reused for other content).
    #[error("{backend}: conflict: {message}")]
    Conflict {
        /// The backend that answered.
        backend: Backend,
        /// What conflicted.
        message: String,
        /// The stored version, when the conflict is a version mismatch.
        current_version: Option<u64>,
    },
    /// A value is larger than a configured limit.
    #[error("too large: {field} is {size} bytes, the limit is {limit}")]
    TooLarge {
        /// The field that is too large.
        field: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The backend does not offer a capability.
    #[error("{backend}: unsupported: {capability}")]
    Unsupported {
        /// The backend that answered.
        backend: Backend,
        /// The missing capability, by name (see [`crate::Capability`]).
        capability: String,
    },
    /// The backend is down, unreachable, timed out or overloaded: temporary, retry later.
    #[error("{backend}: unavailable: {message}")]
    Unavailable {
        /// The backend that failed.
        backend: Backend,
        /// What happened.
        message: String,
        /// The driver's error.
        #[source]
        source: Option<BoxError>,
    },
    /// A bug or corruption.
    #[error("{backend}: internal error: {message}")]
    Internal {
        /// The backend that failed.
        backend: Backend,
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// Whether the same call may succeed if retried later (only [`ErrorKind::Unavailable`]).
    pub fn is_temporary(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }

    /// The backend this error came from, when it came from one.
    pub fn backend(&self) -> Option<&str> {
        match self {
            Error::NotFound { backend, .. }
            | Error::Conflict { backend, .. }
            | Error::Unsupported { backend, .. }
            | Error::Unavailable { backend, .. }
            | Error::Internal { backend, .. } => Some(backend),
            Error::InvalidInput { .. } | Error::TooLarge { .. } => None,
        }
    }

    /// An [`Error::InvalidInput`] for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An [`Error::NotFound`].
    pub fn not_found(backend: impl Into<Backend>, what: impl Into<String>) -> Self {
        Error::NotFound {
            backend: backend.into(),
            what: what.into(),
        }
    }

    /// An [`Error::Conflict`] that is not about a version.
    pub fn conflict(backend: impl Into<Backend>, message: impl Into<String>) -> Self {
        Error::Conflict {
            backend: backend.into(),
            message: message.into(),
            current_version: None,
        }
    }

    /// An [`Error::Conflict`] for an update whose expected version is not the stored one.
    pub fn version_mismatch(backend: impl Into<Backend>, expected: u64, current: u64) -> Self {
        Error::Conflict {
            backend: backend.into(),
            message: format!("expected version {expected}, but the stored version is {current}"),
            current_version: Some(current),
        }
    }

    /// An [`Error::TooLarge`].
    pub fn too_large(field: impl Into<String>, size: usize, limit: usize) -> Self {
        Error::TooLarge {
            field: field.into(),
            size,
            limit,
        }
    }

    /// An [`Error::Unsupported`] naming the missing capability.
    pub fn unsupported(backend: impl Into<Backend>, capability: impl fmt::Display) -> Self {
        Error::Unsupported {
            backend: backend.into(),
            capability: capability.to_string(),
        }
    }

    /// An [`Error::Unavailable`] (temporary).
    pub fn unavailable(
        backend: impl Into<Backend>,
        message: impl Into<String>,
        source: Option<BoxError>,
    ) -> Self {
        Error::Unavailable {
            backend: backend.into(),
            message: message.into(),
            source,
        }
    }

    /// An [`Error::Internal`].
    pub fn internal(
        backend: impl Into<Backend>,
        message: impl Into<String>,
        source: Option<BoxError>,
    ) -> Self {
        Error::Internal {
            backend: backend.into(),
            message: message.into(),
            source,
        }
    }
}
