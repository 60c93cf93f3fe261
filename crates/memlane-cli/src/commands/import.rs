//! `memlane import`: read memories into the tenant (`--tenant`), whatever tenant or system they come from.
//!
//! - `--format memlane` (default): a memlane export from stdin or a file. Without `--on-error` it streams in
//!   batches (a malformed line stops it; `--skip-invalid` skips and reports such lines). Re-importing the same
//!   export creates nothing new.
//! - `--format mem0`: the JSON of mem0's `get_all` (file or stdin); `--format langgraph`: LangGraph's PostgreSQL
//!   store, read from the database URL given as FILE. Both through [`memlane::compat`].
//! - `--on-error abort|skip` (any format): the input is read and checked whole first; `abort` writes nothing if any
//!   record is bad, `skip` reports bad records by line number (or position) and imports the rest. The report also
//!   lists the source fields that could not be mapped.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use memlane::compat::{self, ImportReport, OnError, Parsed};
use memlane_core::export::ImportOptions;

use super::Context;
use crate::cli::ImportArgs;
use crate::error::{CliError, CliResult};

/// Imports, then prints how many memories were created, already there, or skipped.
pub async fn run(ctx: &mut Context, args: ImportArgs) -> CliResult {
    if args.format == "memlane" && args.on_error.is_none() {
        return stream(ctx, args).await;
    }
    let on_error = match args.on_error.as_deref() {
        Some(v) => v.parse::<OnError>()?,
        None if args.skip_invalid => OnError::Skip,
        None => OnError::Abort,
    };
    let tenant = ctx.tenant_scope()?.tenant;
    let parsed = match args.format.as_str() {
        "langgraph" => {
            let url = args.file.as_ref().and_then(|p| p.to_str()).ok_or_else(|| {
                memlane::Error::invalid(
                    "FILE",
                    "--format langgraph reads LangGraph's database: give its postgres:// URL",
                )
            })?;
            compat::langgraph::read(url, &tenant).await?
        }
        format => {
            let text = read_all(&args)?;
            let store = ctx.store().await?;
            let limits = store.capabilities().limits;
            if format == "mem0" {
                compat::mem0::parse(&text, &tenant)
            } else {
                compat::memlane::parse(&text, &tenant, &limits)
            }
        }
    };
    let store = ctx.store().await?;
    let report = compat::write(
        store.as_ref(),
        &args.format,
        checked(parsed, &store),
        on_error,
    )
    .await?;
    print(ctx, &report)
}

/// The memories that the store's limits refuse become problems too, so that `abort` can refuse before writing.
fn checked(mut parsed: Parsed, store: &std::sync::Arc<dyn memlane::MemoryStore>) -> Parsed {
    let limits = store.capabilities().limits;
    let now = memlane::Timestamp::now();
    let mut kept = Vec::with_capacity(parsed.memories.len());
    for (i, m) in std::mem::take(&mut parsed.memories).into_iter().enumerate() {
        match limits.check_new("memory", &m, now) {
            Ok(()) => kept.push(m),
            Err(e) => parsed.problems.push(compat::Problem {
                at: format!("record {}", i + 1),
                reason: e.to_string(),
            }),
        }
    }
    parsed.memories = kept;
    parsed
}

fn read_all(args: &ImportArgs) -> CliResult<String> {
    let mut text = String::new();
    match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            File::open(path)
                .and_then(|mut f| f.read_to_string(&mut text))
                .map_err(|e| CliError::io(format!("cannot read {}", path.display()), e))?;
        }
        _ => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::io("cannot read stdin", e))?;
        }
    }
    Ok(text)
}

fn print(ctx: &mut Context, r: &ImportReport) -> CliResult {
    let mut out = std::io::stdout().lock();
    let io = |e| CliError::io("stdout", e);
    use std::io::Write;
    if ctx.out.is_json() {
        serde_json::to_writer_pretty(&mut out, r)
            .map_err(|e| CliError::io("stdout", std::io::Error::other(e)))?;
        return writeln!(out).map_err(io);
    }
    writeln!(
        out,
        "imported ({}): {} created, {} existing, {} skipped, {} expired",
        r.format,
        r.created,
        r.existing,
        r.skipped.len(),
        r.expired
    )
    .map_err(io)?;
    for p in &r.skipped {
        writeln!(out, "skipped {}: {}", p.at, p.reason).map_err(io)?;
    }
    for (field, n) in &r.unmapped {
        writeln!(out, "not mapped: {field} (in {n} records, dropped)").map_err(io)?;
    }
    Ok(())
}

/// The streaming import of a memlane export (the default).
async fn stream(ctx: &mut Context, args: ImportArgs) -> CliResult {
    let input: Box<dyn BufRead + Send> = match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            let f = File::open(path)
                .map_err(|e| CliError::io(format!("cannot read {}", path.display()), e))?;
            Box::new(BufReader::new(f))
        }
        _ => Box::new(BufReader::new(std::io::stdin())),
    };
    let store = ctx.store().await?;
    let opts = ImportOptions {
        skip_invalid: args.skip_invalid,
        batch: None,
    };
    let report = memlane_core::export::import(store.as_ref(), &ctx.tenant, input, opts).await?;
    ctx.out.import_report(&report)
}
