//! Filters and scopes compiled to PostgreSQL SQL, with bound parameters only.
//!
//! Every value of a filter, every scope name and every metadata path segment is a parameter; the SQL text holds
//! only memlane's own words. The compiled SQL keeps the reference semantics of [`memlane_core::Filter::matches`]:
//!
//! - Every compiled condition is `true` or `false`, never `NULL` (comparisons are wrapped in `COALESCE(.., false)`),
//!   so that `not`, `ne` and `nin` do not lose rows to SQL's three-valued logic.
//! - A metadata path is walked with `->` and one `text` parameter per segment: `->` with a text key follows object
//!   keys only (an array or a scalar yields `NULL`), as the reference does. (`#>` with a `text[]` path would index
//!   into arrays with numeric segments, which the reference never does.)
//! - Types are checked with `jsonb_typeof` inside `CASE` before any cast, so a value of another type never matches
//!   and never raises a cast error: numbers compare as `float8` (like the reference's `f64`), strings compare by
//!   their UTF-8 bytes (`COLLATE "C"`), booleans only for equality, JSON `null` is absent.
//! - PostgreSQL text cannot hold the NUL character and no stored string has one (memlane refuses them), so a filter
//!   string with a NUL is never equal to, nor inside, a stored string; ordering against it is ordering against its
//!   part before the NUL (`x > "ab\0c"` exactly when `x > "ab"`, `x < "ab\0c"` exactly when `x <= "ab"`).

use memlane_core::filter::{Field, Predicate, Scalar};
use memlane_core::{Filter, MemoryId, Scope, Timestamp};
use tokio_postgres::types::{ToSql, Type};

/// A bound parameter, with the PostgreSQL type it is sent as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// `text`.
    Text(String),
    /// `text[]`.
    Texts(Vec<String>),
    /// `float8`.
    Float(f64),
    /// `float8[]`.
    Floats(Vec<f64>),
    /// `int8`.
    Int(i64),
    /// `int8[]`.
    Ints(Vec<i64>),
    /// `uuid`.
    Uuid(MemoryId),
    /// `oid`.
    Oid(u32),
    /// `float4[]` (a vector).
    Reals(Vec<f32>),
    /// `jsonb`.
    Json(serde_json::Value),
}

impl Param {
    fn typed(&self) -> (&(dyn ToSql + Sync), Type) {
        match self {
            Param::Text(v) => (v, Type::TEXT),
            Param::Texts(v) => (v, Type::TEXT_ARRAY),
            Param::Float(v) => (v, Type::FLOAT8),
            Param::Floats(v) => (v, Type::FLOAT8_ARRAY),
            Param::Int(v) => (v, Type::INT8),
            Param::Ints(v) => (v, Type::INT8_ARRAY),
            Param::Uuid(v) => (v, Type::UUID),
            Param::Oid(v) => (v, Type::OID),
            Param::Reals(v) => (v, Type::FLOAT4_ARRAY),
            Param::Json(v) => (v, Type::JSONB),
        }
    }
}

/// A WHERE clause under construction: SQL text and its parameters, in order (`$1` is the first).
#[derive(Debug, Default)]
pub(crate) struct Where {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
}

/// The type of a built-in column, for binding filter values.
#[derive(Clone, Copy, PartialEq)]
enum ColType {
    Str,
    Num,
    Time,
}

impl Where {
    /// `AND`s a fragment.
    pub(crate) fn and(&mut self, frag: &str) {
        if !self.sql.is_empty() {
            self.sql.push_str(" AND ");
        }
        self.sql.push_str(frag);
    }

