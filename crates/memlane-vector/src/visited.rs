//! A visited set for graph walks: one generation counter per node instead of a hash set, so clearing is O(1).

/// Marks nodes seen during one search; [`Visited::reset`] starts the next search without touching memory.
pub(crate) struct Visited {
    marks: Vec<u16>,
    generation: u16,
}

impl Visited {
    /// A set able to hold nodes `0..capacity`.
    pub(crate) fn new(capacity: usize) -> Self {
        Visited {
            marks: vec![0; capacity],
            generation: 1,
        }
    }

    /// Forgets every mark and makes room for nodes `0..capacity`.
    pub(crate) fn reset(&mut self, capacity: usize) {
        if self.marks.len() < capacity {
            self.marks.resize(capacity, 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.marks.fill(0);
            self.generation = 1;
        }
    }

    /// Marks `node`; true when it was not marked yet in this generation.
    #[inline(always)]
    pub(crate) fn insert(&mut self, node: u32) -> bool {
        match self.marks.get_mut(node as usize) {
            Some(m) if *m != self.generation => {
                *m = self.generation;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Visited;

    #[test]
    fn generations_clear_marks() {
        let mut v = Visited::new(4);
        assert!(v.insert(1));
        assert!(!v.insert(1));
        for _ in 0..70_000 {
            v.reset(4);
        }
        assert!(v.insert(1));
        v.reset(8);
        assert!(v.insert(7));
        assert!(
            !v.insert(100),
            "out-of-range nodes are never reported as new"
        );
    }
}
