//! Candidates of a graph walk, ordered by similarity, and the two heaps built on them.

use std::cmp::Ordering;

/// A node with its similarity to the query (higher is closer); equal scores order by node number, newer first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cand {
    /// Similarity to the query.
    pub(crate) score: f32,
    /// Internal node number.
    pub(crate) node: u32,
}

impl Eq for Cand {}

impl Ord for Cand {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| self.node.cmp(&other.node))
    }
}

impl PartialOrd for Cand {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A candidate ordered worst-first, so a `BinaryHeap<Worst>` keeps the worst of the best on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Worst(pub(crate) Cand);

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.cmp(&self.0)
    }
}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BinaryHeap;

    #[test]
    fn heaps_order_best_and_worst() {
        let c = |score, node| Cand { score, node };
        let mut best: BinaryHeap<Cand> = [c(0.1, 1), c(0.9, 2), c(0.5, 3)].into_iter().collect();
        let mut worst: BinaryHeap<Worst> = [c(0.1, 1), c(0.9, 2), c(0.5, 3)]
            .into_iter()
            .map(Worst)
            .collect();
        assert_eq!(best.pop().map(|x| x.node), Some(2));
        assert_eq!(worst.pop().map(|x| x.0.node), Some(1));
    }
}
