//! [`OpenTelemetry`]: a server span per request, with the HTTP semantic conventions, in the
//! trace the request's `traceparent` names; and [`TraceContext`], the trace for the calls a
//! handler makes.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use http::header::{HOST, USER_AGENT};
use http::request::Parts;
use opentelemetry::context::FutureExt as _;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    SpanContext, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::otlp::{self, OtlpError};
use super::{RouteName, method_label};
use crate::extract::{ClientAddr, FromRequestParts, Rejection, RequestContext};
use crate::middleware::{Middleware, Next};
use crate::service::Panicked;
use crate::{Request, Response};

/// Traces every request it sees with OpenTelemetry: a server span with the HTTP semantic
/// conventions (listed in the [module docs](super)), child of the span a W3C `traceparent`
/// header names (its `tracestate` kept), current while the request is answered, and handed to
/// handlers as a [`TraceContext`].
///
/// Add it to the application to trace every request, 404s included, or to a router or a route
/// to trace only theirs. The spans go to the tracer provider's processors: with
/// [`otlp`](Self::otlp), in batches over OTLP/HTTP from a thread of the provider's own, so
/// that no request waits for an export.
///
/// # Examples
///
/// A provider of your own, here with an exporter that keeps the spans (the SDK's
/// `InMemorySpanExporter` does the same, with its `testing` feature):
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// use portico_http::telemetry::OpenTelemetry;
/// use portico_http::{App, Path};
/// use portico_http::telemetry::opentelemetry_sdk::error::OTelSdkResult;
/// use portico_http::telemetry::opentelemetry_sdk::trace::{
///     SdkTracerProvider, SpanData, SpanExporter,
/// };
///
/// #[derive(Debug, Clone, Default)]
/// struct Keep(Arc<Mutex<Vec<SpanData>>>);
///
/// impl SpanExporter for Keep {
///     async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
///         self.0.lock().unwrap().extend(batch);
///         Ok(())
///     }
/// }
///
/// async fn item(Path(id): Path<u32>) -> String {
///     format!("item {id}")
/// }
///
/// let kept = Keep::default();
/// let provider = SdkTracerProvider::builder()
///     .with_simple_exporter(kept.clone())
///     .build();
/// let app = App::new()
///     .get("/items/{id}", item)
///     .add_middleware(OpenTelemetry::new(provider));
/// let client = portico::testing::blocking_client(app);
/// client
///     .get("/items/7")
///     .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
///     .send();
/// let spans = kept.0.lock().unwrap();
/// assert_eq!(spans[0].name, "GET /items/{id}");
/// assert_eq!(
///     spans[0].span_context.trace_id().to_string(),
///     "0af7651916cd43dd8448eb211c80319c"
/// );
/// assert_eq!(spans[0].parent_span_id.to_string(), "b7ad6b7169203331");
/// ```
#[derive(Clone)]
pub struct OpenTelemetry {
    tracer: SdkTracer,
    provider: SdkTracerProvider,
    propagator: TraceContextPropagator,
}

impl fmt::Debug for OpenTelemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenTelemetry")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl OpenTelemetry {
    /// Traces with `provider`: its sampler decides which requests are recorded, and its
    /// processors where their spans go. Keep a clone of it to flush it
    /// ([`force_flush`](SdkTracerProvider::force_flush)) or shut it down; the spans still
    /// queued are exported when the last clone is dropped.
    pub fn new(provider: SdkTracerProvider) -> Self {
        let scope = InstrumentationScope::builder("portico-http")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        OpenTelemetry {
            tracer: provider.tracer_with_scope(scope),
            provider,
            propagator: TraceContextPropagator::new(),
        }
    }

    /// Traces to the OTLP/HTTP collector at `endpoint` (its base URL, such as
    /// `http://127.0.0.1:4318`: spans go to `/v1/traces`), with protobuf, in batches from a
    /// thread of their own, as the service `service_name` (unless `OTEL_SERVICE_NAME` names
    /// it). The batches follow the `OTEL_BSP_*` variables (by default, every 5 s or 512
    /// spans).
    ///
    /// Plain HTTP only: for a collector behind HTTPS, or over gRPC, build a provider with the
    /// exporter of your choice and use [`new`](Self::new).
    ///
    /// # Errors
    ///
    /// If `endpoint` is not a plain-HTTP URL, or the exporter refuses its settings.
    pub fn otlp(endpoint: &str, service_name: &str) -> Result<Self, OtlpError> {
        Ok(OpenTelemetry::new(otlp::provider(endpoint, service_name)?))
    }

    /// The tracer provider spans go to.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }
}

impl Middleware for OpenTelemetry {
    /// For the client's address ([`ClientAddr`]), which a trusted proxy may have replaced.
    const READS_EXTENSIONS: bool = true;
    const READS_ROUTE: bool = true;

