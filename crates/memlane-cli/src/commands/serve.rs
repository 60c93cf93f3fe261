//! `serve`: the HTTP server, on the store the config names (the embedded `./memlane-data` by default).

use crate::cli::ServeArgs;
use crate::error::CliResult;

/// Loads the server config (file, then `MEMLANE_*` environment), applies the command line, and serves until a
/// signal. `store` is the `--store` flag when given explicitly.
pub async fn run(args: ServeArgs, store: Option<String>) -> CliResult {
    let mut config = memlane_server::ServerConfig::load(args.config.as_deref())?;
    if let Some(store) = store {
        config = config.with_store(store);
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    config.validate()?;
    memlane_server::serve(config).await?;
    Ok(())
}
