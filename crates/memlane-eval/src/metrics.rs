//! Turn-level recall: R@k and Hit@k, overall and per category.
//!
//! R@k = mean over questions of |evidence turns in the top k| / |evidence turns|; Hit@k = the share of questions
//! with at least one evidence turn in the top k.

use std::collections::BTreeMap;

use serde::Serialize;

/// The cut-offs reported.
pub const KS: [usize; 2] = [5, 10];

/// The outcome of one question: how many of its evidence turns are in the top 5 and the top 10.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Its category.
    pub category: u8,
    /// How many evidence turns it has.
    pub evidence: usize,
    /// Evidence turns found in the top 5.
    pub found5: usize,
    /// Evidence turns found in the top 10.
    pub found10: usize,
}

impl Outcome {
    /// Scores a ranking (the `dia_id`s of the results, best first) against the evidence.
    pub fn score(category: u8, evidence: &[String], ranked: &[String]) -> Outcome {
        let found = |k: usize| {
            evidence
                .iter()
                .filter(|e| ranked.iter().take(k).any(|r| r == *e))
                .count()
        };
        Outcome {
            category,
            evidence: evidence.len(),
            found5: found(5),
            found10: found(10),
        }
    }
}

/// Means over a set of questions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Summary {
    /// How many questions.
    pub questions: usize,
    /// Recall at 5.
    pub r5: f64,
    /// Recall at 10.
    pub r10: f64,
    /// Hit rate at 5.
    pub hit5: f64,
    /// Hit rate at 10.
    pub hit10: f64,
}

impl Summary {
    /// The means of `outcomes`.
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Summary {
        let mut s = Summary::default();
        for o in outcomes {
            let n = o.evidence.max(1) as f64;
            s.questions += 1;
            s.r5 += o.found5 as f64 / n;
            s.r10 += o.found10 as f64 / n;
            s.hit5 += f64::from(u8::from(o.found5 > 0));
            s.hit10 += f64::from(u8::from(o.found10 > 0));
        }
        if s.questions > 0 {
            let n = s.questions as f64;
            s.r5 /= n;
            s.r10 /= n;
            s.hit5 /= n;
            s.hit10 /= n;
        }
        s
    }
}

/// The summary overall and per category.
pub fn by_category(outcomes: &[Outcome]) -> (Summary, BTreeMap<u8, Summary>) {
    let mut cats: BTreeMap<u8, Vec<Outcome>> = BTreeMap::new();
    for o in outcomes {
        cats.entry(o.category).or_default().push(*o);
    }
    (
        Summary::of(outcomes),
        cats.into_iter()
            .map(|(c, os)| (c, Summary::of(&os)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn recall_and_hits() {
        let ranked = ids(&["a", "b", "c", "d", "e", "f", "g"]);
        let o1 = Outcome::score(1, &ids(&["b", "g", "z"]), &ranked);
        assert_eq!((o1.found5, o1.found10), (1, 2));
        let o2 = Outcome::score(2, &ids(&["y"]), &ranked);
        let (all, cats) = by_category(&[o1, o2]);
        assert_eq!(all.questions, 2);
        assert!((all.r5 - (1.0 / 3.0) / 2.0).abs() < 1e-9);
        assert!((all.r10 - (2.0 / 3.0) / 2.0).abs() < 1e-9);
        assert!((all.hit5 - 0.5).abs() < 1e-9);
        assert!((cats[&2].hit10).abs() < 1e-9);
    }
}