    fn call(&self, mut request: Request, next: Next) -> impl Future<Output = Response> + Send {
        let parent = self.propagator.extract(&HeaderExtractor(request.headers()));
        let method = method_label(request.method());
        let route = RouteName::at_start(&next);
        let mut attributes = request_attributes(&request, method);
        if let RouteName::Declared(_) = route {
            attributes.push(KeyValue::new("http.route", route_value(&route)));
        }
        let span = self
            .tracer
            .span_builder(span_name(method, &route))
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &parent);
        let cx = parent.with_span(span);
        request.extensions_mut().insert(TraceContext(cx.clone()));
        let mut open = OpenSpan {
            cx: cx.clone(),
            method,
            route,
            ended: false,
        };
        let response = next.run(request).with_context(cx);
        async move {
            let response = response.await;
            open.answered(&response);
            response
        }
    }
}

/// The span's name: the method and the route, or the method alone (`HTTP` for a method of
/// no standard name), as the conventions say.
fn span_name(method: &'static str, route: &RouteName) -> Cow<'static, str> {
    let method = if method == "_OTHER" { "HTTP" } else { method };
    match route {
        RouteName::Unmatched => Cow::Borrowed(method),
        known => Cow::Owned(format!("{method} {}", known.as_str())),
    }
}

/// The route as an attribute value, shared rather than copied where it can be.
fn route_value(route: &RouteName) -> Value {
    match route {
        RouteName::Matched(template) => Value::String(StringValue::from(template.clone())),
        other => Value::from(other.as_str().to_owned()),
    }
}

/// What is known of a request when it arrives.
fn request_attributes(request: &Request, method: &'static str) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(12);
    attributes.push(KeyValue::new("http.request.method", method));
    if method == "_OTHER" {
        attributes.push(KeyValue::new(
            "http.request.method_original",
            request.method().as_str().to_owned(),
        ));
    }
    let uri = request.uri();
    attributes.push(KeyValue::new("url.path", uri.path().to_owned()));
    if let Some(query) = uri.query() {
        attributes.push(KeyValue::new("url.query", redact_query(query)));
    }
    attributes.push(KeyValue::new("url.scheme", scheme(request)));
    let host = uri
        .authority()
        .map(|authority| authority.as_str())
        .or_else(|| {
            request
                .headers()
                .get(HOST)
                .and_then(|host| host.to_str().ok())
        });
    if let Some((address, port)) = host.and_then(split_host) {
        attributes.push(KeyValue::new("server.address", address.to_owned()));
        if let Some(port) = port {
            attributes.push(KeyValue::new("server.port", i64::from(port)));
        }
    }
    if let Some(ClientAddr(client)) = request.extensions().get::<ClientAddr>() {
        attributes.push(KeyValue::new("client.address", client.ip().to_string()));
        attributes.push(KeyValue::new("client.port", i64::from(client.port())));
    }
    if let Some(agent) = request
        .headers()
        .get(USER_AGENT)
        .and_then(|agent| agent.to_str().ok())
    {
        attributes.push(KeyValue::new("user_agent.original", agent.to_owned()));
    }
    let version = match request.version() {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    };
    attributes.push(KeyValue::new("network.protocol.version", version));
    attributes
}

/// `https` for a request that came over TLS or says so in its URI, `http` otherwise.
fn scheme(request: &Request) -> &'static str {
    #[cfg(feature = "tls")]
    if request.extensions().get::<crate::tls::TlsInfo>().is_some() {
        return "https";
    }
    match request.uri().scheme_str() {
        Some(scheme) if scheme.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    }
}

/// A `Host` value's name (an IPv6 address without its brackets) and port.
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = host.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|port| port.parse().ok());
        return Some((address, port));
    }
    match host.rsplit_once(':') {
        Some((address, port)) => Some((address, port.parse().ok())),
        None if !host.is_empty() => Some((host, None)),
        None => None,
    }
}

