//! The filter language: which memories a list, count or search keeps.
//!
//! # JSON form
//! A filter is a JSON object of one of these shapes:
//!
//! | shape | meaning |
//! |---|---|
//! | `{"field": F, "eq": V}` | F equals V (same type; numbers compare numerically) |
//! | `{"field": F, "ne": V}` | not `eq` (true when F is absent) |
//! | `{"field": F, "in": [V, ...]}` | F equals one of the values |
//! | `{"field": F, "nin": [V, ...]}` | not `in` (true when F is absent) |
//! | `{"field": F, "gt": V}` (`gte`, `lt`, `lte`) | F is of V's type (number, string or time) and greater, ... |
//! | `{"field": F, "exists": true}` | F is present and not `null` (`false`: absent or `null`) |
//! | `{"field": F, "contains": V}` | F is an array with an element equal to V, or F and V are strings and V is a substring of F |
//! | `{"and": [filter, ...]}`, `{"or": [filter, ...]}`, `{"not": filter}` | logic (`and` of nothing is true, `or` of nothing is false) |
//!
//! Values V are strings, numbers or booleans (`null`, arrays and objects are refused; use `exists`). Strings
//! compare by their UTF-8 bytes; booleans support only `eq`, `ne`, `in`, `nin` and `contains`.
//!
//! Fields F are the built-in fields `id`, `kind`, `content`, `user`, `agent`, `session` (strings), `version`
//! (number), `created_at`, `updated_at`, `expires_at` (RFC 3339 times), or `metadata.PATH` where PATH is dot-separated
//! object keys (`metadata.topic`, `metadata.source.app`). A path segment may hold any character but `.`, `"`, `\`,
//! `[`, `]`, `*`, `$` and control characters. `tenant` is not a field: the tenant comes from authentication only.
//!
//! ```
//! use memlane_core::Filter;
//! let f = Filter::parse_str(r#"{"and": [
//!     {"field": "kind", "eq": "fact"},
//!     {"field": "metadata.confidence", "gte": 0.8},
//!     {"not": {"field": "metadata.tags", "contains": "draft"}}
//! ]}"#).unwrap();
//! assert_eq!(Filter::parse(&f.to_json()).unwrap(), f);
//!
//! let err = Filter::parse_str(r#"{"and": [{"field": "kind", "eq": "fact"}, {"field": "x", "like": 1}]}"#)
//!     .unwrap_err();
//! assert!(err.to_string().contains("filter/and/1"));
//! ```
//!
//! Every backend evaluates filters with exactly these semantics; [`Filter::matches`] is the reference evaluator.

mod eval;
mod parse;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

use crate::Timestamp;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All must hold.
    And(Vec<Filter>),
    /// One must hold.
    Or(Vec<Filter>),
    /// Must not hold.
    Not(Box<Filter>),
    /// A condition on one field.
    Cond {
        /// The field.
        field: Field,
        /// What must hold of it.
        pred: Predicate,
    },
}

/// A field a filter can test.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// The memory's id (string).
    Id,
    /// The kind (string).
    Kind,
    /// The content (string).
    Content,
    /// The scope's user (string, optional).
    User,
    /// The scope's agent (string, optional).
    Agent,
    /// The scope's session (string, optional).
    Session,
    /// The version (number).
    Version,
    /// Creation time.
    CreatedAt,
    /// Last update time.
    UpdatedAt,
    /// Expiry time (optional).
    ExpiresAt,
    /// A path of object keys into the metadata.
    Metadata(Vec<String>),
}

/// The type of a built-in field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A string.
    Str,
    /// A number.
    Num,
    /// A timestamp.
    Time,
    /// Any JSON value (metadata).
    Json,
}

impl Field {
    /// The field's name in the JSON form.
    pub fn name(&self) -> String {
        match self {
            Field::Id => "id".into(),
            Field::Kind => "kind".into(),
            Field::Content => "content".into(),
            Field::User => "user".into(),
            Field::Agent => "agent".into(),
            Field::Session => "session".into(),
            Field::Version => "version".into(),
            Field::CreatedAt => "created_at".into(),
            Field::UpdatedAt => "updated_at".into(),
            Field::ExpiresAt => "expires_at".into(),
            Field::Metadata(p) => format!("metadata.{}", p.join(".")),
        }
    }

