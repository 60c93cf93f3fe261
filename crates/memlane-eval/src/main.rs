//! `memlane-eval`: retrieval-quality evaluation of memlane's search.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use memlane::SearchMode;
use memlane_embed::{CachedEmbedder, MiniLm};
use memlane_eval::report::{ModeReport, Report};
use memlane_eval::{locomo, run};

#[derive(Parser)]
#[command(
    name = "memlane-eval",
    about = "Measure memlane's retrieval quality (no LLM)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turn-level recall on LoCoMo-format conversation files (every *.json in DIR).
    Locomo {
        /// The directory of conversation files.
        dir: PathBuf,
        /// Search modes to run, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "keyword,semantic,hybrid")]
        modes: Vec<SearchMode>,
        /// The embedding model's directory (default: memlane's model cache).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

async fn locomo_cmd(
    dir: PathBuf,
    modes: Vec<SearchMode>,
    model: Option<PathBuf>,
    json: bool,
) -> Result<(), String> {
    let files = locomo::files(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if files.is_empty() {
        return Err(format!("no *.json conversation files in {}", dir.display()));
    }
    let convs = files
        .iter()
        .map(|f| locomo::load(f))
        .collect::<Result<Vec<_>, _>>()?;
    let minilm = match model {
        Some(d) => MiniLm::load(&d),
        None => MiniLm::load_default(),
    }
    .map_err(|e| e.to_string())?;
    let loaded = run::load(&convs, Arc::new(CachedEmbedder::new(minilm)))
        .await
        .map_err(|e| e.to_string())?;
    let mut report = Report {
        conversations: convs.len(),
        turns: convs.iter().map(|c| c.turns.len()).sum(),
        questions: convs.iter().map(|c| c.questions.len()).sum(),
        skipped: convs.iter().map(|c| c.skipped).sum(),
        load_seconds: loaded.load_time.as_secs_f64(),
        modes: Vec::new(),
    };
    for mode in modes {
        let r = loaded.run(&convs, mode).await.map_err(|e| e.to_string())?;
        report.modes.push(ModeReport::new(mode.to_string(), &r));
    }
    if json {
        let s = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{s}");
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("memlane-eval: {e}");
            return ExitCode::FAILURE;
        }
    };
    let res = match cli.command {
        Command::Locomo {
            dir,
            modes,
            model,
            json,
        } => rt.block_on(locomo_cmd(dir, modes, model, json)),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("memlane-eval: {e}");
            ExitCode::FAILURE
        }
    }
}
