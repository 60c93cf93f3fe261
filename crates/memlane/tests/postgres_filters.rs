//! Property test: the PostgreSQL store's SQL compilation of random filters selects exactly the memories the
//! reference evaluator (`Filter::matches`) selects, on random data; and filter strings PostgreSQL cannot hold (NUL)
//! still follow the reference. Needs `MEMLANE_TEST_POSTGRES_URL` (skipped without it).
#![cfg(feature = "postgres")]

#[path = "postgres_common.rs"]
mod common;

use std::sync::OnceLock;

use memlane::filter::{Field, Predicate, Scalar};
use memlane::postgres::PostgresStore;
use memlane::{AddOptions, Filter, Kind, MemoryStore, MemoryStoreExt, NewMemory, Scope};
use proptest::prelude::*;
use serde_json::{json, Value};

const STRINGS: &[&str] = &["a", "b", "ab", "B", "", "é", "a b", "a\0", "a\0b", "Z", "~"];

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        prop::sample::select(STRINGS.to_vec()).prop_map(|s| Scalar::Str(s.into())),
        prop::sample::select(vec![
            -1.0,
            0.0,
            0.5,
            1.0,
            1.5,
            2.0,
            10.0,
            0.30000000000000004
        ])
        .prop_map(Scalar::Num),
        any::<bool>().prop_map(Scalar::Bool),
    ]
}

fn meta_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        prop::sample::select(vec!["a", "b", "ab", "B", "", "é", "a b", "Z", "~"])
            .prop_map(|s| json!(s)),
        prop::sample::select(vec![-1, 0, 1, 2, 10]).prop_map(|n| json!(n)),
        prop::sample::select(vec![0.5, 1.0, 1.5, 0.30000000000000004]).prop_map(|n| json!(n)),
        any::<bool>().prop_map(|b| json!(b)),
        Just(Value::Null),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(vec!["x", "y", "0"]), inner, 0..3)
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
        ]
    })
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        prop::sample::select(vec!["x", "y", "z"]).prop_map(|k| Field::Metadata(vec![k.into()])),
        (
            prop::sample::select(vec!["x", "y"]),
            prop::sample::select(vec!["x", "y", "0"])
        )
            .prop_map(|(a, b)| Field::Metadata(vec![a.into(), b.into()])),
        Just(Field::Content),
        Just(Field::User),
        Just(Field::Session),
        Just(Field::Version),
    ]
}

fn cond() -> impl Strategy<Value = Filter> {
    (
        field(),
        0..10usize,
        scalar(),
        prop::collection::vec(scalar(), 0..3),
        any::<bool>(),
    )
        .prop_filter_map("typed", |(field, op, s, l, b)| {
            // Built-in fields take values of their own type (the parser enforces it).
            let typed = |s: &Scalar| {
                matches!(
                    (&field, s),
                    (Field::Metadata(_), _)
                        | (Field::Version, Scalar::Num(_))
                        | (
                            Field::Content | Field::User | Field::Session,
                            Scalar::Str(_)
                        )
                )
            };
            let ordered = !matches!(s, Scalar::Bool(_));
            let pred = match op {
                0 => Predicate::Eq(s.clone()),
                1 => Predicate::Ne(s.clone()),
                2 => Predicate::In(l.clone()),
                3 => Predicate::Nin(l.clone()),
                4 if ordered => Predicate::Gt(s.clone()),
                5 if ordered => Predicate::Gte(s.clone()),
                6 if ordered => Predicate::Lt(s.clone()),
                7 if ordered => Predicate::Lte(s.clone()),
                8 => Predicate::Exists(b),
                9 if !matches!(field, Field::Version) => Predicate::Contains(s.clone()),
                _ => return None,
            };
            let ok = match &pred {
                Predicate::In(l) | Predicate::Nin(l) => l.iter().all(typed),
                Predicate::Exists(_) => true,
                _ => typed(&s),
            };
            ok.then_some(Filter::Cond { field, pred })
        })
}

fn filter() -> impl Strategy<Value = Filter> {
    cond().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

type Row = (
    String,
    Option<String>,
    Option<String>,
    Kind,
    serde_json::Map<String, Value>,
);

fn memories() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (
            prop::sample::select(vec!["a", "ab", "b a", "é", "Z~", "a b"]),
            prop::option::of(prop::sample::select(vec!["a", "b", "ab"])),
            prop::option::of(prop::sample::select(vec!["a", "é"])),
            prop::sample::select(Kind::ALL.to_vec()),
            prop::collection::btree_map(
                prop::sample::select(vec!["x", "y", "z"]),
                meta_value(),
                0..3,
            ),
        )
            .prop_map(|(c, u, s, k, m)| {
                (
                    c.to_owned(),
                    u.map(str::to_owned),
                    s.map(str::to_owned),
                    k,
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                )
            }),
        1..12,
    )
}

/// One runtime and one store for every case (a fresh tenant each).
fn shared() -> Option<&'static (tokio::runtime::Runtime, PostgresStore)> {
    static SHARED: OnceLock<Option<(tokio::runtime::Runtime, PostgresStore)>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let url = common::url(common::VECTOR)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            let store = rt.block_on(common::open(&url, "purge_interval=off"));
            Some((rt, store))
        })
        .as_ref()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]
    #[test]
    fn sql_filters_match_reference(data in memories(), filters in prop::collection::vec(filter(), 1..8)) {
        let Some((rt, store)) = shared() else { return Ok(()) };
        rt.block_on(async {
            let scope = Scope::tenant(format!("t-{}", memlane::new_id().simple()));
            let batch: Vec<NewMemory> = data
                .into_iter()
                .map(|(content, user, session, kind, meta)| {
                    let mut s = scope.clone();
                    s.user = user;
                    s.session = session;
                    let mut m = NewMemory::new(s, content).kind(kind);
                    m.metadata = meta;
                    m
                })
                .collect();
            store.add(batch, AddOptions { dedup: Some(false) }).await.expect("add");
            let all = store.list_all(&scope, None).await.expect("list");
            for f in &filters {
                // The filter survives its JSON form, as the API carries it.
                let f = Filter::parse(&f.to_json()).expect("round trip");
                let mut want: Vec<_> = all.iter().filter(|m| f.matches(m)).map(|m| m.id).collect();
                let mut got: Vec<_> = store.list_all(&scope, Some(&f)).await.expect("filtered").into_iter().map(|m| m.id).collect();
                want.sort();
                got.sort();
                prop_assert_eq!(&got, &want, "filter {}", f.to_json());
                prop_assert_eq!(store.count(&scope, Some(&f)).await.expect("count") as usize, want.len());
            }
            store.forget(&scope).await.expect("forget");
            Ok(())
        })?;
    }
}
