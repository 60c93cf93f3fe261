//! Layers around a store: each implements [`memlane::MemoryStore`] around an inner one, so that cross-cutting
//! concerns live in one place instead of in every backend.
//!
//! The server stacks them as `TracingStore<MetricsStore<store>>` (see [`crate::MemoryManager`]).

mod metrics;
mod tracing;

pub use self::metrics::MetricsStore;
pub use self::tracing::TracingStore;
