//! Printing results: human-readable text by default, JSON with `--json`.
//!
//! The JSON forms are the library's serde forms, so what the CLI prints is what the REST API and the export format
//! carry: a memory is a [`Memory`], `list` prints a [`Page`] (`{"memories": [...], "next": cursor-or-null}`),
//! `search` prints an array of [`Scored`] (`[{"memory": ..., "score": ...}]`). Counts print `{"count": N}`,
//! `forget` prints `{"forgotten": N}`, `delete` prints `{"deleted": ID}` and `import` prints its report
//! (`{"created": N, "existing": N, "skipped": [[line, why], ...]}`).

use std::io::Write;
use std::time::Duration;

use memlane::export::ImportReport;
use memlane::{Memory, MemoryId, Page, Scope, Scored, Timestamp};
use serde::Serialize;

use crate::error::{CliError, CliResult};

/// Longest content shown on a one-line listing, in characters.
const LINE_CONTENT: usize = 80;

/// Where results go, and in which form.
#[derive(Debug)]
pub struct Printer<W: Write> {
    json: bool,
    out: W,
}

impl Printer<std::io::Stdout> {
    /// Prints to stdout.
    pub fn stdout(json: bool) -> Self {
        Printer::new(json, std::io::stdout())
    }
}

impl<W: Write> Printer<W> {
    /// Prints to `out`, as JSON when `json`.
    pub fn new(json: bool, out: W) -> Self {
        Printer { json, out }
    }

    /// Whether it prints JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// The output, once done.
    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.out
    }

    fn write_json<T: Serialize + ?Sized>(&mut self, value: &T) -> CliResult {
        serde_json::to_writer_pretty(&mut self.out, value).map_err(|e| {
            if e.is_io() {
                CliError::io("stdout", e.into())
            } else {
                CliError::from(memlane::Error::internal(
                    "cli",
                    format!("cannot print JSON: {e}"),
                    None,
                ))
            }
        })?;
        self.line("")
    }

    fn line(&mut self, s: &str) -> CliResult {
        writeln!(self.out, "{s}").map_err(|e| CliError::io("stdout", e))
    }

    /// Embedding vectors: JSON an array of arrays; text one line per vector.
    pub fn vectors(&mut self, texts: &[String], vectors: &[Vec<f32>]) -> CliResult {
        if self.is_json() {
            return self.write_json(vectors);
        }
        for (t, v) in texts.iter().zip(vectors) {
            let nums: Vec<String> = v.iter().map(|x| format!("{x:.6}")).collect();
            self.line(&format!("{t}\t[{}]", nums.join(", ")))?;
        }
        Ok(())
    }

    /// Flushes what was printed.
    pub fn flush(&mut self) -> CliResult {
        self.out.flush().map_err(|e| CliError::io("stdout", e))
    }

    /// One memory in full; `existing` notes that `add` found it already stored.
    pub fn memory(&mut self, m: &Memory, existing: bool) -> CliResult {
        if self.json {
            return self.write_json(m);
        }
        let note = if existing { " (existing)" } else { "" };
        self.line(&format!("id:       {}{note}", m.id))?;
        self.line(&format!("kind:     {}", m.kind))?;
        self.line(&format!("scope:    {}", scope_full(&m.scope)))?;
        self.line(&format!("content:  {}", indent(&m.content)))?;
        if !m.metadata.is_empty() {
            let meta = serde_json::Value::Object(m.metadata.clone());
            self.line(&format!("metadata: {meta}"))?;
        }
        if let Some(e) = &m.embedding {
            self.line(&format!("embedding: {} ({} dimensions)", e.model, e.dim()))?;
        }
        self.line(&format!("version:  {}", m.version))?;
        self.line(&format!("created:  {}", m.created_at))?;
        if m.updated_at != m.created_at {
            self.line(&format!("updated:  {}", m.updated_at))?;
        }
        let expires = match m.expires_at {
            Some(t) => format!("{t} ({})", relative(t, Timestamp::now())),
            None => "never".to_owned(),
        };
        self.line(&format!("expires:  {expires}"))
    }

    /// A page of a listing: one line per memory, then the next cursor if there is more.
    pub fn page(&mut self, page: &Page) -> CliResult {
        if self.json {
            return self.write_json(page);
        }
        if page.memories.is_empty() {
            self.line("(no memories)")?;
        }
        let width = scope_width(page.memories.iter());
        for m in &page.memories {
            self.line(&summary(m, width))?;
        }
        if let Some(next) = &page.next {
            self.line(&format!("next: {} (continue with --cursor)", next.encode()))?;
        }
        Ok(())
    }

    /// Search results, best first: score, then the memory's one-line summary.
    pub fn scored(&mut self, hits: &[Scored]) -> CliResult {
        if self.json {
            return self.write_json(hits);
        }
        if hits.is_empty() {
            self.line("(no matches)")?;
        }
        let width = scope_width(hits.iter().map(|h| &h.memory));
        for h in hits {
            self.line(&format!("{:.3}  {}", h.score, summary(&h.memory, width)))?;
        }
        Ok(())
    }

    /// A count.
    pub fn count(&mut self, n: u64) -> CliResult {
        if self.json {
            return self.write_json(&serde_json::json!({ "count": n }));
        }
        self.line(&n.to_string())
    }

    /// How many memories `forget` deleted.
    pub fn forgotten(&mut self, n: u64, scope: &Scope) -> CliResult {
        if self.json {
            return self.write_json(&serde_json::json!({ "forgotten": n }));
        }
        self.line(&format!(
            "forgot {n} {} ({})",
            plural(n, "memory", "memories"),
            scope_full(scope)
        ))
    }

    /// A deleted memory.
    pub fn deleted(&mut self, id: MemoryId) -> CliResult {
        if self.json {
            return self.write_json(&serde_json::json!({ "deleted": id }));
        }
        self.line(&format!("deleted {id}"))
    }

    /// Where the embedding model is, once fetched.
    pub fn model_ready(&mut self, dir: &std::path::Path) -> CliResult {
        if self.json {
            return self.write_json(&serde_json::json!({ "model_dir": dir }));
        }
        self.line(&format!("model ready in {}", dir.display()))
    }

    /// What an import did.
    pub fn import_report(&mut self, r: &ImportReport) -> CliResult {
        if self.json {
            return self.write_json(r);
        }
        self.line(&format!(
            "imported: {} created, {} existing, {} skipped",
            r.created,
            r.existing,
            r.skipped.len()
        ))?;
        for (line, why) in &r.skipped {
            self.line(&format!("skipped line {line}: {why}"))?;
        }
        Ok(())
    }
}

