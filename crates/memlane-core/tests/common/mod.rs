//! proptest strategies shared by the core's tests: filters (always valid), arbitrary JSON, memories.
#![allow(dead_code)]

use memlane_core::filter::{Field, FieldType, Predicate, Scalar};
use memlane_core::{Embedding, Filter, Kind, Memory, Scope, Timestamp};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::{Map, Number, Value};

/// The earliest and latest times RFC 3339 can write with a four-digit year (0001-01-01 .. 9999-12-31).
pub const MIN_MS: i64 = -62_135_596_800_000;
/// See [`MIN_MS`].
pub const MAX_MS: i64 = 253_402_300_799_999;

/// A timestamp RFC 3339 can express.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    (MIN_MS..=MAX_MS).prop_map(Timestamp::from_millis)
}

/// A metadata path segment: any characters filter paths allow.
pub fn segment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_ éü日本🦀:/-]{1,12}"
}

/// Any field a filter can name.
pub fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        Just(Field::Id),
        Just(Field::Kind),
        Just(Field::Content),
        Just(Field::User),
        Just(Field::Agent),
        Just(Field::Session),
        Just(Field::Version),
        Just(Field::CreatedAt),
        Just(Field::UpdatedAt),
        Just(Field::ExpiresAt),
        vec(segment(), 1..5).prop_map(Field::Metadata),
    ]
}

/// Finite numbers: either any finite `f64` (`exact: false`), or multiples of 1/8 whose decimal form any JSON
/// parser reads back exactly (`exact: true`).
pub fn number(exact: bool) -> BoxedStrategy<f64> {
    let nice = any::<i32>().prop_map(|i| f64::from(i) / 8.0);
    if exact {
        nice.boxed()
    } else {
        prop_oneof![nice, any::<f64>().prop_filter("finite", |f| f.is_finite())].boxed()
    }
}

/// A value `field` accepts with an ordered (`gt`...) or unordered operator, as the parser would produce it.
pub fn scalar_for(field: &Field, ordered: bool, exact: bool) -> BoxedStrategy<Scalar> {
    let s = any::<String>().prop_map(Scalar::Str).boxed();
    let n = number(exact).prop_map(Scalar::Num).boxed();
    let b = any::<bool>().prop_map(Scalar::Bool).boxed();
    match field.ty() {
        FieldType::Json if ordered => prop_oneof![s, n].boxed(),
        FieldType::Json => prop_oneof![s, n, b].boxed(),
        FieldType::Str => match field {
            Field::Id if !ordered => any::<u128>()
                .prop_map(|u| Scalar::Str(uuid::Uuid::from_u128(u).to_string()))
                .boxed(),
            Field::Kind if !ordered => proptest::sample::select(Kind::ALL.to_vec())
                .prop_map(|k| Scalar::Str(k.as_str().to_owned()))
                .boxed(),
            _ => s,
        },
        FieldType::Num => n,
        FieldType::Time => timestamp().prop_map(Scalar::Time).boxed(),
    }
}

/// A predicate valid for `field`.
pub fn predicate_for(field: &Field, exact: bool) -> BoxedStrategy<Predicate> {
    let eq = scalar_for(field, false, exact);
    let ord = scalar_for(field, true, exact);
    let mut options = vec![
        eq.clone().prop_map(Predicate::Eq).boxed(),
        eq.clone().prop_map(Predicate::Ne).boxed(),
        vec(eq.clone(), 0..4).prop_map(Predicate::In).boxed(),
        vec(eq.clone(), 0..4).prop_map(Predicate::Nin).boxed(),
        ord.clone().prop_map(Predicate::Gt).boxed(),
        ord.clone().prop_map(Predicate::Gte).boxed(),
        ord.clone().prop_map(Predicate::Lt).boxed(),
        ord.prop_map(Predicate::Lte).boxed(),
        any::<bool>().prop_map(Predicate::Exists).boxed(),
    ];
    if !matches!(field.ty(), FieldType::Num | FieldType::Time) {
        options.push(eq.prop_map(Predicate::Contains).boxed());
    }
    Union::new(options).boxed()
}

/// A valid condition.
pub fn condition(exact: bool) -> impl Strategy<Value = Filter> {
    field().prop_flat_map(move |f| {
        predicate_for(&f, exact).prop_map(move |pred| Filter::Cond {
            field: f.clone(),
            pred,
        })
    })
}

/// A valid filter, nested up to 4 deep.
pub fn filter(exact: bool) -> impl Strategy<Value = Filter> {
    condition(exact).prop_recursive(4, 64, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Filter::And),
            vec(inner.clone(), 0..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

/// A JSON number from a finite `f64`.
fn json_num(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Arbitrary JSON (numbers exact or not), nested.
pub fn json(exact: bool) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        number(exact).prop_map(json_num),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(any::<String>(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object for metadata.
pub fn metadata(exact: bool) -> impl Strategy<Value = Map<String, Value>> {
    btree_map(any::<String>(), json(exact), 0..5).prop_map(|m| m.into_iter().collect())
}

fn opt_name() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any::<String>())
}

/// Any memory (its JSON form need not pass validation), with metadata numbers exact or not.
pub fn memory(exact: bool) -> impl Strategy<Value = Memory> {
    let scope = (any::<String>(), opt_name(), opt_name(), opt_name()).prop_map(
        |(tenant, user, agent, session)| Scope {
            tenant,
            user,
            agent,
            session,
        },
    );
    let embedding = proptest::option::of(
        (
            any::<String>(),
            vec(any::<f32>().prop_filter("finite", |f| f.is_finite()), 0..24),
        )
            .prop_map(|(model, vector)| Embedding { model, vector }),
    );
    (
        (
            any::<u128>(),
            scope,
            proptest::sample::select(Kind::ALL.to_vec()),
            any::<String>(),
        ),
        (metadata(exact), embedding),
        (timestamp(), timestamp(), proptest::option::of(timestamp())),
        (any::<u64>(), any::<String>()),
    )
        .prop_map(
            |(
                (id, scope, kind, content),
                (metadata, embedding),
                (created_at, updated_at, expires_at),
                (version, content_hash),
            )| Memory {
                id: uuid::Uuid::from_u128(id),
                scope,
                kind,
                content,
                metadata,
                embedding,
                created_at,
                updated_at,
                expires_at,
                version,
                content_hash,
            },
        )
}
