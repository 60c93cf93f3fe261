//! `memlane import`: read a memlane export from stdin or a file into the tenant (`--tenant`), whatever tenant it
//! was exported from. Re-importing the same export creates nothing new.

use std::fs::File;
use std::io::{BufRead, BufReader};

use memlane_core::export::ImportOptions;

use super::Context;
use crate::cli::ImportArgs;
use crate::error::{CliError, CliResult};

/// Imports, then prints how many memories were created, already there, or skipped.
pub async fn run(ctx: &mut Context, args: ImportArgs) -> CliResult {
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
