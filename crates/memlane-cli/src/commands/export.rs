//! `memlane export`: the memories of a scope as a memlane export (versioned JSONL), to stdout or a file.
//!
//! The output is always JSONL (the format of [`memlane_core::export`]), with or without `--json`; the summary goes to
//! stderr so that stdout stays a clean export.

use std::fs::File;
use std::io::{BufWriter, Write};

use super::Context;
use crate::cli::ExportArgs;
use crate::error::{CliError, CliResult};

/// Writes the export and reports how many memories it holds on stderr.
pub async fn run(ctx: &mut Context, args: ExportArgs) -> CliResult {
    let scope = args.scope.scope(&ctx.tenant);
    let store = ctx.store().await?;
    let mut out: Box<dyn Write + Send> = match &args.output {
        Some(path) => {
            let f = File::create(path).map_err(|e| {
                CliError::io(format!("cannot write --output {}", path.display()), e)
            })?;
            Box::new(BufWriter::new(f))
        }
        None => Box::new(BufWriter::new(std::io::stdout())),
    };
    let n = memlane_core::export::export(store.as_ref(), &scope, &mut out).await?;
    drop(out);
    let to = match &args.output {
        Some(p) => format!(" to {}", p.display()),
        None => String::new(),
    };
    eprintln!(
        "exported {n} {}{to}",
        if n == 1 { "memory" } else { "memories" }
    );
    Ok(())
}
