//! JSON form → [`Filter`], with errors that point at the offending part.

use serde_json::{Map, Value};

use super::{Field, FieldType, Filter, Predicate, Scalar, MAX_DEPTH, MAX_LIST, MAX_NODES};
use crate::{Error, Kind, Timestamp};

struct Parser {
    nodes: usize,
}

pub(super) fn parse(v: &Value) -> Result<Filter, Error> {
    Parser { nodes: 0 }.node(v, "filter", 0)
}

const OPS: [&str; 10] = [
    "eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "exists", "contains",
];

impl Parser {
    fn node(&mut self, v: &Value, at: &str, depth: usize) -> Result<Filter, Error> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Error::invalid(
                at,
                format!("the filter has more than {MAX_NODES} parts"),
            ));
        }
        if depth > MAX_DEPTH {
            return Err(Error::invalid(
                at,
                format!("the filter nests deeper than {MAX_DEPTH}"),
            ));
        }
        let Value::Object(o) = v else {
            return Err(Error::invalid(
                at,
                format!("expected a filter object, got {}", type_name(v)),
            ));
        };
        if o.contains_key("field") {
            return self.cond(o, at);
        }
        if o.len() != 1 {
            return Err(Error::invalid(
                at,
                "expected one of {\"and\": [...]}, {\"or\": [...]}, {\"not\": {...}} or a condition with \"field\"",
            ));
        }
        let (k, inner) = o
            .iter()
            .next()
            .ok_or_else(|| Error::invalid(at, "empty object"))?;
        let at_k = format!("{at}/{k}");
        match k.as_str() {
            "and" | "or" => {
                let Value::Array(items) = inner else {
                    return Err(Error::invalid(at_k, format!("expected an array of filters, got {}", type_name(inner))));
                };
                let fs = items
                    .iter()
                    .enumerate()
                    .map(|(i, f)| self.node(f, &format!("{at_k}/{i}"), depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if k == "and" { Filter::And(fs) } else { Filter::Or(fs) })
            }
            "not" => Ok(Filter::Not(Box::new(self.node(inner, &at_k, depth + 1)?))),
            other if OPS.contains(&other) => Err(Error::invalid(
                at,
                format!("the condition {other:?} needs a \"field\""),
            )),
            other => Err(Error::invalid(
                at_k,
                format!("unknown operator {other:?}: use and, or, not, or a condition with field and one of {}", OPS.join(", ")),
            )),
        }
    }

    fn cond(&mut self, o: &Map<String, Value>, at: &str) -> Result<Filter, Error> {
        let fv = &o["field"];
        let Value::String(name) = fv else {
            return Err(Error::invalid(
                format!("{at}/field"),
                format!("expected a field name, got {}", type_name(fv)),
            ));
        };
        let field = parse_field(name).map_err(|m| Error::invalid(format!("{at}/field"), m))?;
        let mut ops = o.iter().filter(|(k, _)| k.as_str() != "field");
        let (op, v) = match (ops.next(), ops.next()) {
            (Some(one), None) => one,
            (None, _) => {
                return Err(Error::invalid(
                    at,
                    format!(
                        "the condition on {name:?} has no operator: add one of {}",
                        OPS.join(", ")
                    ),
                ))
            }
            (Some(_), Some((k, _))) => {
                return Err(Error::invalid(
                    format!("{at}/{k}"),
                    "a condition takes exactly one operator; join several with and",
                ))
            }
        };
        let at_op = format!("{at}/{op}");
        let ty = field.ty();
        let pred = match op.as_str() {
            "eq" => Predicate::Eq(scalar(v, &field, &at_op, false)?),
            "ne" => Predicate::Ne(scalar(v, &field, &at_op, false)?),
            "gt" => Predicate::Gt(scalar(v, &field, &at_op, true)?),
            "gte" => Predicate::Gte(scalar(v, &field, &at_op, true)?),
            "lt" => Predicate::Lt(scalar(v, &field, &at_op, true)?),
            "lte" => Predicate::Lte(scalar(v, &field, &at_op, true)?),
            "in" | "nin" => {
                let Value::Array(items) = v else {
                    return Err(Error::invalid(
                        at_op,
                        format!("expected an array of values, got {}", type_name(v)),
                    ));
                };
                if items.len() > MAX_LIST {
                    return Err(Error::invalid(
                        at_op,
                        format!("more than {MAX_LIST} values"),
                    ));
                }
                let l = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| scalar(x, &field, &format!("{at_op}/{i}"), false))
                    .collect::<Result<Vec<_>, _>>()?;
                if op == "in" {
                    Predicate::In(l)
                } else {
                    Predicate::Nin(l)
                }
            }
            "exists" => match v {
                Value::Bool(b) => Predicate::Exists(*b),
                _ => {
                    return Err(Error::invalid(
                        at_op,
                        format!("expected true or false, got {}", type_name(v)),
                    ))
                }
            },
            "contains" => {
                if matches!(ty, FieldType::Num | FieldType::Time) {
                    return Err(Error::invalid(
                        at_op,
                        format!("{name} is not a string or an array"),
                    ));
                }
                Predicate::Contains(scalar(v, &field, &at_op, false)?)
            }
            other => {
                return Err(Error::invalid(
                    at_op,
                    format!("unknown operator {other:?}: use one of {}", OPS.join(", ")),
                ))
            }
        };
        Ok(Filter::Cond { field, pred })
    }
}

