//! The figures of a run, as a table or as JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::locomo::category_name;
use crate::metrics::{by_category, Summary};
use crate::run::ModeRun;

/// The figures of one search mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeReport {
    /// `keyword`, `semantic` or `hybrid`.
    pub mode: String,
    /// Over every question.
    pub overall: Summary,
    /// Per LoCoMo category.
    pub categories: BTreeMap<u8, Summary>,
    /// Median search latency, milliseconds (query embedding included).
    pub p50_ms: f64,
    /// 95th percentile search latency, milliseconds.
    pub p95_ms: f64,
}

impl ModeReport {
    /// The figures of `run`.
    pub fn new(mode: String, run: &ModeRun) -> Self {
        let (overall, categories) = by_category(&run.outcomes);
        let mut l = run.latencies.clone();
        l.sort();
        let p = |q: f64| {
            l.get(((l.len().saturating_sub(1)) as f64 * q) as usize)
                .copied()
                .unwrap_or(Duration::ZERO)
                .as_secs_f64()
                * 1000.0
        };
        ModeReport {
            mode,
            overall,
            categories,
            p50_ms: p(0.5),
            p95_ms: p(0.95),
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Conversation files read.
    pub conversations: usize,
    /// Turns loaded as memories.
    pub turns: usize,
    /// Questions scored.
    pub questions: usize,
    /// Questions skipped (category 5 or no evidence).
    pub skipped: usize,
    /// Seconds spent loading (embedding included).
    pub load_seconds: f64,
    /// Per mode.
    pub modes: Vec<ModeReport>,
}

fn row(name: &str, s: &Summary) -> String {
    format!(
        "  {name:<16} {:>5}  {:>6.3} {:>6.3} {:>6.3} {:>6.3}\n",
        s.questions, s.r5, s.r10, s.hit5, s.hit10
    )
}

impl Report {
    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} conversations, {} turns, {} questions ({} skipped), loaded in {:.1}s\n",
            self.conversations, self.turns, self.questions, self.skipped, self.load_seconds
        );
        for m in &self.modes {
            out.push_str(&format!(
                "\n{} (search p50 {:.1} ms, p95 {:.1} ms)\n  {:<16} {:>5}  {:>6} {:>6} {:>6} {:>6}\n",
                m.mode, m.p50_ms, m.p95_ms, "category", "n", "R@5", "R@10", "Hit@5", "Hit@10"
            ));
            out.push_str(&row("all", &m.overall));
            for (c, s) in &m.categories {
                out.push_str(&row(&format!("{c} {}", category_name(*c)), s));
            }
        }
        out
    }
}
