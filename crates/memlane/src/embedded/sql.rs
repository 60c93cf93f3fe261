//! Filters and scopes compiled to SQLite SQL, with bound parameters only.
//!
//! Every compiled condition is written to be `0` or `1`, never `NULL`, so that `not` keeps the reference
//! semantics of [`memlane_core::Filter::matches`] (SQL's three-valued logic would otherwise drop rows).
//! Metadata paths become SQLite JSON paths (`$."key"."sub"`), bound as parameters.

use memlane_core::filter::{Field, Predicate, Scalar};
use memlane_core::{Filter, Scope, Timestamp};
use rusqlite::types::Value;

/// A WHERE clause under construction: SQL text and its parameters, in order.
#[derive(Debug, Default)]
pub(crate) struct Where {
    pub(crate) sql: String,
    pub(crate) params: Vec<Value>,
}

impl Where {
    /// `AND`s a fragment whose parameters are pushed by `f`.
    pub(crate) fn and(&mut self, frag: &str) {
        if !self.sql.is_empty() {
            self.sql.push_str(" AND ");
        }
        self.sql.push_str(frag);
    }

    fn param(&mut self, v: Value) -> String {
        self.params.push(v);
        format!("?{}", self.params.len())
    }

    /// Memories of `scope` (alias `m`).
    pub(crate) fn scope(&mut self, scope: &Scope) {
        let p = self.param(Value::Text(scope.tenant.clone()));
        self.and(&format!("m.tenant = {p}"));
        for (col, v) in [
            ("user_id", &scope.user),
            ("agent_id", &scope.agent),
            ("session_id", &scope.session),
        ] {
            if let Some(v) = v {
                let p = self.param(Value::Text(v.clone()));
                self.and(&format!("m.{col} = {p}"));
            }
        }
    }

    /// Memories not expired at `now`.
    pub(crate) fn live(&mut self, now: Timestamp) {
        let p = self.param(Value::Integer(now.as_millis()));
        self.and(&format!("(m.expires_ms IS NULL OR m.expires_ms > {p})"));
    }

    /// Memories passing `filter`.
    pub(crate) fn filter(&mut self, filter: &Filter) {
        let sql = self.compile(filter);
        self.and(&sql);
    }

    fn compile(&mut self, f: &Filter) -> String {
        match f {
            Filter::And(fs) if fs.is_empty() => "1".into(),
            Filter::Or(fs) if fs.is_empty() => "0".into(),
            Filter::And(fs) => join(fs.iter().map(|f| self.compile(f)).collect(), " AND "),
            Filter::Or(fs) => join(fs.iter().map(|f| self.compile(f)).collect(), " OR "),
            Filter::Not(f) => format!("(NOT {})", self.compile(f)),
            Filter::Cond { field, pred } => match field {
                Field::Metadata(path) => self.json_cond(path, pred),
                _ => self.column_cond(field, pred),
            },
        }
    }

    fn scalar(&mut self, s: &Scalar) -> String {
        self.param(match s {
            Scalar::Str(s) => Value::Text(s.clone()),
            Scalar::Num(n) => Value::Real(*n),
            Scalar::Bool(b) => Value::Integer(i64::from(*b)),
            Scalar::Time(t) => Value::Integer(t.as_millis()),
        })
    }

    fn column_cond(&mut self, field: &Field, pred: &Predicate) -> String {
        let (col, nullable) = match field {
            Field::Id => ("m.id", false),
            Field::Kind => ("m.kind", false),
            Field::Content => ("m.content", false),
            Field::User => ("m.user_id", true),
            Field::Agent => ("m.agent_id", true),
            Field::Session => ("m.session_id", true),
            Field::Version => ("m.version", false),
            Field::CreatedAt => ("m.created_ms", false),
            Field::UpdatedAt => ("m.updated_ms", false),
            Field::ExpiresAt => ("m.expires_ms", true),
            Field::Metadata(_) => ("m.metadata", false),
        };
        // `present AND cmp` is 0 when the column is NULL, and never NULL itself.
        let present = if nullable {
            format!("{col} IS NOT NULL")
        } else {
            "1".into()
        };
        let cmp = |w: &mut Self, op: &str, s: &Scalar| {
            let p = w.scalar(s);
            format!("({present} AND {col} {op} {p})")
        };
        match pred {
            Predicate::Eq(s) => cmp(self, "=", s),
            Predicate::Gt(s) => cmp(self, ">", s),
            Predicate::Gte(s) => cmp(self, ">=", s),
            Predicate::Lt(s) => cmp(self, "<", s),
            Predicate::Lte(s) => cmp(self, "<=", s),
            Predicate::Ne(s) => format!("(NOT {})", cmp(self, "=", s)),
            Predicate::In(l) | Predicate::Nin(l) => {
                let inner = if l.is_empty() {
                    "0".to_owned()
                } else {
                    let ps: Vec<String> = l.iter().map(|s| self.scalar(s)).collect();
                    format!("({present} AND {col} IN ({}))", ps.join(", "))
                };
                if matches!(pred, Predicate::Nin(_)) {
                    format!("(NOT {inner})")
                } else {
                    inner
                }
            }
            Predicate::Exists(b) => {
                if *b {
                    format!("({present})")
                } else {
                    format!("(NOT ({present}))")
                }
            }
            Predicate::Contains(s) => match s {
                Scalar::Str(_) => {
                    let p = self.scalar(s);
                    format!("({present} AND instr({col}, {p}) > 0)")
                }
                _ => "0".into(),
            },
        }
    }