    /// The field's type.
    pub fn ty(&self) -> FieldType {
        match self {
            Field::Id
            | Field::Kind
            | Field::Content
            | Field::User
            | Field::Agent
            | Field::Session => FieldType::Str,
            Field::Version => FieldType::Num,
            Field::CreatedAt | Field::UpdatedAt | Field::ExpiresAt => FieldType::Time,
            Field::Metadata(_) => FieldType::Json,
        }
    }
}

/// A value in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A string.
    Str(String),
    /// A number (finite).
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// A time (only against the time fields).
    Time(Timestamp),
}

impl Scalar {
    fn to_json(&self) -> Value {
        match self {
            Scalar::Str(s) => Value::String(s.clone()),
            Scalar::Num(n) => json!(n),
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Time(t) => Value::String(t.to_string()),
        }
    }
}

/// What a condition requires of its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// Equal.
    Eq(Scalar),
    /// Not equal (or absent).
    Ne(Scalar),
    /// Equal to one of.
    In(Vec<Scalar>),
    /// Equal to none of (or absent).
    Nin(Vec<Scalar>),
    /// Greater than.
    Gt(Scalar),
    /// Greater than or equal.
    Gte(Scalar),
    /// Less than.
    Lt(Scalar),
    /// Less than or equal.
    Lte(Scalar),
    /// Present and not null (`true`), or absent or null (`false`).
    Exists(bool),
    /// An array element equal to, or a substring.
    Contains(Scalar),
}

impl Predicate {
    /// The operator's name.
    pub fn op(&self) -> &'static str {
        match self {
            Predicate::Eq(_) => "eq",
            Predicate::Ne(_) => "ne",
            Predicate::In(_) => "in",
            Predicate::Nin(_) => "nin",
            Predicate::Gt(_) => "gt",
            Predicate::Gte(_) => "gte",
            Predicate::Lt(_) => "lt",
            Predicate::Lte(_) => "lte",
            Predicate::Exists(_) => "exists",
            Predicate::Contains(_) => "contains",
        }
    }
}

/// The deepest nesting of `and`/`or`/`not` a filter may have.
pub const MAX_DEPTH: usize = 32;
/// The most nodes (conditions and connectives) a filter may have.
pub const MAX_NODES: usize = 512;
/// The most values in one `in` or `nin`.
pub const MAX_LIST: usize = 1024;

impl Filter {
    /// A condition.
    pub fn cond(field: Field, pred: Predicate) -> Self {
        Filter::Cond { field, pred }
    }

    /// Parses the JSON form; errors name the offending part as a JSON pointer (`filter/and/1/eq`).
    pub fn parse(v: &Value) -> Result<Filter, crate::Error> {
        parse::parse(v)
    }

    /// Parses the JSON form from text.
    pub fn parse_str(s: &str) -> Result<Filter, crate::Error> {
        let v: Value = serde_json::from_str(s)
            .map_err(|e| crate::Error::invalid("filter", format!("malformed JSON: {e}")))?;
        Filter::parse(&v)
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Filter::And(fs) => json!({"and": fs.iter().map(Filter::to_json).collect::<Vec<_>>()}),
            Filter::Or(fs) => json!({"or": fs.iter().map(Filter::to_json).collect::<Vec<_>>()}),
            Filter::Not(f) => json!({"not": f.to_json()}),
            Filter::Cond { field, pred } => {
                let v = match pred {
                    Predicate::Eq(s)
                    | Predicate::Ne(s)
                    | Predicate::Gt(s)
                    | Predicate::Gte(s)
                    | Predicate::Lt(s)
                    | Predicate::Lte(s)
                    | Predicate::Contains(s) => s.to_json(),
                    Predicate::In(l) | Predicate::Nin(l) => {
                        Value::Array(l.iter().map(Scalar::to_json).collect())
                    }
                    Predicate::Exists(b) => Value::Bool(*b),
                };
                let mut o = serde_json::Map::new();
                o.insert("field".into(), Value::String(field.name()));
                o.insert(pred.op().into(), v);
                Value::Object(o)
            }
        }
    }
}

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Filter::parse(&v).map_err(serde::de::Error::custom)
    }
}
