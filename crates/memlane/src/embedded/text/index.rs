//! The inverted index itself: per term a posting list of (slot, term frequency); per slot (one stored memory) its
//! rowid, scope, creation, expiry, length and its neighbours in its session.
//!
//! Slots are handed out in insertion order and never reused, so every posting list is sorted by slot. A deleted
//! memory's slot is marked dead and skipped; once dead slots are a quarter of all (and at least [`COMPACT_MIN`]),
//! [`Index::compact`] renumbers the live ones and drops dead postings and unused terms.

use std::collections::{BTreeMap, HashMap};

use memlane_core::Scope;

use super::tokenize::tokens;

/// A scope field the query leaves open.
pub(crate) const ANY: u32 = u32::MAX;
/// A scope field the memory does not have.
pub(crate) const NONE: u32 = 0;
/// No neighbour.
pub(crate) const NO_SLOT: u32 = u32::MAX;
/// Fewer dead slots than this are never compacted away.
pub(crate) const COMPACT_MIN: usize = 1024;

/// Interned scope names: tenant, user, agent, session (`NONE` for absent; in a query, `ANY` for open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ScopeIds(pub(crate) [u32; 4]);

impl ScopeIds {
    /// Whether a memory with these ids is inside a query scope `self`.
    #[inline]
    pub(crate) fn admits(&self, doc: &ScopeIds) -> bool {
        self.0[0] == doc.0[0]
            && (self.0[1] == ANY || self.0[1] == doc.0[1])
            && (self.0[2] == ANY || self.0[2] == doc.0[2])
            && (self.0[3] == ANY || self.0[3] == doc.0[3])
    }
}

/// One posting: the slot of a memory and how often the term occurs in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Posting {
    pub(crate) slot: u32,
    pub(crate) tf: u32,
}

/// Counts of the memories of one scope pattern, for BM25's IDF and average length.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stat {
    pub(crate) docs: u64,
    pub(crate) len: u64,
}

/// A text's distinct terms with how often each occurs, and its length in words that are not stopwords: what the
/// index keeps of a content. Working it out (tokenizing, stemming) is most of an insert's cost, and needs no lock.
#[derive(Debug, Clone, Default)]
pub(crate) struct Terms {
    pub(crate) tf: Vec<(String, u32)>,
    pub(crate) len: u32,
}

impl Terms {
    /// The terms of `content`.
    pub(crate) fn of(content: &str) -> Terms {
        let mut all = tokens(content);
        let len = all.iter().map(|t| u32::from(!t.stop)).sum();
        all.sort_unstable_by(|a, b| a.term.cmp(&b.term));
        let mut tf: Vec<(String, u32)> = Vec::with_capacity(all.len());
        for t in all {
            match tf.last_mut() {
                Some((last, n)) if *last == t.term => *n += 1,
                _ => tf.push((t.term, 1)),
            }
        }
        Terms { tf, len }
    }
}

/// What the index keeps of one memory.
#[derive(Debug, Clone)]
pub(crate) struct Entry<'a> {
    pub(crate) rowid: i64,
    pub(crate) scope: &'a Scope,
    pub(crate) content: &'a str,
    pub(crate) created_ms: i64,
    pub(crate) expires_ms: Option<i64>,
}

/// The index (see the module docs). Not synchronized: [`super::TextIndex`] wraps it in a lock.
#[derive(Debug, Default)]
pub(crate) struct Index {
    names: HashMap<String, u32>,
    terms: HashMap<Box<str>, u32>,
    pub(crate) postings: Vec<Vec<Posting>>,
    by_rowid: HashMap<i64, u32>,
    pub(crate) rowid: Vec<i64>,
    pub(crate) scope: Vec<ScopeIds>,
    pub(crate) created: Vec<i64>,
    pub(crate) expires: Vec<i64>,
    pub(crate) len: Vec<u32>,
    pub(crate) alive: Vec<bool>,
    pub(crate) prev: Vec<u32>,
    pub(crate) next: Vec<u32>,
    stats: HashMap<ScopeIds, Stat>,
    sessions: HashMap<ScopeIds, BTreeMap<(i64, i64), u32>>,
    dead: usize,
}

fn retain_alive<T>(v: &mut Vec<T>, alive: &[bool]) {
    let mut it = alive.iter();
    v.retain(|_| it.next().copied().unwrap_or(false));
}