fn parse_field(name: &str) -> Result<Field, String> {
    Ok(match name {
        "id" => Field::Id,
        "kind" => Field::Kind,
        "content" => Field::Content,
        "user" => Field::User,
        "agent" => Field::Agent,
        "session" => Field::Session,
        "version" => Field::Version,
        "created_at" => Field::CreatedAt,
        "updated_at" => Field::UpdatedAt,
        "expires_at" => Field::ExpiresAt,
        "tenant" => {
            return Err("tenant is not a filter field: the tenant comes from authentication".into())
        }
        "metadata" => return Err("name a key inside metadata, e.g. metadata.topic".into()),
        other => {
            let Some(path) = other.strip_prefix("metadata.") else {
                return Err(format!(
                    "unknown field {other:?}: use id, kind, content, user, agent, session, version, created_at, updated_at, expires_at or metadata.KEY"
                ));
            };
            let segs: Vec<String> = path.split('.').map(str::to_owned).collect();
            if segs.len() > 16 {
                return Err("a metadata path has at most 16 keys".into());
            }
            for s in &segs {
                if s.is_empty() {
                    return Err(format!("{other:?} has an empty key"));
                }
                if s.len() > 128 {
                    return Err(format!("the key {s:?} is longer than 128 bytes"));
                }
                if let Some(c) = s
                    .chars()
                    .find(|c| matches!(c, '"' | '\\' | '[' | ']' | '*' | '$') || c.is_control())
                {
                    return Err(format!(
                        "the key {s:?} has the character {c:?}, which filter paths do not allow"
                    ));
                }
            }
            Field::Metadata(segs)
        }
    })
}

fn scalar(v: &Value, field: &Field, at: &str, ordered: bool) -> Result<Scalar, Error> {
    let name = field.name();
    let s = match v {
        Value::String(s) => Scalar::Str(s.clone()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.is_finite() => Scalar::Num(f),
            _ => return Err(Error::invalid(at, "the number is out of range")),
        },
        Value::Bool(b) if !ordered => Scalar::Bool(*b),
        Value::Bool(_) => {
            return Err(Error::invalid(
                at,
                "booleans cannot be ordered: use eq or ne",
            ))
        }
        other => {
            return Err(Error::invalid(
                at,
                format!(
                    "expected a string, number or boolean, got {} (test for absence with exists)",
                    type_name(other)
                ),
            ))
        }
    };
    match (field.ty(), s) {
        (FieldType::Json, s) => Ok(s),
        (FieldType::Str, Scalar::Str(s)) => match field {
            Field::Id if !ordered => {
                let id = crate::parse_id(&s)
                    .map_err(|_| Error::invalid(at, format!("{s:?} is not a UUID")))?;
                Ok(Scalar::Str(id.to_string()))
            }
            Field::Kind if !ordered => {
                s.parse::<Kind>()
                    .map_err(|e| Error::invalid(at, e.to_string()))?;
                Ok(Scalar::Str(s))
            }
            _ => Ok(Scalar::Str(s)),
        },
        (FieldType::Num, s @ Scalar::Num(_)) => Ok(s),
        (FieldType::Time, Scalar::Str(s)) => {
            s.parse::<Timestamp>().map(Scalar::Time).map_err(|_| {
                Error::invalid(
                    at,
                    format!(
                        "{name} takes an RFC 3339 time such as 2026-01-31T12:00:00Z, got {s:?}"
                    ),
                )
            })
        }
        (FieldType::Str, _) => Err(Error::invalid(at, format!("{name} takes a string"))),
        (FieldType::Num, _) => Err(Error::invalid(at, format!("{name} takes a number"))),
        (FieldType::Time, _) => Err(Error::invalid(
            at,
            format!("{name} takes an RFC 3339 time string"),
        )),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
