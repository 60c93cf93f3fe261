//! The CLI's errors, their exit codes, and the hint printed after each to say what to do about it.
//!
//! | exit code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | any other error: internal, unsupported by this store, I/O |
//! | 2 | invalid input or usage: fix the command (clap's own usage errors exit 2 too) |
//! | 3 | not found |
//! | 4 | conflict: version mismatch, or an id reused for other content |
//! | 5 | the store is unavailable: temporary, retrying may succeed |

use std::fmt;

use memlane::{Error, ErrorKind};

/// Exit code of invalid input and usage errors.
pub const EXIT_USAGE: u8 = 2;

/// What made a command fail.
#[derive(Debug)]
pub enum CliError {
    /// An error from memlane (the store, or the checks of the core library).
    Memlane(Error),
    /// Reading or writing a local file, stdin or stdout failed.
    Io {
        /// What was being read or written.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

impl CliError {
    /// An I/O error while handling `what`.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            what: what.into(),
            source,
        }
    }

    /// The process's exit code for this error (see the module docs).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Memlane(e) => match e.kind() {
                ErrorKind::InvalidInput | ErrorKind::TooLarge => EXIT_USAGE,
                ErrorKind::NotFound => 3,
                ErrorKind::Conflict => 4,
                ErrorKind::Unavailable => 5,
                _ => 1,
            },
            CliError::Io { .. } => 1,
        }
    }

    /// Whether this is only the reader of our output going away (`memlane list | head`): not worth a message.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            CliError::Io { source, .. } => source.kind() == std::io::ErrorKind::BrokenPipe,
            CliError::Memlane(e) => {
                let mut cur: Option<&(dyn std::error::Error + 'static)> =
                    std::error::Error::source(e);
                while let Some(s) = cur {
                    if let Some(io) = s.downcast_ref::<std::io::Error>() {
                        if io.kind() == std::io::ErrorKind::BrokenPipe {
                            return true;
                        }
                    }
                    cur = s.source();
                }
                false
            }
        }
    }

    /// What to do about it, when there is more to say than the message.
    pub fn hint(&self) -> Option<String> {
        let CliError::Memlane(e) = self else {
            return None;
        };
        match e {
            Error::InvalidInput { field, message }
                if field == "store" && (message.contains("scheme") || message.contains("URL")) =>
            {
                Some(
                "give --store (or set MEMLANE_STORE) to a directory path, embedded://PATH or memory://"
                    .into(),
                )
            }
            Error::InvalidInput { field, .. } if field.starts_with("filter") => Some(
                r#"a filter looks like {"field":"kind","eq":"fact"} or {"and":[...]}; see docs/cli.md"#
                    .into(),
            ),
            Error::NotFound { .. } => Some(
                "check the id, and that --tenant (or MEMLANE_TENANT) names the tenant it was stored in"
                    .into(),
            ),
            Error::Conflict {
                current_version: Some(v),
                ..
            } => Some(format!(
                "the memory changed since you read it: run `memlane get ID` to see it, then retry with --expected-version {v}"
            )),
            Error::Unsupported { capability, .. } if capability.ends_with("_search") => Some(
                "this store cannot search that way: try --mode keyword, or a store with an embedding model".into(),
            ),
            Error::Unavailable { .. } => {
                Some("the store may be down or busy: retry later, or check --store".into())
            }
            _ => None,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Memlane(e) => write!(f, "{e}"),
            CliError::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Memlane(e) => Some(e),
            CliError::Io { source, .. } => Some(source),
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Memlane(e)
    }
}

/// `Result` with [`CliError`].
pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_kind() {
        let code = |e: Error| CliError::from(e).exit_code();
        assert_eq!(code(Error::invalid("x", "y")), 2);
        assert_eq!(code(Error::too_large("x", 2, 1)), 2);
        assert_eq!(code(Error::not_found("t", "m")), 3);
        assert_eq!(code(Error::version_mismatch("t", 1, 2)), 4);
        assert_eq!(code(Error::unavailable("t", "down", None)), 5);
        assert_eq!(code(Error::internal("t", "bug", None)), 1);
        assert_eq!(code(Error::unsupported("t", "ttl")), 1);
    }

    #[test]
    fn broken_pipe_is_recognised_through_sources() {
        let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let e = CliError::from(Error::unavailable("export", "I/O", Some(Box::new(io))));
        assert!(e.is_broken_pipe());
        assert!(!CliError::from(Error::invalid("x", "y")).is_broken_pipe());
    }

    #[test]
    fn conflicts_hint_at_the_current_version() {
        let hint = CliError::from(Error::version_mismatch("t", 1, 3)).hint();
        assert!(hint.is_some_and(|h| h.contains("--expected-version 3")));
    }
}
