//! The randomized proof of reference semantics: a fixed pseudo-random dataset and a few hundred pseudo-random
//! filters; for each, `list` and `count` must give exactly the memories for which [`crate::Filter::matches`] holds.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::support::{filter, fresh_scope, listed, put_all, sort_newest_first};
use crate::{Kind, Memory, MemoryStore, NewMemory, Scope, Update};

/// How many memories the dataset has.
const MEMORIES: usize = 80;
/// How many random filters are checked.
const FILTERS: usize = 400;

/// SplitMix64: a tiny deterministic generator, so that every run and every backend sees the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

const WORDS: &[&str] = &[
    "alpha", "beta", "Gamma", "é", "zeta", "", "al", "Zeta", "x", "y", "1",
];
const NUMS: &[f64] = &[-2.0, 0.0, 1.0, 1.5, 2.0, 3.25, 10.0, 100.0];
const TAGS: &[&str] = &["x", "y", "z", "alpha"];

fn num(rng: &mut Rng) -> Value {
    let n = rng.pick(NUMS);
    if n.fract() == 0.0 && rng.chance(50) {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn metadata(rng: &mut Rng) -> Map<String, Value> {
    let mut m = Map::new();
    if rng.chance(75) {
        m.insert("topic".into(), json!(rng.pick(WORDS)));
    }
    if rng.chance(75) {
        m.insert("n".into(), num(rng));
    }
    if rng.chance(60) {
        m.insert("flag".into(), json!(rng.chance(50)));
    }
    if rng.chance(70) {
        let tags: Vec<Value> = (0..rng.below(4))
            .map(|_| {
                if rng.chance(80) {
                    json!(rng.pick(TAGS))
                } else {
                    num(rng)
                }
            })
            .collect();
        m.insert("tags".into(), Value::Array(tags));
    }
    match rng.below(4) {
        0 => {}
        1 => {
            m.insert("nested".into(), json!({"a": {"b": num(rng)}}));
        }
        2 => {
            m.insert("nested".into(), json!({"a": rng.pick(WORDS)}));
        }
        _ => {
            m.insert("nested".into(), json!({"a": {"b": rng.pick(WORDS)}}));
        }
    }
    if rng.chance(60) {
        let v = match rng.below(4) {
            0 => json!("1"),
            1 => json!(1),
            2 => json!(true),
            _ => Value::Null,
        };
        m.insert("mixed".into(), v);
    }
    m
}

fn scope(rng: &mut Rng, base: &Scope) -> Scope {
    let mut s = base.clone();
    s.user = rng
        .pick(&[None, Some("u1"), Some("u2"), Some("ü3")])
        .map(str::to_owned);
    s.agent = rng.pick(&[None, Some("a1")]).map(str::to_owned);
    s.session = rng.pick(&[None, Some("s1"), Some("s2")]).map(str::to_owned);
    s
}

async fn dataset(store: &dyn MemoryStore, base: &Scope, rng: &mut Rng) -> Vec<Memory> {
    let ttl = store.capabilities().ttl;
    let mut batch = Vec::new();
    for i in 0..MEMORIES {
        let content = format!(
            "{} {} #{i}",
            rng.pick(WORDS),
            rng.pick(&["fox", "Fox", "dog", "café", "tea"])
        );
        let mut m = NewMemory::new(scope(rng, base), content).kind(rng.pick(&Kind::ALL));
        m.metadata = metadata(rng);
        if ttl && rng.chance(25) {
            m = m.ttl(Duration::from_secs(3600 + rng.below(3600) as u64));
        }
        batch.push(m);
        // Several batches, so that created_at takes several values.
        if batch.len() == 20 {
            put_all(store, std::mem::take(&mut batch)).await;
            super::support::sleep_ms(3).await;
        }
    }
    if !batch.is_empty() {
        put_all(store, batch).await;
    }
    let mut all = listed(store, base, None).await;
    for m in all.iter_mut() {
        for _ in 0..rng.below(3) {
            let mut meta = m.metadata.clone();
            meta.insert("n".into(), num(rng));
            *m = store
                .update(&base.tenant, m.id, Update::default().metadata(meta))
                .await
                .expect("update a dataset memory");
        }
    }
    sort_newest_first(&mut all);
    all
}

const META_FIELDS: &[&str] = &[
    "metadata.topic",
    "metadata.n",
    "metadata.flag",
    "metadata.tags",
    "metadata.nested.a",
    "metadata.nested.a.b",
    "metadata.mixed",
    "metadata.missing",
];

fn json_value(rng: &mut Rng, ordered: bool) -> Value {
    match rng.below(if ordered { 2 } else { 3 }) {
        0 => json!(rng.pick(WORDS)),
        1 => num(rng),
        _ => json!(rng.chance(50)),
    }
}

/// Makes a random value for a field: `(rng, ordered)`, where `ordered` asks for one that `gt`/`lt` accept.
type ValueGen = Box<dyn Fn(&mut Rng, bool) -> Value>;

/// One random condition, always valid.
fn condition(rng: &mut Rng, data: &[Memory]) -> Value {
    let some = |rng: &mut Rng| &data[rng.below(data.len())];
    let (field, value): (String, ValueGen) = match rng.below(20) {
        0 => (
            "kind".into(),
            Box::new(|rng, _| json!(rng.pick(&Kind::ALL).as_str())),
        ),
        1 | 2 => {
            let mut words: Vec<String> = ["fox", "Fox", "é", "#1", "café", "a"]
                .map(String::from)
                .to_vec();
            words.extend((0..3).map(|_| some(rng).content.clone()));
            (
                "content".into(),
                Box::new(move |rng, _| json!(rng.pick(&words))),
            )
        }
        3 | 4 => (
            "user".into(),
            Box::new(|rng, _| json!(rng.pick(&["u1", "u2", "ü3", "u"]))),
        ),
        5 => (
            "agent".into(),
            Box::new(|rng, _| json!(rng.pick(&["a1", "a"]))),
        ),
        6 => (
            "session".into(),
            Box::new(|rng, _| json!(rng.pick(&["s1", "s2", "s3"]))),
        ),
        7 => (
            "version".into(),
            Box::new(|rng, _| json!(rng.pick(&[1.0, 2.0, 3.0, 1.5]))),
        ),
        8 | 9 => {
            let name = rng.pick(&["created_at", "updated_at", "expires_at"]);
            let m = some(rng);
            let t = match name {
                "created_at" => m.created_at,
                "updated_at" => m.updated_at,
                _ => m
                    .expires_at
                    .unwrap_or(m.created_at.plus(Duration::from_secs(3600))),
            };
            let t = crate::Timestamp::from_millis(t.as_millis() + rng.pick(&[-1, 0, 0, 1]));
            (name.into(), Box::new(move |_, _| json!(t.to_string())))
        }
        10 => {
            let ids: Vec<String> = (0..3).map(|_| some(rng).id.to_string()).collect();
            ("id".into(), Box::new(move |rng, _| json!(rng.pick(&ids))))
        }
        _ => (rng.pick(META_FIELDS).into(), Box::new(json_value)),
    };
    let is_time = field.ends_with("_at");
    let ops: &[&str] = match field.as_str() {
        "version" => &["eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "exists"],
        f if f.ends_with("_at") => &["eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "exists"],
        "id" | "kind" => &["eq", "ne", "in", "nin", "exists"],
        _ => &[
            "eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "exists", "contains",
        ],
    };
    let op = rng.pick(ops);
    let v = match op {
        "exists" => json!(rng.chance(50)),
        "in" | "nin" => {
            let n = if is_time { 1 } else { rng.below(4) };
            Value::Array((0..n).map(|_| value(rng, false)).collect())
        }
        "gt" | "gte" | "lt" | "lte" => value(rng, true),
        _ => value(rng, false),
    };
    json!({"field": field, op: v})
}

fn random_filter(rng: &mut Rng, data: &[Memory], depth: usize) -> Value {
    if depth < 3 && rng.chance(35) {
        let kids = |rng: &mut Rng| -> Vec<Value> {
            let n = if rng.chance(5) { 0 } else { 1 + rng.below(3) };
            (0..n)
                .map(|_| random_filter(rng, data, depth + 1))
                .collect()
        };
        match rng.below(3) {
            0 => json!({"and": kids(rng)}),
            1 => json!({"or": kids(rng)}),
            _ => json!({"not": random_filter(rng, data, depth + 1)}),
        }
    } else {
        condition(rng, data)
    }
}

/// A seeded dataset of 80 memories (varied scopes, kinds, versions, expiries and metadata of mixed types) and 400
/// seeded random filters over every field and operator: `list` (in order) and `count` with each must give exactly
/// the memories [`crate::Filter::matches`] accepts, and a scoped query exactly the scope's share of them.
pub async fn filter_random_against_reference(store: &dyn MemoryStore) {
    let base = fresh_scope();
    let mut rng = Rng(0x6D65_6D6C_616E_6521);
    let data = dataset(store, &base, &mut rng).await;
    assert_eq!(data.len(), MEMORIES, "the dataset is stored whole");
    let mut discriminating = 0;
    for i in 0..FILTERS {
        let json = random_filter(&mut rng, &data, 0);
        let f = filter(json.clone());
        // Every fifth filter also narrows the scope, every twentieth to a random full scope.
        let scope = match i % 20 {
            0 => scope(&mut rng, &base),
            5 => base.clone().with_user(rng.pick(&["u1", "u2", "ü3"])),
            10 => base.clone().with_session(rng.pick(&["s1", "s2"])),
            15 => base.clone().with_agent("a1"),
            _ => base.clone(),
        };
        let want: Vec<_> = data
            .iter()
            .filter(|m| scope.matches(&m.scope) && f.matches(m))
            .map(|m| m.id)
            .collect();
        let in_scope = data.iter().filter(|m| scope.matches(&m.scope)).count();
        if !want.is_empty() && want.len() < in_scope {
            discriminating += 1;
        }
        let got: Vec<_> = listed(store, &scope, Some(&f))
            .await
            .iter()
            .map(|m| m.id)
            .collect();
        if got != want {
            let label = |ids: &[crate::MemoryId], other: &[crate::MemoryId]| -> Vec<String> {
                ids.iter()
                    .filter(|id| !other.contains(id))
                    .filter_map(|id| data.iter().find(|m| m.id == *id))
                    .map(|m| {
                        format!(
                            "{} {:?} {:?} {}",
                            m.content,
                            m.kind,
                            m.scope,
                            Value::Object(m.metadata.clone())
                        )
                    })
                    .collect()
            };
            panic!(
                "random filter #{i} {json} in scope {scope:?}: {} memories listed, {} expected\n\
                 listed but not matching: {:#?}\nmatching but not listed: {:#?}",
                got.len(),
                want.len(),
                label(&got, &want),
                label(&want, &got)
            );
        }
    } // A guard on the generator itself: many filters must select some but not all memories (the others check that
      // nothing is selected by mistake, e.g. across types).
    assert!(
        discriminating * 5 >= FILTERS * 2,
        "only {discriminating} of {FILTERS} random filters discriminate: the generator needs fixing"
    );
}
