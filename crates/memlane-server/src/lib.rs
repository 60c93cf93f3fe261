//! memlane server (placeholder).
