//! `memlane reindex --model DIR`: re-embed the embedded store (`--store`) with the model in DIR.
//!
//! A shadow index is built while the store keeps serving with its current vectors, then one transaction switches
//! every vector and the store's model (see [`memlane::embedded::EmbeddedStore::reindex`]). Interrupted (Ctrl-C,
//! `kill -9`), the same command resumes; `--restart` discards an interrupted re-index to another model. Progress
//! goes to stderr (a bar on a terminal, a line every few seconds otherwise). Other processes that have the store
//! open (a server) must be restarted after the cutover to use the new model.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use memlane::embedded::{EmbeddedConfig, EmbeddedStore, ReindexOptions, ReindexProgress};
use memlane::{Embedder, OpenOptions};

use super::Context;
use crate::cli::ReindexArgs;
use crate::error::CliResult;

/// Re-indexes and prints what was done.
pub async fn run(ctx: &mut Context, args: ReindexArgs) -> CliResult {
    let mut opts = OpenOptions::parse(&ctx.store_url)?;
    if !matches!(opts.scheme.as_str(), "embedded" | "file") {
        return Err(memlane::Error::unsupported(
            opts.scheme.clone(),
            "reindex (only the embedded store so far: migrate into a store that embeds with the new model, see \
             docs/migration/changing-embedding-model.md)",
        )
        .into());
    }
    // The store is opened without its model pin: the re-index is what changes it.
    opts.options.remove("embedder");
    opts.options.remove("model_dir");
    let config = EmbeddedConfig::from_options(&mut opts)?;
    opts.finish()?;
    let store = EmbeddedStore::open(config).await?;
    let dir = args.model.clone();
    let embedder: Arc<dyn Embedder> = tokio::task::spawn_blocking(move || {
        memlane_embed::MiniLm::load(&dir).map(|m| Arc::new(m) as Arc<dyn Embedder>)
    })
    .await
    .map_err(|e| memlane::Error::internal("reindex", e.to_string(), None))??;
    let report = store
        .reindex(
            embedder,
            ReindexOptions {
                restart: args.restart,
            },
            progress(std::io::stderr().is_terminal()),
        )
        .await?;
    if ctx.out.is_json() {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        println!(
            "re-indexed {} memories with {} ({} embedded now, {} resumed from an interrupted run)",
            report.total, report.model, report.embedded, report.resumed
        );
    }
    Ok(())
}

fn progress(terminal: bool) -> ReindexProgress {
    if terminal {
        let bar = ProgressBar::new(0);
        let style = ProgressStyle::with_template(
            "reindex [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        return Box::new(move |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
    }
    let last: Mutex<Option<Instant>> = Mutex::new(None);
    Box::new(move |done, total| {
        if let Ok(mut l) = last.lock() {
            if l.is_none_or(|t| t.elapsed() >= Duration::from_secs(2)) || done >= total {
                *l = Some(Instant::now());
                eprintln!("reindex: {done}/{total}");
            }
        }
    })
}
