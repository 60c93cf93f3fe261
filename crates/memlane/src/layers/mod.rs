//! Layers: stores that wrap another store and add one concern, implementing the same [`crate::MemoryStore`]
//! trait. The server adds tracing and metrics layers of its own.

mod embedding;

pub use embedding::EmbeddingLayer;
