//! The reference evaluator: [`Filter::matches`] on a [`Memory`] in process.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Field, Filter, Predicate, Scalar};
use crate::Memory;

/// A field's value in one memory, borrowed.
enum Val<'a> {
    Str(std::borrow::Cow<'a, str>),
    Num(f64),
    Time(i64),
    Json(&'a Value),
}

impl Filter {
    /// Whether `m` passes this filter (the semantics every backend implements).
    ///
    /// ```
    /// use memlane_core::{Filter, NewMemory, Scope, Timestamp};
    /// let m = NewMemory::new(Scope::tenant("t"), "hi").meta("tags", serde_json::json!(["a", "b"]))
    ///     .into_memory(Timestamp::now());
    /// let f = Filter::parse_str(r#"{"field": "metadata.tags", "contains": "b"}"#).unwrap();
    /// assert!(f.matches(&m));
    /// ```
    pub fn matches(&self, m: &Memory) -> bool {
        match self {
            Filter::And(fs) => fs.iter().all(|f| f.matches(m)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(m)),
            Filter::Not(f) => !f.matches(m),
            Filter::Cond { field, pred } => cond(value(field, m), pred),
        }
    }
}

fn value<'a>(field: &Field, m: &'a Memory) -> Option<Val<'a>> {
    Some(match field {
        Field::Id => Val::Str(m.id.to_string().into()),
        Field::Kind => Val::Str(m.kind.as_str().into()),
        Field::Content => Val::Str(m.content.as_str().into()),
        Field::User => Val::Str(m.scope.user.as_deref()?.into()),
        Field::Agent => Val::Str(m.scope.agent.as_deref()?.into()),
        Field::Session => Val::Str(m.scope.session.as_deref()?.into()),
        Field::Version => Val::Num(m.version as f64),
        Field::CreatedAt => Val::Time(m.created_at.as_millis()),
        Field::UpdatedAt => Val::Time(m.updated_at.as_millis()),
        Field::ExpiresAt => Val::Time(m.expires_at?.as_millis()),
        Field::Metadata(path) => {
            let (first, rest) = path.split_first()?;
            let mut v = m.metadata.get(first)?;
            for seg in rest {
                v = v.as_object()?.get(seg)?;
            }
            if v.is_null() {
                return None;
            }
            Val::Json(v)
        }
    })
}

/// Compares a field's value with a filter value; `None` when their types differ (such a comparison is false).
fn compare(v: &Val<'_>, s: &Scalar) -> Option<Ordering> {
    match (v, s) {
        (Val::Str(a), Scalar::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Val::Num(a), Scalar::Num(b)) => a.partial_cmp(b),
        (Val::Time(a), Scalar::Time(b)) => Some(a.cmp(&b.as_millis())),
        (Val::Json(j), s) => json_compare(j, s),
        _ => None,
    }
}

fn json_compare(j: &Value, s: &Scalar) -> Option<Ordering> {
    match (j, s) {
        (Value::String(a), Scalar::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Value::Number(a), Scalar::Num(b)) => a.as_f64()?.partial_cmp(b),
        (Value::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn eq(v: &Val<'_>, s: &Scalar) -> bool {
    compare(v, s) == Some(Ordering::Equal)
}

fn cond(v: Option<Val<'_>>, p: &Predicate) -> bool {
    match p {
        Predicate::Exists(b) => v.is_some() == *b,
        Predicate::Ne(s) => !v.is_some_and(|v| eq(&v, s)),
        Predicate::Nin(l) => !v.is_some_and(|v| l.iter().any(|s| eq(&v, s))),
        _ => {
            let Some(v) = v else { return false };
            match p {
                Predicate::Eq(s) => eq(&v, s),
                Predicate::In(l) => l.iter().any(|s| eq(&v, s)),
                Predicate::Gt(s) => compare(&v, s) == Some(Ordering::Greater),
                Predicate::Gte(s) => {
                    matches!(compare(&v, s), Some(Ordering::Greater | Ordering::Equal))
                }
                Predicate::Lt(s) => compare(&v, s) == Some(Ordering::Less),
                Predicate::Lte(s) => {
                    matches!(compare(&v, s), Some(Ordering::Less | Ordering::Equal))
                }
                Predicate::Contains(s) => contains(&v, s),
                Predicate::Exists(_) | Predicate::Ne(_) | Predicate::Nin(_) => false,
            }
        }
    }
}

fn contains(v: &Val<'_>, s: &Scalar) -> bool {
    match (v, s) {
        (Val::Str(a), Scalar::Str(b)) => a.contains(b.as_str()),
        (Val::Json(Value::String(a)), Scalar::Str(b)) => a.contains(b.as_str()),
        (Val::Json(Value::Array(items)), s) => items
            .iter()
            .any(|j| json_compare(j, s) == Some(Ordering::Equal)),
        _ => false,
    }
}
