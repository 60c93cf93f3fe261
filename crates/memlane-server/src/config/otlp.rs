//! The `[otlp]` section: where to send traces by OpenTelemetry's OTLP/HTTP protocol (see [`crate::otel`]).
//!
//! ```toml
//! [otlp]
//! endpoint = "http://127.0.0.1:4318"   # OTEL_EXPORTER_OTLP_ENDPOINT; traces go to <endpoint>/v1/traces
//! # traces_endpoint = "http://127.0.0.1:4318/v1/traces"   # OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: used as it is
//! service_name = "memlane"             # OTEL_SERVICE_NAME
//! ```
//!
//! Export is off while neither endpoint is set; `traces_endpoint` wins over `endpoint`, and the standard variables
//! win over the file. Only `http://` is supported (the server carries no TLS stack for export; run a collector
//! beside it). The exporter also honours `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_TIMEOUT`.

use std::fmt;

use serde::Deserialize;

use super::redact_url;

/// The path of traces under an OTLP/HTTP base URL.
const TRACES_PATH: &str = "/v1/traces";

/// `[otlp]`: OpenTelemetry trace export.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpConfig {
    /// The collector's OTLP/HTTP base URL (`http://host:4318`); traces go to its `/v1/traces`.
    pub endpoint: Option<String>,
    /// The full URL traces are posted to, used as it is; wins over `endpoint`.
    pub traces_endpoint: Option<String>,
    /// The `service.name` of the exported spans.
    pub service_name: String,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            endpoint: None,
            traces_endpoint: None,
            service_name: "memlane".into(),
        }
    }
}

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpConfig")
            .field("endpoint", &self.endpoint.as_deref().map(redact_url))
            .field(
                "traces_endpoint",
                &self.traces_endpoint.as_deref().map(redact_url),
            )
            .field("service_name", &self.service_name)
            .finish()
    }
}

impl OtlpConfig {
    /// The URL spans are posted to; `None` when export is off.
    ///
    /// ```
    /// # use memlane_server::config::OtlpConfig;
    /// let mut c = OtlpConfig::default();
    /// assert_eq!(c.traces_url(), None);
    /// c.endpoint = Some("http://collector:4318/".into());
    /// assert_eq!(c.traces_url().as_deref(), Some("http://collector:4318/v1/traces"));
    /// c.traces_endpoint = Some("http://collector:4318/custom".into());
    /// assert_eq!(c.traces_url().as_deref(), Some("http://collector:4318/custom"));
    /// ```
    pub fn traces_url(&self) -> Option<String> {
        if let Some(t) = self.traces_endpoint.as_deref() {
            return Some(t.trim().to_owned());
        }
        let e = self.endpoint.as_deref()?.trim().trim_end_matches('/');
        Some(format!("{e}{TRACES_PATH}"))
    }

    /// Applies `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and `OTEL_SERVICE_NAME`.
    pub(crate) fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) {
        if let Some(v) = get("OTEL_EXPORTER_OTLP_ENDPOINT") {
            self.endpoint = Some(v.trim().to_owned());
        }
        if let Some(v) = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            self.traces_endpoint = Some(v.trim().to_owned());
        }
        if let Some(v) = get("OTEL_SERVICE_NAME") {
            self.service_name = v.trim().to_owned();
        }
    }

    /// Checks the endpoint: an `http://` URL with a host.
    pub(crate) fn validate(&self) -> memlane::Result<()> {
        if self.service_name.is_empty() {
            return Err(memlane::Error::invalid(
                "otlp.service_name",
                "must not be empty",
            ));
        }
        let Some(url) = self.traces_url() else {
            return Ok(());
        };
        let bad = |why: &str| {
            memlane::Error::invalid(
                if self.traces_endpoint.is_some() {
                    "otlp.traces_endpoint"
                } else {
                    "otlp.endpoint"
                },
                format!("{url:?} {why}: give an OTLP/HTTP URL such as http://127.0.0.1:4318"),
            )
        };
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(if url.starts_with("https://") {
                bad("uses https, which memlane's exporter does not support (no TLS stack); export to a local collector over http")
            } else {
                bad("is not an http:// URL")
            });
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || url.parse::<axum::http::Uri>().is_err() {
            return Err(bad("is not a valid URL"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::ServerConfig;

    fn load(file: &str, vars: &[(&str, &str)]) -> memlane::Result<ServerConfig> {
        let mut f = tempfile::NamedTempFile::new().expect("tmp");
        std::io::Write::write_all(&mut f, file.as_bytes()).expect("write");
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ServerConfig::load_from(Some(f.path()), move |k| map.get(k).cloned())
    }

    #[test]
    fn off_by_default_on_with_the_file_or_the_standard_variables() {
        assert_eq!(load("", &[]).expect("load").otlp.traces_url(), None);
        let c = load(
            "[otlp]\nendpoint = \"http://a:4318\"\nservice_name = \"m1\"\n",
            &[],
        )
        .expect("load");
        assert_eq!(
            c.otlp.traces_url().as_deref(),
            Some("http://a:4318/v1/traces")
        );
        assert_eq!(c.otlp.service_name, "m1");
        let c = load(
            "[otlp]\nendpoint = \"http://a:4318\"\n",
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://b:4318/"),
                ("OTEL_SERVICE_NAME", "m2"),
            ],
        )
        .expect("load");
        assert_eq!(
            c.otlp.traces_url().as_deref(),
            Some("http://b:4318/v1/traces")
        );
        assert_eq!(c.otlp.service_name, "m2");
        let c = load(
            "",
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://b:4318"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:9/traces"),
            ],
        )
        .expect("load");
        assert_eq!(c.otlp.traces_url().as_deref(), Some("http://c:9/traces"));
        // An empty variable counts as unset.
        let c = load("", &[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]).expect("load");
        assert_eq!(c.otlp.traces_url(), None);
    }

    #[test]
    fn bad_endpoints_are_refused_naming_the_key() {
        for (file, field) in [
            ("[otlp]\nendpoint = \"https://a:4318\"\n", "otlp.endpoint"),
            ("[otlp]\nendpoint = \"grpc://a:4317\"\n", "otlp.endpoint"),
            ("[otlp]\nendpoint = \"http://\"\n", "otlp.endpoint"),
            (
                "[otlp]\ntraces_endpoint = \"a:4318\"\n",
                "otlp.traces_endpoint",
            ),
            ("[otlp]\nservice_name = \"\"\n", "otlp.service_name"),
        ] {
            match load(file, &[]) {
                Err(memlane::Error::InvalidInput { field: f, .. }) => {
                    assert_eq!(f, field, "{file}")
                }
                other => panic!("{file}: {other:?}"),
            }
        }
        assert!(
            load("[otlp]\nendpont = \"http://a\"\n", &[]).is_err(),
            "unknown key"
        );
    }

    #[test]
    fn debug_hides_credentials_in_the_endpoint() {
        let c = OtlpConfig {
            endpoint: Some("http://user:s3cret@a:4318".into()),
            ..OtlpConfig::default()
        };
        let text = format!("{c:?}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
