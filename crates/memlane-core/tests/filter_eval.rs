//! The reference evaluator: its documented cases, and the laws between operators (`ne` is `not eq`, `nin` is
//! `not in`, `and`/`or`/`not` are boolean logic) on random memories.

mod common;

use memlane_core::filter::Predicate;
use memlane_core::{Filter, Kind, Memory, NewMemory, Scope, Timestamp};
use proptest::prelude::*;
use serde_json::{json, Value};

fn mem(meta: Value) -> Memory {
    let mut m =
        NewMemory::new(Scope::tenant("t").with_user("alice"), "The Quick fox").kind(Kind::Fact);
    m.metadata = meta.as_object().expect("object").clone();
    m.into_memory(Timestamp::from_millis(1_000))
}

fn holds(f: Value, m: &Memory) -> bool {
    Filter::parse(&f)
        .unwrap_or_else(|e| panic!("{f}: {e}"))
        .matches(m)
}

#[test]
fn documented_cases() {
    let m = mem(
        json!({"n": 1, "x": 1.5, "s": "hello", "b": true, "z": null, "tags": ["a", 2], "o": {"p": {"q": "deep"}}}),
    );
    let yes = [
        json!({"field": "metadata.n", "eq": 1.0}),
        json!({"field": "metadata.x", "gt": 1}),
        json!({"field": "metadata.s", "contains": "ell"}),
        json!({"field": "metadata.tags", "contains": "a"}),
        json!({"field": "metadata.tags", "contains": 2.0}),
        json!({"field": "metadata.o.p.q", "eq": "deep"}),
        json!({"field": "metadata.z", "exists": false}),
        json!({"field": "metadata.z", "ne": 1}),
        json!({"field": "metadata.missing", "nin": ["a"]}),
        json!({"field": "metadata.b", "in": [false, true]}),
        json!({"field": "metadata.s", "gt": "Hello"}),
        json!({"field": "content", "contains": "Quick"}),
        json!({"field": "user", "eq": "alice"}),
        json!({"field": "agent", "exists": false}),
        json!({"field": "kind", "eq": "fact"}),
        json!({"field": "version", "eq": 1}),
        json!({"field": "created_at", "eq": "1970-01-01T00:00:01Z"}),
        json!({"field": "expires_at", "ne": "1970-01-01T00:00:01Z"}),
        json!({"and": []}),
        json!({"not": {"or": []}}),
    ];
    let no = [
        json!({"field": "metadata.n", "eq": "1"}),
        json!({"field": "metadata.s", "gt": 1}),
        json!({"field": "metadata.s", "contains": "Hell"}),
        json!({"field": "metadata.tags", "contains": "2"}),
        json!({"field": "metadata.o.p", "eq": "deep"}),
        json!({"field": "metadata.o.p.q.r", "exists": true}),
        json!({"field": "metadata.z", "eq": 1}),
        json!({"field": "metadata.missing", "in": ["a"]}),
        json!({"field": "metadata.b", "eq": "true"}),
        json!({"field": "metadata.n", "contains": 1}),
        json!({"field": "content", "contains": "quick"}),
        json!({"field": "agent", "lt": "z"}),
        json!({"field": "expires_at", "lt": "2100-01-01T00:00:00Z"}),
        json!({"or": []}),
    ];
    for f in yes {
        assert!(holds(f.clone(), &m), "{f} should hold");
    }
    for f in no {
        assert!(!holds(f.clone(), &m), "{f} should not hold");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn operator_laws(m in common::memory(false), c in common::condition(false)) {
        let Filter::Cond { field, pred } = &c else { unreachable!() };
        let with = |p: Predicate| Filter::cond(field.clone(), p).matches(&m);
        match pred {
            Predicate::Eq(s) => prop_assert_eq!(with(Predicate::Ne(s.clone())), !c.matches(&m)),
            Predicate::In(l) => {
                prop_assert_eq!(with(Predicate::Nin(l.clone())), !c.matches(&m));
                prop_assert_eq!(c.matches(&m), l.iter().any(|s| with(Predicate::Eq(s.clone()))));
            }
            Predicate::Exists(b) => prop_assert_eq!(with(Predicate::Exists(!b)), !c.matches(&m)),
            Predicate::Gte(s) => prop_assert_eq!(
                c.matches(&m),
                with(Predicate::Gt(s.clone())) || with(Predicate::Eq(s.clone()))
            ),
            Predicate::Lte(s) => prop_assert_eq!(
                c.matches(&m),
                with(Predicate::Lt(s.clone())) || with(Predicate::Eq(s.clone()))
            ),
            Predicate::Gt(s) => prop_assert!(!(c.matches(&m) && with(Predicate::Lte(s.clone())))),
            _ => {}
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn logic_laws(m in common::memory(false), f in common::filter(false), g in common::filter(false)) {
        let (a, b) = (f.matches(&m), g.matches(&m));
        prop_assert_eq!(Filter::Not(Box::new(f.clone())).matches(&m), !a);
        prop_assert_eq!(Filter::And(vec![f.clone(), g.clone()]).matches(&m), a && b);
        prop_assert_eq!(Filter::Or(vec![f, g]).matches(&m), a || b);
    }
}
