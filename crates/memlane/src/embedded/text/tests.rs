//! Unit tests of the text index: postings, scopes, neighbours, compaction, BM25 and session context.

use memlane_core::Scope;

use super::index::{Entry, Index, NO_SLOT};
use super::{bm25, with_context};

fn put(ix: &mut Index, rowid: i64, scope: &Scope, content: &str, created_ms: i64) {
    ix.put(&Entry {
        rowid,
        scope,
        content,
        created_ms,
        expires_ms: None,
    });
}

fn terms(q: &str) -> Vec<String> {
    super::tokenize::query_terms(q, 64)
}

fn ranked(ix: &Index, scope: &Scope, q: &str) -> Vec<(i64, f32)> {
    let key = ix.scope_key(scope).expect("known scope");
    let s = bm25::score(ix, &terms(q), &key, 0);
    let mut out: Vec<(i64, f32)> = s
        .matched
        .iter()
        .map(|&x| (ix.rowid[x as usize], s.get(x)))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

#[test]
fn bm25_ranks_within_the_scope_and_stays_below_one() {
    let mut ix = Index::default();
    let a = Scope::tenant("t").with_user("a");
    let b = Scope::tenant("t").with_user("b");
    put(&mut ix, 1, &a, "Alice prefers dark mode in her editor", 0);
    put(&mut ix, 2, &a, "The editor crashed yesterday", 0);
    put(&mut ix, 3, &a, "Dark chocolate is her favourite", 0);
    put(&mut ix, 4, &a, "Gardening tips for spring", 0);
    put(&mut ix, 5, &b, "Bob prefers dark mode too", 0);
    let hits = ranked(&ix, &a, "dark mode editor");
    let ids: Vec<i64> = hits.iter().map(|h| h.0).collect();
    assert_eq!(ids[0], 1);
    assert!(ids.contains(&2) && ids.contains(&3) && !ids.contains(&4) && !ids.contains(&5));
    assert!(hits.iter().all(|h| h.1 > 0.0 && h.1 < 1.0));
    assert!(hits[0].1 > hits[1].1);
    // Words in every memory of a small scope still count (Lucene's IDF is never zero).
    let all = ranked(&ix, &Scope::tenant("t").with_user("b"), "dark");
    assert_eq!(all.len(), 1);
    assert!(all[0].1 > 0.0);
    assert!(ix
        .scope_key(&Scope::tenant("t").with_user("nobody"))
        .is_none());
}

#[test]
fn stems_match_and_stopword_queries_still_work() {
    let mut ix = Index::default();
    let s = Scope::tenant("t");
    put(&mut ix, 1, &s, "She painted a lake at sunrise", 0);
    put(&mut ix, 2, &s, "The Who played live", 0);
    assert_eq!(ranked(&ix, &s, "painting lakes")[0].0, 1);
    assert_eq!(ranked(&ix, &s, "the who")[0].0, 2);
}

#[test]
fn neighbours_follow_sessions_and_removals() {
    let mut ix = Index::default();
    let s1 = Scope::tenant("t").with_session("s1");
    let s2 = Scope::tenant("t").with_session("s2");
    put(&mut ix, 1, &s1, "one", 10);
    put(&mut ix, 3, &s1, "three", 30);
    put(&mut ix, 2, &s1, "two", 20);
    put(&mut ix, 4, &s2, "other session", 15);
    put(&mut ix, 5, &Scope::tenant("t"), "no session", 16);
    let slot = |r| ix.slot(r).expect("slot");
    let rows = |pair: [u32; 2]| {
        pair.map(|s| {
            if s == NO_SLOT {
                0
            } else {
                ix.rowid[s as usize]
            }
        })
    };
    assert_eq!(rows(ix.neighbours(slot(2), 0)), [1, 3]);
    assert_eq!(rows(ix.neighbours(slot(1), 0)), [0, 2]);
    assert_eq!(rows(ix.neighbours(slot(4), 0)), [0, 0]);
    assert_eq!(rows(ix.neighbours(slot(5), 0)), [0, 0]);
    ix.remove(2);
    let slot = |r| ix.slot(r).expect("slot");
    let rows = |pair: [u32; 2]| {
        pair.map(|s| {
            if s == NO_SLOT {
                0
            } else {
                ix.rowid[s as usize]
            }
        })
    };
    assert_eq!(rows(ix.neighbours(slot(1), 0)), [0, 3]);
    assert_eq!(rows(ix.neighbours(slot(3), 0)), [1, 0]);
}

#[test]
fn context_lifts_a_reply_through_its_question() {
    let mut ix = Index::default();
    let s = Scope::tenant("t").with_session("s");
    put(&mut ix, 1, &s, "Where did you go camping?", 1);
    put(&mut ix, 2, &s, "By the lake, last weekend!", 2);
    put(&mut ix, 3, &s, "Nice.", 3);
    let own = |x: u32| if ix.rowid[x as usize] == 1 { 1.0 } else { 0.0 };
    let slot = |r| ix.slot(r).expect("slot");
    assert!((with_context(&ix, slot(2), 0, own) - 1.0 / 3.0).abs() < 1e-6);
    assert!((with_context(&ix, slot(1), 0, own) - 1.0).abs() < 1e-6);
    assert!(with_context(&ix, slot(3), 0, own).abs() < 1e-6);
}

#[test]
fn compaction_keeps_what_is_live() {
    let mut ix = Index::default();
    let s = Scope::tenant("t").with_session("s");
    for r in 0..5000 {
        put(&mut ix, r, &s, &format!("memory number w{r} shared"), r);
    }
    for r in (0..5000).filter(|r| r % 3 != 0) {
        ix.remove(r);
    }
    assert!(ix.wants_compaction());
    ix.compact();
    assert_eq!(ix.live(), 1667);
    assert_eq!(ix.rowid.len(), 1667);
    let hits = ranked(&ix, &s, "w3 shared");
    assert_eq!(hits[0].0, 3);
    assert_eq!(hits.len(), 1667);
    assert!(ranked(&ix, &s, "w4").is_empty());
    let slot = ix.slot(3).expect("slot");
    let [p, n] = ix.neighbours(slot, 0);
    assert_eq!((ix.rowid[p as usize], ix.rowid[n as usize]), (0, 6));
    put(&mut ix, 3, &s, "replaced content", 3);
    assert!(ranked(&ix, &s, "w3").is_empty());
    assert_eq!(ranked(&ix, &s, "replaced")[0].0, 3);
}
