//! `memlane`: the command-line tool over memlane's stores.
//!
//! This file only parses the command line, starts the async runtime, dispatches, and turns an error into a message
//! on stderr and an exit code (see [`error`] for the codes). The commands are in [`commands`], their arguments in
//! [`cli`], and the printing of results in [`output`]. The user's guide is `docs/cli.md`.
#![deny(clippy::unwrap_used)]

mod cli;
mod commands;
mod error;
mod output;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use crate::error::CliError;

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let mut cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    cli.store_from_flag = matches.value_source("store") == Some(ValueSource::CommandLine);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return report(&CliError::io("starting the async runtime", e)),
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

/// Prints `error: ...` (and a hint, when there is one) to stderr; returns the exit code.
fn report(e: &CliError) -> ExitCode {
    eprintln!("error: {e}");
    if let Some(hint) = e.hint() {
        eprintln!("hint: {hint}");
    }
    ExitCode::from(e.exit_code())
}
