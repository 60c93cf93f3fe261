//! memlane's own export format (JSONL, see [`memlane_core::export`]), read whole before anything is written, so
//! that `--on-error abort` leaves the store untouched and `--on-error skip` reports every bad line by number.

use memlane_core::export::{Header, FORMAT as EXPORT_FORMAT, FORMAT_VERSION};
use memlane_core::{Limits, Memory, NewMemory, Timestamp};

use super::Parsed;

/// The format's name.
pub const FORMAT: &str = "memlane";

/// Reads an export into memories of `tenant` (every line's tenant is replaced), checked against `limits`.
pub fn parse(input: &str, tenant: &str, limits: &Limits) -> Parsed {
    let mut out = Parsed::default();
    let mut lines = input
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        None => out.problem(
            "line 1",
            "the input is empty: expected a memlane export header",
        ),
        Some((i, l)) => match serde_json::from_str::<Header>(l) {
            Ok(h) if h.format == EXPORT_FORMAT && h.version == FORMAT_VERSION => {}
            Ok(h) => out.problem(
                format!("line {}", i + 1),
                format!(
                    "format {} version {} is not {EXPORT_FORMAT} version {FORMAT_VERSION}",
                    h.format, h.version
                ),
            ),
            Err(e) => out.problem(
                format!("line {}", i + 1),
                format!("not a memlane export header: {e}"),
            ),
        },
    }
    if !out.problems.is_empty() {
        return out;
    }
    let now = Timestamp::now();
    for (i, line) in lines {
        let at = format!("line {}", i + 1);
        let mut m: Memory = match serde_json::from_str(line) {
            Ok(m) => m,
            Err(e) => {
                out.problem(at, e.to_string());
                continue;
            }
        };
        if m.is_expired(now) {
            out.expired += 1;
            continue;
        }
        m.scope.tenant = tenant.to_owned();
        let new = NewMemory::restore(m);
        match limits.check_new("memory", &new, now) {
            Ok(()) => out.memories.push(new),
            Err(e) => out.problem(at, e.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use memlane_core::Scope;

    #[test]
    fn reads_an_export_and_numbers_bad_lines() {
        let m = NewMemory::new(Scope::tenant("old"), "hello").into_memory(Timestamp::now());
        let line = serde_json::to_string(&m).unwrap_or_default();
        let header = serde_json::to_string(&Header::now()).unwrap_or_default();
        let input = format!("{header}\n{line}\n{{broken\n\n{line}\n");
        let p = parse(&input, "new", &Limits::default());
        assert_eq!(p.memories.len(), 2);
        assert_eq!(p.memories[0].scope.tenant, "new");
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].at, "line 3");
        let p = parse(
            "{\"format\":\"other\",\"version\":1,\"exported_at\":\"2026-01-01T00:00:00Z\"}",
            "t",
            &Limits::default(),
        );
        assert_eq!(p.problems.len(), 1);
    }
}
