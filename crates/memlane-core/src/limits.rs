//! Size limits, and the validation of requests against them.
//!
//! Every backend checks requests with the same functions, so that the same input is refused the same way
//! everywhere, before anything is written (a batch with one bad item stores none).

use serde::{Deserialize, Serialize};

use crate::{Error, NewMemory, Timestamp, Update};

/// Configurable size limits. The defaults suit agent memories; raise them deliberately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest content, in bytes of UTF-8.
    pub max_content_bytes: usize,
    /// Largest metadata object, in bytes of its JSON.
    pub max_metadata_bytes: usize,
    /// Most memories in one `add`.
    pub max_batch: usize,
    /// Largest `limit` of a list or search.
    pub max_limit: usize,
    /// Largest embedding dimension.
    pub max_dimension: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_content_bytes: 64 * 1024,
            max_metadata_bytes: 16 * 1024,
            max_batch: 1000,
            max_limit: 1000,
            max_dimension: 4096,
        }
    }
}

/// The longest tenant, user, agent or session name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

pub(crate) fn check_name(field: &str, v: &str) -> Result<(), Error> {
    if v.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if v.len() > MAX_NAME_BYTES {
        return Err(Error::too_large(field, v.len(), MAX_NAME_BYTES));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(())
}

impl Limits {
    /// Checks one memory to add, at time `now`; `field` prefixes error fields (e.g. `memories[3]`).
    pub fn check_new(&self, field: &str, m: &NewMemory, now: Timestamp) -> Result<(), Error> {
        m.scope.validate().map_err(|e| prefix(field, e))?;
        self.check_content(&format!("{field}.content"), &m.content)?;
        self.check_metadata(&format!("{field}.metadata"), &m.metadata)?;
        if let Some(e) = &m.embedding {
            self.check_embedding(&format!("{field}.embedding"), e)?;
        }
        if m.ttl.is_some() && m.expires_at.is_some() {
            return Err(Error::invalid(
                format!("{field}.ttl"),
                "give ttl or expires_at, not both",
            ));
        }
        if let Some(e) = m.expires_at {
            // Restoring an import keeps its original (possibly past) creation; anything else must expire later.
            if e <= now && m.created_at.is_none() {
                return Err(Error::invalid(
                    format!("{field}.expires_at"),
                    format!("{e} is in the past"),
                ));
            }
        }
        if let Some(e) = m.expires_at.or_else(|| m.ttl.map(|t| now.plus(t))) {
            if e >= Timestamp::MAX {
                return Err(Error::invalid(
                    format!("{field}.ttl"),
                    "expires after the year 9999",
                ));
            }
        }
        if m.version == Some(0) {
            return Err(Error::invalid(
                format!("{field}.version"),
                "versions start at 1",
            ));
        }
        Ok(())
    }

    /// Checks a batch to add: its size and every item.
    pub fn check_batch(&self, batch: &[NewMemory], now: Timestamp) -> Result<(), Error> {
        if batch.is_empty() {
            return Err(Error::invalid("memories", "the batch is empty"));
        }
        if batch.len() > self.max_batch {
            return Err(Error::invalid(
                "memories",
                format!(
                    "{} memories in one batch, the limit is {}",
                    batch.len(),
                    self.max_batch
                ),
            ));
        }
        for (i, m) in batch.iter().enumerate() {
            self.check_new(&format!("memories[{i}]"), m, now)?;
        }
        Ok(())
    }

    /// Checks an update.
    pub fn check_update(&self, u: &Update) -> Result<(), Error> {
        if u.is_empty() {
            return Err(Error::invalid("update", "nothing to change"));
        }
        if let Some(c) = &u.content {
            self.check_content("content", c)?;
        }
        if let Some(m) = &u.metadata {
            self.check_metadata("metadata", m)?;
        }
        if let Some(e) = &u.embedding {
            self.check_embedding("embedding", e)?;
        }
        if u.ttl.is_some() && u.expires_at.is_some() {
            return Err(Error::invalid("ttl", "give ttl or expires_at, not both"));
        }
        if let Some(Some(e)) = u.expires_at {
            if e <= Timestamp::now() {
                return Err(Error::invalid("expires_at", format!("{e} is in the past")));
            }
        }
        let far = u
            .expires_at
            .flatten()
            .or_else(|| u.ttl.map(|t| Timestamp::now().plus(t)));
        if far.is_some_and(|e| e >= Timestamp::MAX) {
            return Err(Error::invalid("ttl", "expires after the year 9999"));
        }
        Ok(())
    }

    /// Checks a `limit` of a list or search: 1 to `max_limit`.
    pub fn check_limit(&self, limit: usize) -> Result<(), Error> {
        if limit == 0 || limit > self.max_limit {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {}, got {limit}", self.max_limit),
            ));
        }
        Ok(())
    }

    fn check_content(&self, field: &str, c: &str) -> Result<(), Error> {
        if c.trim().is_empty() {
            return Err(Error::invalid(field, "must not be empty"));
        }
        if c.len() > self.max_content_bytes {
            return Err(Error::too_large(field, c.len(), self.max_content_bytes));
        }
        if c.contains('\0') {
            return Err(Error::invalid(field, "must not contain NUL characters"));
        }
        Ok(())
    }

    fn check_metadata(
        &self,
        field: &str,
        m: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), Error> {
        let size = serde_json::to_vec(m).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > self.max_metadata_bytes {
            return Err(Error::too_large(field, size, self.max_metadata_bytes));
        }
        Ok(())
    }

    fn check_embedding(&self, field: &str, e: &crate::Embedding) -> Result<(), Error> {
        if e.vector.is_empty() {
            return Err(Error::invalid(field, "the vector is empty"));
        }
        if e.vector.len() > self.max_dimension {
            return Err(Error::too_large(
                field,
                e.vector.len() * 4,
                self.max_dimension * 4,
            ));
        }
        if e.vector.iter().any(|x| !x.is_finite()) {
            return Err(Error::invalid(
                field,
                "the vector has a NaN or infinite value",
            ));
        }
        check_name(&format!("{field}.model"), &e.model)
    }
}

fn prefix(field: &str, e: Error) -> Error {
    match e {
        Error::InvalidInput { field: f, message } => {
            Error::invalid(format!("{field}.{f}"), message)
        }
        Error::TooLarge {
            field: f,
            size,
            limit,
        } => Error::too_large(format!("{field}.{f}"), size, limit),
        other => other,
    }
}
