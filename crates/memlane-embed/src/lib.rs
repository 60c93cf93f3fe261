//! Local embeddings (placeholder).
