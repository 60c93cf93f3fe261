//! OpenTelemetry trace export by OTLP/HTTP, when `[otlp]` (or `OTEL_EXPORTER_OTLP_ENDPOINT`) names a collector.
//!
//! Nothing here creates spans: the request span (`http::observe`) and the store-operation spans
//! ([`crate::layers::TracingStore`]) are ordinary `tracing` spans, and [`layer`] turns them into OpenTelemetry
//! spans through `tracing-opentelemetry`. The exporter posts protobuf batches from the batch processor's own
//! thread, so a slow or absent collector never delays a request (spans are dropped when its queue is full).
//!
//! A request's span continues the caller's trace when it sends a W3C `traceparent` (honouring its sampled flag);
//! otherwise it starts a trace whose id is also the `trace_id` of the request's log lines.
//!
//! [`init_logging`](crate::init_logging) installs the layer; [`flush`] sends what is queued (the server calls it
//! on shutdown).

use std::sync::OnceLock;

use axum::http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::registry::LookupSpan;

use crate::config::OtlpConfig;

/// The provider of the installed layer, kept to flush it; set once, by the first [`layer`] that exports.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// The `tracing` layer that exports spans to `config`'s collector; `Ok(None)` when export is off.
///
/// Errors when the exporter cannot be built (a malformed endpoint), or when another exporting layer was already
/// built in this process (one provider per process, so that [`flush`] reaches it).
pub fn layer<S>(config: &OtlpConfig) -> memlane::Result<Option<impl tracing_subscriber::Layer<S>>>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    let Some(url) = config.traces_url() else {
        return Ok(None);
    };
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.clone())
        .build()
        .map_err(|e| {
            memlane::Error::invalid(
                "otlp.endpoint",
                format!("cannot export to {}: {e}", crate::config::redact_url(&url)),
            )
        })?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("memlane-server");
    if PROVIDER.set(provider).is_err() {
        return Err(memlane::Error::invalid(
            "otlp",
            "an OTLP exporter is already installed in this process",
        ));
    }
    Ok(Some(tracing_opentelemetry::layer().with_tracer(tracer)))
}

/// Whether spans are exported (a [`layer`] was built).
pub fn enabled() -> bool {
    PROVIDER.get().is_some()
}

/// Sends every span ended so far to the collector and waits for the answer (up to the exporter's timeout).
/// Blocking: from async code call it in `spawn_blocking`. A no-op when nothing is exported.
pub fn flush() -> memlane::Result<()> {
    match PROVIDER.get() {
        None => Ok(()),
        Some(p) => p.force_flush().map_err(|e| {
            memlane::Error::unavailable("otlp", format!("cannot export traces: {e}"), None)
        }),
    }
}

/// Makes `span` (not yet entered) continue the trace of the request's `traceparent`, when it has a valid one,
/// and returns the trace id the span is exported under; `None` when nothing is exported.
pub(crate) fn continue_trace(span: &tracing::Span, headers: &HeaderMap) -> Option<String> {
    if !enabled() {
        return None;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if parent.span().span_context().is_valid() {
        // Fails only when the span is disabled or already started, and then there is nothing to continue.
        let _ = span.set_parent(parent);
    }
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}
