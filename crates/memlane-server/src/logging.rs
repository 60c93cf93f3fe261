//! Log setup: text or JSON lines through `tracing-subscriber`, filtered by `RUST_LOG` or the config's
//! `log_level`.

use tracing_subscriber::EnvFilter;

use crate::{LogFormat, ServerConfig};

/// Installs the global log subscriber the config asks for. Returns `false` (and changes nothing) when a subscriber
/// is already installed, e.g. by the binary or a test.
///
/// In JSON, every line carries the fields of the request's span (`request_id`, `trace_id`, `method`, `route`,
/// `tenant`) and of the store operation's span.
pub fn init_logging(config: &ServerConfig) -> bool {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let res = match config.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
    res.is_ok()
}
