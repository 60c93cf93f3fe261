//! `memlane repair`: compares each tier of a composite store with its record of truth (per-scope counts and
//! checksums) and fixes the drift from the record; `--dry-run` only reports it.

use std::io::Write as _;

use memlane::composite::{CompositeConfig, CompositeStore, RepairReport};

use super::Context;
use crate::cli::RepairArgs;
use crate::error::{CliError, CliResult};

/// Repairs (or checks) the composite store `--store composite://PATH` names.
pub async fn run(ctx: &mut Context, args: RepairArgs) -> CliResult {
    let opts = memlane::OpenOptions::parse(&ctx.store_url)?;
    if opts.scheme != "composite" {
        return Err(memlane::Error::invalid(
            "store",
            "memlane repair works on a composite store: --store composite://PATH/TO/composite.toml",
        )
        .into());
    }
    let store = CompositeStore::open(CompositeConfig::from_file(&opts.location)?).await?;
    let report = store.repair(&args.tenants, !args.dry_run).await?;
    print(ctx, &report, args.dry_run)
}

fn print(ctx: &Context, r: &RepairReport, dry_run: bool) -> CliResult {
    let mut out = std::io::stdout().lock();
    let io = |e| CliError::io("stdout", e);
    if ctx.out.is_json() {
        serde_json::to_writer_pretty(&mut out, r)
            .map_err(|e| CliError::io("stdout", std::io::Error::other(e)))?;
        return writeln!(out).map_err(io);
    }
    writeln!(
        out,
        "compared {} tier(s) with the record of truth in {} tenant(s)",
        r.tiers.len(),
        r.tenants.len()
    )
    .map_err(io)?;
    if r.is_clean() {
        return writeln!(out, "no drift").map_err(io);
    }
    for d in &r.drifts {
        writeln!(out, "tier {} tenant {}:", d.tier, d.tenant).map_err(io)?;
        for s in &d.drift.scopes {
            writeln!(out, "  {}: record {}; tier {}", s.scope, s.left, s.right).map_err(io)?;
        }
        if dry_run {
            writeln!(out, "  not fixed (--dry-run)").map_err(io)?;
        } else {
            writeln!(out, "  fixed: {} memories rewritten or deleted", d.fixed).map_err(io)?;
        }
    }
    Ok(())
}