/// The eight scope patterns a memory counts in: each of user, agent and session either its own or open.
fn patterns(s: ScopeIds) -> impl Iterator<Item = ScopeIds> {
    (0u8..8).map(move |m| {
        let pick = |bit: u8, v: u32| if m & bit != 0 { v } else { ANY };
        ScopeIds([s.0[0], pick(1, s.0[1]), pick(2, s.0[2]), pick(4, s.0[3])])
    })
}

impl Index {
    fn intern(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else { return NONE };
        if let Some(id) = self.names.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len() + 1).unwrap_or(ANY - 1);
        self.names.insert(name.to_owned(), id);
        id
    }

    fn term_id(&mut self, term: String) -> u32 {
        if let Some(id) = self.terms.get(term.as_str()) {
            return *id;
        }
        let id = u32::try_from(self.postings.len()).unwrap_or(u32::MAX);
        self.terms.insert(term.into_boxed_str(), id);
        self.postings.push(Vec::new());
        id
    }

    /// The term's postings, if any memory ever had it.
    pub(crate) fn postings_of(&self, term: &str) -> Option<&[Posting]> {
        self.terms
            .get(term)
            .and_then(|id| self.postings.get(*id as usize))
            .map(Vec::as_slice)
    }

    /// The ids of a query scope; `None` when it names someone no memory has (so nothing matches).
    pub(crate) fn scope_key(&self, s: &Scope) -> Option<ScopeIds> {
        let open = |v: &Option<String>| match v {
            None => Some(ANY),
            Some(n) => self.names.get(n).copied(),
        };
        Some(ScopeIds([
            *self.names.get(&s.tenant)?,
            open(&s.user)?,
            open(&s.agent)?,
            open(&s.session)?,
        ]))
    }

    /// How many memories (expired ones until purged) and words the scope pattern holds.
    pub(crate) fn stat(&self, key: &ScopeIds) -> Stat {
        self.stats.get(key).copied().unwrap_or_default()
    }

    /// The slot of a rowid.
    pub(crate) fn slot(&self, rowid: i64) -> Option<u32> {
        self.by_rowid.get(&rowid).copied()
    }

    /// Whether a slot holds a live memory in the query scope at `now_ms`.
    #[inline]
    pub(crate) fn admits(&self, key: &ScopeIds, slot: u32, now_ms: i64) -> bool {
        let i = slot as usize;
        self.alive[i] && self.expires[i] > now_ms && key.admits(&self.scope[i])
    }

    /// The rowids of every live memory in the query scope.
    pub(crate) fn rows_in(&self, key: &ScopeIds, now_ms: i64) -> Vec<i64> {
        (0..self.rowid.len())
            .filter(|&i| self.admits(key, i as u32, now_ms))
            .map(|i| self.rowid[i])
            .collect()
    }

    /// The live memories just before and after a slot in its session (same tenant, user, agent and session,
    /// ordered by creation then rowid); `NO_SLOT` where there is none.
    pub(crate) fn neighbours(&self, slot: u32, now_ms: i64) -> [u32; 2] {
        let i = slot as usize;
        let live = |s: u32| {
            if s != NO_SLOT && self.expires[s as usize] > now_ms {
                s
            } else {
                NO_SLOT
            }
        };
        [live(self.prev[i]), live(self.next[i])]
    }

    /// Adds (or replaces) a memory.
    pub(crate) fn put(&mut self, e: &Entry<'_>) {
        self.put_terms(e, Terms::of(e.content));
    }

    /// Adds (or replaces) a memory whose content's terms are worked out already.
    pub(crate) fn put_terms(&mut self, e: &Entry<'_>, terms: Terms) {
        self.remove(e.rowid);
        let ids = ScopeIds([
            self.intern(Some(&e.scope.tenant)),
            self.intern(e.scope.user.as_deref()),
            self.intern(e.scope.agent.as_deref()),
            self.intern(e.scope.session.as_deref()),
        ]);
        let Ok(slot) = u32::try_from(self.rowid.len()) else {
            return;
        };
        let Terms { tf, len } = terms;
        for (term, n) in tf {
            let id = self.term_id(term) as usize;
            self.postings[id].push(Posting { slot, tf: n });
        }
        self.by_rowid.insert(e.rowid, slot);
        self.rowid.push(e.rowid);
        self.scope.push(ids);
        self.created.push(e.created_ms);
        self.expires.push(e.expires_ms.unwrap_or(i64::MAX));
        self.len.push(len);
        self.alive.push(true);
        self.prev.push(NO_SLOT);
        self.next.push(NO_SLOT);
        for p in patterns(ids) {
            let s = self.stats.entry(p).or_default();
            s.docs += 1;
            s.len += u64::from(len);
        }
        if ids.0[3] != NONE {
            self.link(ids, slot);
        }
    }

    fn link(&mut self, ids: ScopeIds, slot: u32) {
        let i = slot as usize;
        let key = (self.created[i], self.rowid[i]);
        let order = self.sessions.entry(ids).or_default();
        let before = order.range(..key).next_back().map(|(_, s)| *s);
        let after = order
            .range((std::ops::Bound::Excluded(key), std::ops::Bound::Unbounded))
            .next()
            .map(|(_, s)| *s);
        order.insert(key, slot);
        self.prev[i] = before.unwrap_or(NO_SLOT);
        self.next[i] = after.unwrap_or(NO_SLOT);
        if let Some(b) = before {
            self.next[b as usize] = slot;
        }
        if let Some(a) = after {
            self.prev[a as usize] = slot;
        }
    }

    /// Forgets a memory (no-op when absent).
    pub(crate) fn remove(&mut self, rowid: i64) {
        let Some(slot) = self.by_rowid.remove(&rowid) else {
            return;
        };
        let i = slot as usize;
        self.alive[i] = false;
        self.dead += 1;
        let ids = self.scope[i];
        for p in patterns(ids) {
            if let Some(s) = self.stats.get_mut(&p) {
                s.docs = s.docs.saturating_sub(1);
                s.len = s.len.saturating_sub(u64::from(self.len[i]));
                if s.docs == 0 {
                    self.stats.remove(&p);
                }
            }
        }
        if ids.0[3] != NONE {
            let (p, n) = (self.prev[i], self.next[i]);
            if p != NO_SLOT {
                self.next[p as usize] = n;
            }
            if n != NO_SLOT {
                self.prev[n as usize] = p;
            }
            if let Some(order) = self.sessions.get_mut(&ids) {
                order.remove(&(self.created[i], rowid));
                if order.is_empty() {
                    self.sessions.remove(&ids);
                }
            }
            self.prev[i] = NO_SLOT;
            self.next[i] = NO_SLOT;
        }
    }

    /// Whether enough slots are dead to compact.
    pub(crate) fn wants_compaction(&self) -> bool {
        self.dead >= COMPACT_MIN && self.dead * 4 >= self.rowid.len()
    }

    /// Renumbers the live slots, dropping dead postings and terms no live memory has.
    pub(crate) fn compact(&mut self) {
        let mut map = vec![NO_SLOT; self.rowid.len()];
        let mut n = 0u32;
        for (i, m) in map.iter_mut().enumerate() {
            if self.alive[i] {
                *m = n;
                n += 1;
            }
        }
        let alive = std::mem::take(&mut self.alive);
        retain_alive(&mut self.rowid, &alive);
        retain_alive(&mut self.created, &alive);
        retain_alive(&mut self.expires, &alive);
        retain_alive(&mut self.scope, &alive);
        retain_alive(&mut self.len, &alive);
        retain_alive(&mut self.prev, &alive);
        retain_alive(&mut self.next, &alive);
        let remap = |s: u32| {
            if s == NO_SLOT {
                NO_SLOT
            } else {
                map[s as usize]
            }
        };
        self.prev.iter_mut().for_each(|p| *p = remap(*p));
        self.next.iter_mut().for_each(|p| *p = remap(*p));
        self.alive = vec![true; n as usize];
        self.by_rowid.values_mut().for_each(|s| *s = remap(*s));
        for order in self.sessions.values_mut() {
            order.values_mut().for_each(|s| *s = remap(*s));
        }
        let terms = std::mem::take(&mut self.terms);
        let mut postings = std::mem::take(&mut self.postings);
        for (term, id) in terms {
            let mut list = std::mem::take(&mut postings[id as usize]);
            list.retain_mut(|p| {
                p.slot = remap(p.slot);
                p.slot != NO_SLOT
            });
            if !list.is_empty() {
                let new = u32::try_from(self.postings.len()).unwrap_or(u32::MAX);
                self.terms.insert(term, new);
                self.postings.push(list);
            }
        }
        self.dead = 0;
    }

    /// How many live memories the index holds.
    #[cfg(test)]
    pub(crate) fn live(&self) -> usize {
        self.by_rowid.len()
    }
}
