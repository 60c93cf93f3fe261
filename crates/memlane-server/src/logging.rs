//! Log setup: text or JSON lines through `tracing-subscriber`, filtered by `RUST_LOG` or the config's
//! `log_level`; plus OpenTelemetry export of the spans when `[otlp]` is configured ([`crate::otel`]).

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::{LogFormat, ServerConfig};

/// Installs the global log subscriber the config asks for, with the OTLP exporter when `config.otlp` names a
/// collector. Returns `false` (and changes nothing) when a subscriber is already installed, e.g. by the binary or
/// a test.
///
/// In JSON, every line carries the fields of the request's span (`request_id`, `trace_id`, `method`, `route`,
/// `tenant`) and of the store operation's span. An exporter that cannot be built is logged as a warning and left
/// out (the config's validation already refuses malformed endpoints).
pub fn init_logging(config: &ServerConfig) -> bool {
    if tracing::dispatcher::has_been_set() {
        return false;
    }
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer().boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
    };
    let (otel, otel_error) = match crate::otel::layer(&config.otlp) {
        Ok(layer) => (layer, None),
        Err(e) => (None, Some(e)),
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .is_ok();
    if let Some(e) = otel_error {
        tracing::warn!(error = %e, "OTLP export is off");
    } else if let Some(url) = config.otlp.traces_url().filter(|_| installed) {
        tracing::info!(endpoint = %crate::config::redact_url(&url), "exporting traces by OTLP/HTTP");
    }
    installed
}