    /// Adds a parameter; returns its placeholder (`$n`).
    pub(crate) fn param(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    /// The parameters with their types, for `query_typed`.
    pub(crate) fn typed(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        self.params.iter().map(Param::typed).collect()
    }

    /// Memories of `scope` (alias `m`).
    pub(crate) fn scope(&mut self, scope: &Scope) {
        let p = self.param(Param::Text(scope.tenant.clone()));
        self.and(&format!("m.tenant = {p}"));
        for (col, v) in [
            ("user_id", &scope.user),
            ("agent_id", &scope.agent),
            ("session_id", &scope.session),
        ] {
            if let Some(v) = v {
                let p = self.param(Param::Text(v.clone()));
                self.and(&format!("m.{col} = {p}"));
            }
        }
    }

    /// Memories not expired at `now`.
    pub(crate) fn live(&mut self, now: Timestamp) {
        let p = self.param(Param::Int(now.as_millis()));
        self.and(&format!("(m.expires_ms IS NULL OR m.expires_ms > {p})"));
    }

    /// Memories passing `filter`.
    pub(crate) fn filter(&mut self, filter: &Filter) {
        let sql = self.compile(filter);
        self.and(&sql);
    }

    /// The SQL of `filter` (`true` or `false` for every row), with its parameters bound, without adding it.
    pub(crate) fn condition(&mut self, filter: &Filter) -> String {
        self.compile(filter)
    }

    /// Adds `m.metadata @> {..}` for the metadata string and boolean equalities that every memory passing `filter`
    /// has (the conditions `AND`ed at its top), so that the GIN index on `metadata` (schema version 3) can find the
    /// candidates; a necessary condition only, the filter itself still decides. Returns whether there was any.
    pub(crate) fn containment(&mut self, filter: &Filter) -> bool {
        match self.containment_sql(filter) {
            Some(sql) => {
                self.and(&sql);
                true
            }
            None => false,
        }
    }

    /// The condition [`Where::containment`] adds, with its parameter bound, without adding it.
    pub(crate) fn containment_sql(&mut self, filter: &Filter) -> Option<String> {
        let mut doc = serde_json::Map::new();
        equalities(filter, &mut doc);
        if doc.is_empty() {
            return None;
        }
        let p = self.param(Param::Json(serde_json::Value::Object(doc)));
        Some(format!("m.metadata @> {p}"))
    }

    fn compile(&mut self, f: &Filter) -> String {
        match f {
            Filter::And(fs) if fs.is_empty() => "true".into(),
            Filter::Or(fs) if fs.is_empty() => "false".into(),
            Filter::And(fs) => join(fs.iter().map(|f| self.compile(f)).collect(), " AND "),
            Filter::Or(fs) => join(fs.iter().map(|f| self.compile(f)).collect(), " OR "),
            Filter::Not(f) => format!("(NOT {})", self.compile(f)),
            Filter::Cond { field, pred } => match field {
                Field::Metadata(path) => self.json_cond(path, pred),
                _ => self.column_cond(field, pred),
            },
        }
    }

    /// Binds a filter value for a column of type `ty`; `None` when the types differ (the comparison is false).
    fn bind(&mut self, ty: ColType, s: &Scalar) -> Option<String> {
        let p = match (ty, s) {
            (ColType::Str, Scalar::Str(s)) => Param::Text(s.clone()),
            (ColType::Num, Scalar::Num(n)) => Param::Float(*n),
            (ColType::Time, Scalar::Time(t)) => Param::Int(t.as_millis()),
            _ => return None,
        };
        let p = self.param(p);
        Some(if ty == ColType::Str {
            format!("({p} COLLATE \"C\")")
        } else {
            p
        })
    }

    fn column_cond(&mut self, field: &Field, pred: &Predicate) -> String {
        let (col, nullable, ty) = match field {
            Field::Id => ("m.id::text", false, ColType::Str),
            Field::Kind => ("m.kind", false, ColType::Str),
            Field::Content => ("m.content", false, ColType::Str),
            Field::User => ("m.user_id", true, ColType::Str),
            Field::Agent => ("m.agent_id", true, ColType::Str),
            Field::Session => ("m.session_id", true, ColType::Str),
            Field::Version => ("m.version::float8", false, ColType::Num),
            Field::CreatedAt => ("m.created_ms", false, ColType::Time),
            Field::UpdatedAt => ("m.updated_ms", false, ColType::Time),
            Field::ExpiresAt => ("m.expires_ms", true, ColType::Time),
            Field::Metadata(_) => return "false".into(),
        };
        let cmp = |w: &mut Self, op: &str, s: &Scalar| -> String {
            let Some((op, s)) = without_nul(op, s) else {
                return "false".into();
            };
            match w.bind(ty, &s) {
                Some(p) => format!("COALESCE({col} {op} {p}, false)"),
                None => "false".into(),
            }
        };
        match pred {
            Predicate::Eq(s) => cmp(self, "=", s),
            Predicate::Gt(s) => cmp(self, ">", s),
            Predicate::Gte(s) => cmp(self, ">=", s),
            Predicate::Lt(s) => cmp(self, "<", s),
            Predicate::Lte(s) => cmp(self, "<=", s),
            Predicate::Ne(s) => format!("(NOT {})", cmp(self, "=", s)),
            Predicate::In(l) | Predicate::Nin(l) => {
                let list = match ty {
                    ColType::Str => Param::Texts(strings(l)),
                    ColType::Num => Param::Floats(numbers(l)),
                    ColType::Time => Param::Ints(
                        l.iter()
                            .filter_map(|s| {
                                if let Scalar::Time(t) = s {
                                    Some(t.as_millis())
                                } else {
                                    None
                                }
                            })
                            .collect(),
                    ),
                };
                let empty = matches!(&list, Param::Texts(v) if v.is_empty())
                    || matches!(&list, Param::Floats(v) if v.is_empty())
                    || matches!(&list, Param::Ints(v) if v.is_empty());
                let inner = if empty {
                    "false".to_owned()
                } else {
                    let p = self.param(list);
                    format!("COALESCE({col} = ANY({p}), false)")
                };
                if matches!(pred, Predicate::Nin(_)) {
                    format!("(NOT {inner})")
                } else {
                    inner
                }
            }
            Predicate::Exists(b) => {
                let present = if nullable {
                    format!("({col} IS NOT NULL)")
                } else {
                    "true".to_owned()
                };
                if *b {
                    present
                } else {
                    format!("(NOT {present})")
                }
            }
            Predicate::Contains(Scalar::Str(s)) if ty == ColType::Str && !s.contains('\0') => {
                let p = self.param(Param::Text(s.clone()));
                format!("COALESCE(strpos({col}, {p}) > 0, false)")
            }
            Predicate::Contains(_) => "false".into(),
        }
    }

    fn json_cond(&mut self, path: &[String], pred: &Predicate) -> String {
        let mut v = String::from("(m.metadata");
        for seg in path {
            let p = self.param(Param::Text(seg.clone()));
            v.push_str(&format!(" -> {p}"));
        }
        v.push(')');
        let ty = format!("jsonb_typeof({v})");
        match pred {
            Predicate::Exists(b) => {
                let present = format!("COALESCE({ty} <> 'null', false)");
                if *b {
                    present
                } else {
                    format!("(NOT {present})")
                }
            }
            Predicate::Eq(s) => self.json_cmp(&v, &ty, "=", s),
            Predicate::Gt(s) => self.json_cmp(&v, &ty, ">", s),
            Predicate::Gte(s) => self.json_cmp(&v, &ty, ">=", s),
            Predicate::Lt(s) => self.json_cmp(&v, &ty, "<", s),
            Predicate::Lte(s) => self.json_cmp(&v, &ty, "<=", s),
            Predicate::Ne(s) => format!("(NOT {})", self.json_cmp(&v, &ty, "=", s)),
            Predicate::In(l) | Predicate::Nin(l) => {
                let mut parts = Vec::new();
                let strs = strings(l);
                if !strs.is_empty() {
                    let p = self.param(Param::Texts(strs));
                    parts.push(format!(
                        "COALESCE(CASE WHEN {ty} = 'string' THEN ({v} #>> '{{}}') = ANY({p}) END, false)"
                    ));
                }
                let nums = numbers(l);
                if !nums.is_empty() {
                    let p = self.param(Param::Floats(nums));
                    parts.push(format!("COALESCE(CASE WHEN {ty} = 'number' THEN ({v})::float8 = ANY({p}) END, false)"));
                }
                for b in [true, false] {
                    if l.contains(&Scalar::Bool(b)) {
                        parts.push(format!("COALESCE({v} = '{b}'::jsonb, false)"));
                    }
                }
                let inner = if parts.is_empty() {
                    "false".to_owned()
                } else {
                    join(parts, " OR ")
                };
                if matches!(pred, Predicate::Nin(_)) {
                    format!("(NOT {inner})")
                } else {
                    inner
                }
            }
            Predicate::Contains(s) => match s {
                Scalar::Str(s) if s.contains('\0') => "false".into(),
                Scalar::Str(s) => {
                    let p = self.param(Param::Text(s.clone()));
                    format!(
                        "COALESCE(CASE {ty} WHEN 'string' THEN strpos({v} #>> '{{}}', {p}) > 0 \
                         WHEN 'array' THEN {v} @> jsonb_build_array({p}) END, false)"
                    )
                }
                Scalar::Num(n) => {
                    let p = self.param(Param::Float(*n));
                    format!(
                        "COALESCE(CASE WHEN {ty} = 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements({v}) AS e(x) \
                         WHERE CASE WHEN jsonb_typeof(e.x) = 'number' THEN (e.x)::float8 = {p} ELSE false END) END, false)"
                    )
                }
                Scalar::Bool(b) => format!(
                    "COALESCE(CASE WHEN {ty} = 'array' THEN {v} @> '[{b}]'::jsonb END, false)"
                ),
                Scalar::Time(_) => "false".into(),
            },
        }
    }

    fn json_cmp(&mut self, v: &str, ty: &str, op: &str, s: &Scalar) -> String {
        match s {
            Scalar::Str(_) => {
                let Some((op, Scalar::Str(s))) = without_nul(op, s) else {
                    return "false".into();
                };
                let p = self.param(Param::Text(s));
                format!("COALESCE(CASE WHEN {ty} = 'string' THEN ({v} #>> '{{}}') {op} ({p} COLLATE \"C\") END, false)")
            }
            Scalar::Num(n) => {
                let p = self.param(Param::Float(*n));
                format!(
                    "COALESCE(CASE WHEN {ty} = 'number' THEN ({v})::float8 {op} {p} END, false)"
                )
            }
            // Booleans only compare for equality (the parser refuses ordering them).
            Scalar::Bool(b) if op == "=" => format!("COALESCE({v} = '{b}'::jsonb, false)"),
            Scalar::Bool(_) | Scalar::Time(_) => "false".into(),
        }
    }
}

/// Merges into `doc` the metadata equalities (`path eq string|bool`) `AND`ed at the top of `f`: the document every
/// passing memory's metadata contains. An equality that would conflict with one already merged is left out (the
/// filter then matches nothing; the filter itself says so), and so is any NUL, which `jsonb` cannot hold.
fn equalities(f: &Filter, doc: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::Value;
    match f {
        Filter::And(fs) => fs.iter().for_each(|f| equalities(f, doc)),
        Filter::Cond {
            field: Field::Metadata(path),
            pred: Predicate::Eq(s),
        } => {
            let leaf = match s {
                Scalar::Str(s) if !s.contains('\0') => Value::String(s.clone()),
                Scalar::Bool(b) => Value::Bool(*b),
                _ => return,
            };
            let Some((last, parents)) = path.split_last() else {
                return;
            };
            if path.iter().any(|seg| seg.contains('\0')) {
                return;
            }
            let mut node = doc;
            for seg in parents {
                let next = node
                    .entry(seg.clone())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                match next {
                    Value::Object(o) => node = o,
                    _ => return,
                }
            }
            node.entry(last.clone()).or_insert(leaf);
        }
        _ => {}
    }
}

/// The `(key, string)` pairs that `filter` requires of top-level metadata keys (each an `eq` on `metadata.KEY`
/// `AND`ed at its top), in order: every passing memory has `metadata->>'KEY'` equal to the string.
pub(crate) fn top_level_string_eqs(filter: &Filter) -> Vec<(&str, &str)> {
    match filter {
        Filter::And(fs) => fs.iter().flat_map(top_level_string_eqs).collect(),
        Filter::Cond {
            field: Field::Metadata(path),
            pred: Predicate::Eq(Scalar::Str(s)),
        } if path.len() == 1 && !s.contains('\0') => vec![(path[0].as_str(), s.as_str())],
        _ => Vec::new(),
    }
}

/// A string comparison rewritten so that its value has no NUL (see the module docs); `None` when it cannot hold.
fn without_nul(op: &str, s: &Scalar) -> Option<(&'static str, Scalar)> {
    let op: &'static str = match op {
        "=" => "=",
        ">" => ">",
        ">=" => ">=",
        "<" => "<",
        _ => "<=",
    };
    match s {
        Scalar::Str(text) => match text.find('\0') {
            None => Some((op, s.clone())),
            Some(i) => {
                let prefix = Scalar::Str(text[..i].to_owned());
                match op {
                    "=" => None,
                    ">" | ">=" => Some((">", prefix)),
                    _ => Some(("<=", prefix)),
                }
            }
        },
        _ => Some((op, s.clone())),
    }
}

/// The strings of a list that a stored string can equal (those without NUL).
fn strings(l: &[Scalar]) -> Vec<String> {
    l.iter()
        .filter_map(|s| match s {
            Scalar::Str(s) if !s.contains('\0') => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// The numbers of a list.
fn numbers(l: &[Scalar]) -> Vec<f64> {
    l.iter()
        .filter_map(|s| {
            if let Scalar::Num(n) = s {
                Some(*n)
            } else {
                None
            }
        })
        .collect()
}

fn join(parts: Vec<String>, sep: &str) -> String {
    format!("({})", parts.join(sep))
}