/// The query with the values of the parameters that carry signatures or credentials in URLs
/// (those the conventions name) replaced by `REDACTED`.
fn redact_query(query: &str) -> String {
    const SECRET: [&str; 4] = ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET.contains(&name) => Cow::Owned(format!("{name}=REDACTED")),
            _ => Cow::Borrowed(pair),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A request's span until it ends: with its response, or, if the request is dropped first,
/// as cancelled (the client went away) or as a panic on its way out.
struct OpenSpan {
    cx: Context,
    method: &'static str,
    route: RouteName,
    ended: bool,
}

impl OpenSpan {
    fn answered(&mut self, response: &Response) {
        self.ended = true;
        let span = self.cx.span();
        if !span.is_recording() {
            return;
        }
        if let RouteName::Unmatched = self.route {
            let route = RouteName::Unmatched.settle(response);
            if !matches!(route, RouteName::Unmatched) {
                span.update_name(span_name(self.method, &route));
                span.set_attribute(KeyValue::new("http.route", route_value(&route)));
            }
        }
        let status = response.status();
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status.as_u16()),
        ));
        if let Some(Panicked(message)) = response.extensions().get::<Panicked>() {
            span.add_event(
                "exception",
                vec![
                    KeyValue::new("exception.type", "panic"),
                    KeyValue::new("exception.message", message.to_string()),
                ],
            );
        }
        // Server spans fail for a 5xx only: a 4xx is the client's mistake, not the server's.
        if status.is_server_error() {
            span.set_attribute(KeyValue::new("error.type", status.as_str().to_owned()));
            let description = status.canonical_reason().unwrap_or("server error");
            span.set_status(Status::error(description));
        }
        span.end();
    }
}

impl Drop for OpenSpan {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let span = self.cx.span();
        if std::thread::panicking() {
            // The panic becomes a 500 further out.
            span.add_event("exception", vec![KeyValue::new("exception.type", "panic")]);
            span.set_attribute(KeyValue::new("http.response.status_code", 500));
            span.set_attribute(KeyValue::new("error.type", "500"));
            span.set_status(Status::error("a handler or middleware panicked"));
        } else {
            span.set_attribute(KeyValue::new("error.type", "cancelled"));
            span.set_status(Status::error("the client went away before the response"));
        }
        span.end();
    }
}

/// The trace a request belongs to, for a handler or a dependency: its server span, opened by
/// [`OpenTelemetry`], to pass on to the services it calls ([`inject`](Self::inject)) or to
/// open spans of its own under.
///
/// Where no [`OpenTelemetry`] middleware runs, it holds no span: [`inject`](Self::inject)
/// writes nothing, and [`span_context`](Self::span_context) is invalid.
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::telemetry::{OpenTelemetry, TraceContext};
/// use portico_http::telemetry::opentelemetry_sdk::trace::SdkTracerProvider;
///
/// async fn call_stock_service(trace: TraceContext) -> String {
///     let mut headers = http::HeaderMap::new();
///     trace.inject(&mut headers);
///     // ... send the request with `headers` ...
///     headers["traceparent"].to_str().unwrap().to_owned()
/// }
///
/// let provider = SdkTracerProvider::builder().build();
/// let app = App::new()
///     .get("/", call_stock_service)
///     .add_middleware(OpenTelemetry::new(provider));
/// let client = portico::testing::blocking_client(app);
/// let sent = client
///     .get("/")
///     .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
///     .send()
///     .text();
/// // Same trace, the server span as the parent, sampled.
/// assert!(sent.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
/// assert!(!sent.contains("b7ad6b7169203331"));
/// assert!(sent.ends_with("-01"));
/// ```
#[derive(Clone, Debug)]
pub struct TraceContext(Context);

impl TraceContext {
    /// The OpenTelemetry context: the request's server span, current, and what the parent's
    /// context carried.
    pub fn context(&self) -> &Context {
        &self.0
    }

    /// The server span's identity: trace id, span id, flags and `tracestate`.
    pub fn span_context(&self) -> SpanContext {
        self.0.span().span_context().clone()
    }

    /// Writes the W3C `traceparent` (and `tracestate`, if there is one) for a request to
    /// another service, naming the server span as its parent. Writes nothing without a span.
    pub fn inject(&self, headers: &mut http::HeaderMap) {
        TraceContextPropagator::new().inject_context(&self.0, &mut HeaderInjector(headers));
    }
}

impl FromRequestParts for TraceContext {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(parts
            .extensions
            .get::<TraceContext>()
            .cloned()
            .unwrap_or_else(|| TraceContext(Context::new())))
    }
}

#[cfg(test)]
mod tests {
    use super::{redact_query, split_host};

    #[test]
    fn hosts_split_into_name_and_port() {
        assert_eq!(split_host("example.com"), Some(("example.com", None)));
        assert_eq!(
            split_host("example.com:8080"),
            Some(("example.com", Some(8080)))
        );
        assert_eq!(split_host("[::1]:80"), Some(("::1", Some(80))));
        assert_eq!(split_host("[::1]"), Some(("::1", None)));
        assert_eq!(split_host(""), None);
    }

    #[test]
    fn signatures_in_queries_are_redacted() {
        assert_eq!(redact_query("a=1&b=2"), "a=1&b=2");
        assert_eq!(
            redact_query("page=2&sig=abc&Signature=x"),
            "page=2&sig=REDACTED&Signature=REDACTED"
        );
    }
}