    fn json_cond(&mut self, path: &[String], pred: &Predicate) -> String {
        // Every `?N` pushed must appear in the SQL (SQLite counts parameters by the highest index used).
        match pred {
            Predicate::In(l) if l.is_empty() => return "0".into(),
            Predicate::Nin(l) if l.is_empty() => return "1".into(),
            _ => {}
        }
        let mut jp = String::from("$");
        for seg in path {
            jp.push_str(".\"");
            jp.push_str(seg);
            jp.push('"');
        }
        let p = self.param(Value::Text(jp));
        let ty = format!("COALESCE(json_type(m.metadata, {p}), '')");
        let val = format!("json_extract(m.metadata, {p})");
        match pred {
            Predicate::Exists(b) => {
                let present = format!("({ty} NOT IN ('', 'null'))");
                if *b {
                    present
                } else {
                    format!("(NOT {present})")
                }
            }
            Predicate::Eq(s) => self.json_cmp(&ty, &val, "=", s),
            Predicate::Gt(s) => self.json_cmp(&ty, &val, ">", s),
            Predicate::Gte(s) => self.json_cmp(&ty, &val, ">=", s),
            Predicate::Lt(s) => self.json_cmp(&ty, &val, "<", s),
            Predicate::Lte(s) => self.json_cmp(&ty, &val, "<=", s),
            Predicate::Ne(s) => format!("(NOT {})", self.json_cmp(&ty, &val, "=", s)),
            Predicate::In(l) | Predicate::Nin(l) => {
                let parts: Vec<String> =
                    l.iter().map(|s| self.json_cmp(&ty, &val, "=", s)).collect();
                let inner = join(parts, " OR ");
                if matches!(pred, Predicate::Nin(_)) {
                    format!("(NOT {inner})")
                } else {
                    inner
                }
            }
            Predicate::Contains(s) => {
                let elem = match s {
                    Scalar::Str(_) => {
                        let v = self.scalar(s);
                        format!("je.type = 'text' AND je.value = {v}")
                    }
                    Scalar::Num(_) => {
                        let v = self.scalar(s);
                        format!("je.type IN ('integer', 'real') AND je.value = {v}")
                    }
                    Scalar::Bool(b) => format!("je.type = '{b}'"),
                    Scalar::Time(_) => "0".into(),
                };
                let in_array = format!(
                    "({ty} = 'array' AND EXISTS (SELECT 1 FROM json_each(m.metadata, {p}) AS je WHERE {elem}))"
                );
                match s {
                    Scalar::Str(_) => {
                        let v = self.scalar(s);
                        format!("(({ty} = 'text' AND instr({val}, {v}) > 0) OR {in_array})")
                    }
                    _ => in_array,
                }
            }
        }
    }

    fn json_cmp(&mut self, ty: &str, val: &str, op: &str, s: &Scalar) -> String {
        match s {
            Scalar::Str(_) => {
                let v = self.scalar(s);
                format!("({ty} = 'text' AND {val} {op} {v})")
            }
            Scalar::Num(_) => {
                let v = self.scalar(s);
                format!("({ty} IN ('integer', 'real') AND {val} {op} {v})")
            }
            // Booleans only compare for equality (the parser refuses ordering them).
            Scalar::Bool(b) => format!("({ty} = '{b}')"),
            Scalar::Time(_) => "0".into(),
        }
    }
}

fn join(parts: Vec<String>, sep: &str) -> String {
    format!("({})", parts.join(sep))
}