/// `tenant=acme user=alice session=s1`.
fn scope_full(s: &Scope) -> String {
    let mut out = format!("tenant={}", s.tenant);
    let rest = scope_short(s);
    if !rest.is_empty() {
        out.push(' ');
        out.push_str(&rest);
    }
    out
}

/// `user=alice session=s1`, without the tenant (empty for the whole tenant).
fn scope_short(s: &Scope) -> String {
    [
        ("user", &s.user),
        ("agent", &s.agent),
        ("session", &s.session),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
    .collect::<Vec<_>>()
    .join(" ")
}

/// The scope column of a listing: `user=alice`, or `-` for the whole tenant.
fn scope_column(m: &Memory) -> String {
    let scope = scope_short(&m.scope);
    if scope.is_empty() {
        "-".into()
    } else {
        scope
    }
}

/// The widest scope column of these memories, to align the content column.
fn scope_width<'a>(ms: impl Iterator<Item = &'a Memory>) -> usize {
    ms.map(|m| scope_column(m).chars().count())
        .max()
        .unwrap_or(0)
}

/// One line: id, kind, scope (padded to `width`), content (on one line, shortened).
fn summary(m: &Memory, width: usize) -> String {
    format!(
        "{}  {:<9}  {:<width$}  {}",
        m.id,
        m.kind.as_str(),
        scope_column(m),
        one_line(&m.content)
    )
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= LINE_CONTENT {
        return flat;
    }
    let mut short: String = flat.chars().take(LINE_CONTENT - 1).collect();
    short.push('…');
    short
}

/// Continuation lines of multi-line content, indented under the first.
fn indent(s: &str) -> String {
    s.replace('\n', "\n          ")
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `in 2h 5m`, or `expired`.
fn relative(t: Timestamp, now: Timestamp) -> String {
    let ms = t.as_millis() - now.as_millis();
    if ms <= 0 {
        return "expired".into();
    }
    format!(
        "in {}",
        human_duration(Duration::from_millis(ms.unsigned_abs()))
    )
}

/// The two largest units of a duration: `2d 3h`, `10m 5s`, `42s`, `500ms`.
fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (name, size) in units {
        if rest >= size {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use memlane::{Cursor, NewMemory};

    fn memory(content: &str) -> Memory {
        NewMemory::new(Scope::tenant("acme").with_user("alice"), content)
            .meta("source", "chat")
            .into_memory(Timestamp::now())
    }

    fn printed(json: bool, f: impl FnOnce(&mut Printer<Vec<u8>>) -> CliResult) -> String {
        let mut p = Printer::new(json, Vec::new());
        f(&mut p).expect("prints");
        String::from_utf8(p.into_inner()).expect("utf-8")
    }

    #[test]
    fn human_memory_shows_the_essentials() {
        let m = memory("Alice likes tea");
        let out = printed(false, |p| p.memory(&m, true));
        assert!(
            out.contains(&format!("id:       {} (existing)", m.id)),
            "{out}"
        );
        assert!(out.contains("scope:    tenant=acme user=alice"), "{out}");
        assert!(out.contains("content:  Alice likes tea"), "{out}");
        assert!(out.contains(r#"metadata: {"source":"chat"}"#), "{out}");
        assert!(out.contains("expires:  never"), "{out}");
    }

    #[test]
    fn json_forms_are_the_serde_forms() {
        let m = memory("Alice likes tea");
        let out = printed(true, |p| p.memory(&m, false));
        assert_eq!(serde_json::from_str::<Memory>(&out).expect("a Memory"), m);

        let page = Page {
            memories: vec![m.clone()],
            next: Some(Cursor::after(&m)),
        };
        let out = printed(true, |p| p.page(&page));
        assert_eq!(serde_json::from_str::<Page>(&out).expect("a Page"), page);

        let hits = vec![Scored {
            memory: m,
            score: 0.5,
        }];
        let out = printed(true, |p| p.scored(&hits));
        assert_eq!(
            serde_json::from_str::<Vec<Scored>>(&out).expect("Scored"),
            hits
        );
    }

    #[test]
    fn listing_lines_are_one_line_each() {
        let m = memory(&format!("line one\nline two {}", "x".repeat(200)));
        let page = Page {
            memories: vec![m.clone()],
            next: Some(Cursor::after(&m)),
        };
        let out = printed(false, |p| p.page(&page));
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with(&m.id.to_string()));
        assert!(lines[0].contains("user=alice"));
        assert!(lines[0].ends_with('…'));
        assert!(lines[1].starts_with("next: "));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(7_500)), "2h 5m");
        assert_eq!(human_duration(Duration::from_secs(42)), "42s");
        assert_eq!(human_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(human_duration(Duration::from_secs(86_400 + 3)), "1d 3s");
        assert_eq!(
            relative(Timestamp::from_millis(0), Timestamp::from_millis(1)),
            "expired"
        );
    }
}
