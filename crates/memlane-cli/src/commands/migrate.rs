//! `memlane migrate --from URL --to URL`: copy memories between stores, resumably, and verify the copy.
//!
//! The engine is [`memlane::migrate`]; this module opens both stores, shows progress (an indicatif bar with the
//! rate on a terminal, a plain line every few seconds otherwise, both on stderr), prints the verification (per
//! tenant: counts and checksums of both sides, and any drift) and fails with exit code 4 when the two sides differ.
//! Ctrl-C stops after saying how to resume; the checkpoint is always consistent, so `kill -9` is safe too.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use memlane::migrate::{self, MigrateOptions, MigrateReport, Progress};

use super::Context;
use crate::cli::MigrateArgs;
use crate::error::{CliError, CliResult};

/// Runs the migration and prints its report.
pub async fn run(ctx: &mut Context, args: MigrateArgs) -> CliResult {
    let checkpoint = args
        .checkpoint
        .clone()
        .unwrap_or_else(|| PathBuf::from("memlane-migrate.checkpoint.json"));
    if args.restart {
        match std::fs::remove_file(&checkpoint) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(CliError::io(
                    format!("cannot remove {}", checkpoint.display()),
                    e,
                ))
            }
        }
    }
    let from = migrate::open_source(&args.from).await?;
    let target = migrate::open_target(&args.to).await?;
    let opts = MigrateOptions {
        tenants: args.tenants.clone(),
        user: args.scope.user.clone(),
        agent: args.scope.agent.clone(),
        session: args.scope.session.clone(),
        filter: args.filter.clone(),
        batch: args.batch,
        checkpoint: (!args.no_checkpoint).then(|| checkpoint.clone()),
        embeddings: target.policy(),
        verify: !args.no_verify,
        job: format!("{}\u{1}{}", args.from, args.to),
    };
    let progress = Reporter::new(std::io::stderr().is_terminal());
    let work = migrate::migrate(from.as_ref(), target.store.as_ref(), &opts, &progress);
    let report = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => {
            progress.finish();
            eprintln!(
                "interrupted: run the same command again to continue from {}",
                checkpoint.display()
            );
            std::process::exit(130);
        }
    };
    progress.finish();
    let report = report?;
    print(ctx, &report)?;
    if opts.verify && !report.is_verified() {
        return Err(memlane::Error::conflict(
            "migrate",
            "the verification found differences between the source and the destination (listed above)",
        )
        .into());
    }
    Ok(())
}

fn print(ctx: &Context, r: &MigrateReport) -> CliResult {
    let mut out = std::io::stdout().lock();
    let io = |e| CliError::io("stdout", e);
    if ctx.out.is_json() {
        serde_json::to_writer_pretty(&mut out, r)
            .map_err(|e| CliError::io("stdout", std::io::Error::other(e)))?;
        return writeln!(out).map_err(io);
    }
    let written = r.written();
    let rate = if r.copy_seconds > 0.0 {
        written as f64 / r.copy_seconds
    } else {
        0.0
    };
    writeln!(
        out,
        "copied {} memories in total; this run wrote {written} in {:.1} s ({rate:.0}/s)",
        r.copied(),
        r.copy_seconds
    )
    .map_err(io)?;
    for t in &r.tenants {
        writeln!(
            out,
            "  tenant {}: {} created, {} already there, {} re-embedded, {} skipped (expiring)",
            t.tenant, t.created, t.existing, t.reembedded, t.skipped_expiring
        )
        .map_err(io)?;
    }
    if r.verification.is_empty() {
        return writeln!(out, "not verified (--no-verify)").map_err(io);
    }
    writeln!(out, "verification ({:.1} s):", r.verify_seconds).map_err(io)?;
    for v in &r.verification {
        let (s, t) = (v.source.total(), v.target.total());
        let verdict = if v.drift.is_empty() {
            "identical"
        } else {
            "DIFFERENT"
        };
        writeln!(
            out,
            "  tenant {}: {verdict}\n    source: {} memories, checksum {}\n    target: {} memories, checksum {}",
            v.source.tenant, s.count, s.checksum, t.count, t.checksum
        )
        .map_err(io)?;
        for (scope, sum) in &v.source.scopes {
            let other = v.target.scopes.get(scope).copied().unwrap_or_default();
            let mark = if other == *sum { "" } else { "  <- differs" };
            writeln!(out, "    {scope}: {sum}{mark}").map_err(io)?;
        }
        for d in v
            .drift
            .scopes
            .iter()
            .filter(|d| !v.source.scopes.contains_key(&d.scope))
        {
            writeln!(
                out,
                "    {}: only in the target: {}  <- differs",
                d.scope, d.right
            )
            .map_err(io)?;
        }
    }
    Ok(())
}

/// Progress on stderr: a bar on a terminal, a line every few seconds otherwise.
struct Reporter {
    bar: Option<ProgressBar>,
    plain: Mutex<Plain>,
}

struct Plain {
    tenant: String,
    done: u64,
    total: u64,
    started: Instant,
    base: u64,
    last: Instant,
}

const PLAIN_EVERY: Duration = Duration::from_secs(2);

impl Reporter {
    fn new(terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        let now = Instant::now();
        Reporter {
            bar,
            plain: Mutex::new(Plain {
                tenant: String::new(),
                done: 0,
                total: 0,
                started: now,
                base: 0,
                last: now,
            }),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

impl Progress for Reporter {
    fn tenant(&self, tenant: &str, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("tenant {tenant}"));
            bar.set_length(total);
            bar.set_position(done);
            bar.reset_eta();
            return;
        }
        if let Ok(mut p) = self.plain.lock() {
            let now = Instant::now();
            *p = Plain {
                tenant: tenant.to_owned(),
                done,
                total,
                started: now,
                base: done,
                last: now,
            };
            eprintln!("migrate: tenant {tenant}: {done}/{total}");
        }
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
            return;
        }
        if let Ok(mut p) = self.plain.lock() {
            p.done += n;
            let now = Instant::now();
            if now.duration_since(p.last) >= PLAIN_EVERY || p.done >= p.total {
                p.last = now;
                let secs = now.duration_since(p.started).as_secs_f64().max(1e-3);
                eprintln!(
                    "migrate: tenant {}: {}/{} ({:.0}/s)",
                    p.tenant,
                    p.done,
                    p.total,
                    (p.done - p.base) as f64 / secs
                );
            }
        }
    }
}
