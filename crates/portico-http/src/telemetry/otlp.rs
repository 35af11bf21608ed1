//! Export over OTLP/HTTP with protobuf: opentelemetry-otlp's exporter, given a blocking HTTP
//! client that needs no runtime.
//!
//! The SDK's batch processor exports from a thread of its own, blocking on the exporter's
//! future there; a blocking client (ureq) fits that thread, where the exporter's own clients
//! (reqwest, hyper's) would start or need a tokio runtime, which a smol application does not
//! have. The client speaks plain HTTP only: the collector is usually an agent on the same
//! host or network. For HTTPS, or gRPC, build a tracer provider with the exporter of your
//! choice and give it to [`OpenTelemetry::new`](super::OpenTelemetry::new).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// How long one export may take: OTLP's default.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer read from a collector (an answer is a few bytes, or an error message).
const MAX_ANSWER: u64 = 64 * 1024;

/// Why an OTLP exporter could not be made: the endpoint is not a plain-HTTP URL, or the
/// exporter refused its settings (see the message).
pub struct OtlpError(String);

impl fmt::Debug for OtlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OtlpError").field(&self.0).finish()
    }
}

impl fmt::Display for OtlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OtlpError {}

/// A tracer provider that exports to the OTLP/HTTP collector at `endpoint` (its base URL:
/// `/v1/traces` is added) in batches, as `service_name` unless `OTEL_SERVICE_NAME` names the
/// service. The batch processor's settings come from the `OTEL_BSP_*` variables.
pub(super) fn provider(endpoint: &str, service_name: &str) -> Result<SdkTracerProvider, OtlpError> {
    let rest = endpoint.strip_prefix("http://").ok_or_else(|| {
        OtlpError(format!(
            "the OTLP endpoint `{endpoint}` is not a plain-HTTP URL (`http://host:4318`); for \
             HTTPS, give OpenTelemetry::new a tracer provider with an exporter of your choice"
        ))
    })?;
    if rest.split('/').next().is_none_or(str::is_empty) {
        return Err(OtlpError(format!(
            "the OTLP endpoint `{endpoint}` names no host"
        )));
    }
    let base = endpoint.trim_end_matches('/');
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(Ureq::new())
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{base}/v1/traces"))
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|err| OtlpError(format!("the OTLP exporter refused its settings: {err}")))?;
    let resource = if std::env::var_os("OTEL_SERVICE_NAME").is_some() {
        Resource::builder().build()
    } else {
        Resource::builder()
            .with_service_name(service_name.to_owned())
            .build()
    };
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// The exporter's HTTP client: ureq, blocking, on the batch processor's thread.
struct Ureq {
    agent: ureq::Agent,
}

impl fmt::Debug for Ureq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ureq").finish_non_exhaustive()
    }
}

impl Ureq {
    fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(EXPORT_TIMEOUT))
            // The exporter reads the status itself, to retry what can be retried.
            .http_status_as_error(false)
            .build();
        Ureq {
            agent: ureq::Agent::new_with_config(config),
        }
    }

    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, &body[..]);
        let response = self.agent.run(request)?;
        let (parts, mut body) = response.into_parts();
        let answer = body.with_config().limit(MAX_ANSWER).read_to_vec()?;
        Ok(http::Response::from_parts(parts, Bytes::from(answer)))
    }
}

impl HttpClient for Ureq {
    // The trait is declared with `async_trait`; this is the signature it expands to.
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: http::Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        // Blocks while polled: the batch processor polls it on its own thread.
        Box::pin(async move { self.send(request) })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::provider;

    #[test]
    fn endpoints_must_be_plain_http_urls() {
        let https = provider("https://collector:4318", "test").unwrap_err();
        assert!(
            https.to_string().contains("not a plain-HTTP URL"),
            "{https}"
        );
        let bare = provider("collector:4318", "test").unwrap_err();
        assert!(bare.to_string().contains("not a plain-HTTP URL"), "{bare}");
        let empty = provider("http://", "test").unwrap_err();
        assert!(empty.to_string().contains("names no host"), "{empty}");
    }
}
