//! Filtered search and its planner: exact scan of the few vectors a selective filter keeps, or a graph walk that
//! routes through every node but collects only the ones that pass, with a wider beam.

/// Which ids a search may return.
///
/// ```
/// use memlane_vector::{Filter, Index, IndexConfig, SearchParams};
/// # let dir = tempfile::tempdir()?;
/// let index = Index::open(dir.path(), IndexConfig::new(2))?;
/// index.insert_batch(&[1, 2, 3, 4], &[1.0, 0.0, 1.0, 0.1, 1.0, 0.2, 1.0, 0.3])?;
/// let even = |id: u64| id % 2 == 0;
/// let by_predicate = SearchParams { filter: Filter::Predicate { keep: &even, estimate: Some(2) }, ..Default::default() };
/// let by_list = SearchParams { filter: Filter::AllowList(&[2, 4]), ..Default::default() };
/// let a = index.search(&[1.0, 0.0], 10, &by_predicate)?;
/// let b = index.search(&[1.0, 0.0], 10, &by_list)?;
/// assert_eq!(a, b);
/// assert_eq!(a.iter().map(|h| h.0).collect::<Vec<_>>(), vec![2, 4]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Default)]
pub enum Filter<'a> {
    /// Every id.
    #[default]
    All,
    /// Ids for which `keep` is true. `estimate`, when given, is how many live ids pass (otherwise the planner
    /// samples the index to guess).
    Predicate {
        /// The test.
        keep: &'a dyn Fn(u64) -> bool,
        /// Roughly how many ids pass, if the caller knows.
        estimate: Option<usize>,
    },
    /// Only these ids (unknown ids are ignored).
    AllowList(&'a [u64]),
}

impl std::fmt::Debug for Filter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::All => f.write_str("All"),
            Filter::Predicate { estimate, .. } => f
                .debug_struct("Predicate")
                .field("estimate", estimate)
                .finish(),
            Filter::AllowList(ids) => f.debug_tuple("AllowList").field(&ids.len()).finish(),
        }
    }
}

/// Options of one search.
///
/// ```
/// use memlane_vector::{Filter, SearchParams};
/// let even = |id: u64| id % 2 == 0;
/// let params = SearchParams { ef: Some(128), min_score: Some(0.5), filter: Filter::Predicate { keep: &even, estimate: None } };
/// assert_eq!(params.ef, Some(128));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SearchParams<'a> {
    /// Beam width; `None` uses the index's `ef_search`. Raised to `k` when smaller.
    pub ef: Option<usize>,
    /// Drop results whose cosine similarity is below this.
    pub min_score: Option<f32>,
    /// Which ids may be returned.
    pub filter: Filter<'a>,
}

/// What the planner chose.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Plan {
    /// Score exactly every vector that passes.
    Scan,
    /// Walk the graph with this beam width.
    Walk(usize),
}

/// Chooses between an exact scan and a (widened) walk.
///
/// `passing` estimates how many of `live` vectors pass the filter.
pub(crate) fn plan(
    live: usize,
    passing: usize,
    k: usize,
    ef: usize,
    scan_fraction: f64,
    scan_max: usize,
) -> Plan {
    let ef = ef.max(k);
    if passing >= live {
        return Plan::Walk(ef);
    }
    if passing <= scan_max || (passing as f64) <= scan_fraction * live as f64 {
        return Plan::Scan;
    }
    // The walk collects only passing nodes, so it must look at about 1/selectivity more nodes to fill its beam;
    // widening by 1/sqrt(selectivity) keeps recall level at a fraction of that cost.
    let selectivity = passing as f64 / live.max(1) as f64;
    let widened = (ef as f64 / selectivity.sqrt()).ceil() as usize;
    Plan::Walk(widened.clamp(ef, ef.saturating_mul(8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selective_filters_scan_and_broad_ones_walk() {
        assert_eq!(
            plan(1_000_000, 1_000_000, 10, 64, 0.03, 2048),
            Plan::Walk(64)
        );
        assert_eq!(plan(1_000_000, 10_000, 10, 64, 0.03, 2048), Plan::Scan);
        assert_eq!(plan(1_000_000, 1_000, 10, 64, 0.0, 2048), Plan::Scan);
        assert_eq!(
            plan(1_000_000, 250_000, 10, 64, 0.03, 2048),
            Plan::Walk(128)
        );
        assert_eq!(plan(1_000_000, 40_000, 10, 64, 0.03, 2048), Plan::Walk(320));
    }
}
