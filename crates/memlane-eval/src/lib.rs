//! # memlane-eval
//!
//! Measures the retrieval quality of memlane's search with no LLM in the loop. `memlane-eval locomo DIR` runs the
//! turn-level recall protocol of LoCoMo (see `docs/retrieval.md`): every dialog turn of every conversation file in
//! `DIR` becomes a memory through the public API (an embedded store behind an embedding layer with
//! all-MiniLM-L6-v2), every scored question is a search in its conversation's scope, and R@5, R@10, Hit@5 and
//! Hit@10 are reported per search mode, overall and per question category.
#![warn(missing_docs, unreachable_pub)]
#![deny(clippy::unwrap_used)]

pub mod locomo;
pub mod metrics;
pub mod report;
pub mod run;
