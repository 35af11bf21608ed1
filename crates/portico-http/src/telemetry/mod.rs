//! Telemetry: request metrics for Prometheus (the `metrics` feature) and OpenTelemetry traces
//! (the `otel` feature), each a middleware.
//!
//! Both label a request with the template of the route that answered it (`/items/{item_id}`),
//! never with its path, whose values are unbounded. Added to the application, they see every
//! request (404s and mounted services included) and learn the route from the response's
//! [`MatchedRoute`]; added to a router or a route, they see only its requests, and know the
//! route from the start.
//!
//! # Metrics
//!
//! [`Metrics`] counts requests and times them, per method, route and status class, and serves
//! them at a route the application chooses, in Prometheus's text format (or OpenMetrics, when
//! the scraper asks for it):
//!
//! ```
//! # #[cfg(feature = "metrics")] {
//! use portico_http::telemetry::Metrics;
//! use portico_http::{App, Path};
//!
//! async fn item(Path(id): Path<u32>) -> String {
//!     format!("item {id}")
//! }
//!
//! let metrics = Metrics::new();
//! let app = App::new()
//!     .get("/items/{id}", item)
//!     .get("/metrics", metrics.endpoint())
//!     .add_middleware(metrics);
//!
//! let client = portico::testing::blocking_client(app);
//! client.get("/items/1").send();
//! client.get("/items/2").send();
//! let page = client.get("/metrics").send().text();
//! assert!(page.contains(
//!     r#"http_server_requests_total{method="GET",route="/items/{id}",status_class="2xx"} 2"#
//! ));
//! # }
//! ```
//!
//! | family | type | labels | what |
//! | --- | --- | --- | --- |
//! | `http_server_requests_total` | counter | `method`, `route`, `status_class` | requests answered |
//! | `http_server_request_duration_seconds` | histogram | `method`, `route`, `status_class` | time from the request's arrival to its response head |
//! | `http_server_requests_in_flight` | gauge | `method` | requests being answered |
//! | `http_server_open_connections` | gauge | | connections open to the application's servers, WebSockets included |
//! | `http_server_threads_busy`, `http_server_threads_limit` | gauge | | tokens of the thread limiter plain `fn` handlers run under: borrowed now, and in all |
//!
//! `route` is empty for a request no route matched (a 404, a mounted service); `method` is
//! one of the standard methods or `_OTHER`; `status_class` is `1xx` to `5xx`. A request whose
//! client went away before its answer is counted in no family but the in-flight gauge, which
//! it leaves. The in-flight gauge has no `route`: a request starts before it is routed
//! (OpenTelemetry's `http.server.active_requests` has none, for the same reason).
//!
//! # Traces
//!
//! [`OpenTelemetry`] opens a server span for each request with the HTTP semantic conventions,
//! continues the trace of a W3C `traceparent` header, and exports the spans over OTLP/HTTP
//! from a thread of its own. Handlers reach the trace with [`TraceContext`], to pass it on to
//! the services they call:
//!
//! ```no_run
//! # #[cfg(feature = "otel")] {
//! use portico_http::App;
//! use portico_http::telemetry::{OpenTelemetry, TraceContext};
//!
//! async fn checkout(trace: TraceContext) -> String {
//!     let mut headers = http::HeaderMap::new();
//!     trace.inject(&mut headers); // `traceparent` for the call to the next service
//!     format!("{:?}", headers.get("traceparent"))
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = App::new()
//!     .post("/checkout", checkout)
//!     .add_middleware(OpenTelemetry::otlp("http://127.0.0.1:4318", "shop")?);
//! # drop(app);
//! # Ok(())
//! # }
//! # }
//! ```
//!
//! A span looks like this (attributes of the stable HTTP server conventions):
//!
//! | field | value |
//! | --- | --- |
//! | name | `POST /checkout` (the method and route; the method alone for a request no route matched) |
//! | kind | server |
//! | parent | the span of the request's `traceparent`, if it carries a valid one; `tracestate` kept |
//! | `http.request.method` | `POST` (`_OTHER`, and `http.request.method_original`, for another method) |
//! | `url.path`, `url.query`, `url.scheme` | `/checkout`, the query as received (the values of signature parameters redacted), `http` or `https` |
//! | `http.route` | `/checkout` |
//! | `http.response.status_code` | `201` |
//! | `server.address`, `server.port` | from the `Host` header |
//! | `client.address`, `client.port` | the peer, or the client behind a trusted proxy ([`ProxyHeaders`](crate::proxy::ProxyHeaders)) |
//! | `user_agent.original`, `network.protocol.version` | the `User-Agent` header, `1.1` or `2` |
//! | status, `error.type` | error, with the status code as the type, for a 5xx (not for a 4xx: the client's fault); a handler's panic adds an `exception` event with its message; a request whose client went away ends with `error.type` `cancelled` |

#[cfg(feature = "metrics")]
mod metrics;
#[cfg(feature = "otel")]
mod otel;
#[cfg(feature = "otel")]
mod otlp;

#[cfg(feature = "metrics")]
pub use metrics::{Metrics, MetricsBuilder, MetricsEndpoint};
/// OpenTelemetry's API, at the version this crate speaks: for [`TraceContext`]'s types and a
/// tracer provider of your own.
#[cfg(feature = "otel")]
pub use opentelemetry;
/// OpenTelemetry's SDK, at the version this crate speaks: for a tracer provider of your own
/// (samplers, processors, exporters) given to [`OpenTelemetry::new`].
#[cfg(feature = "otel")]
pub use opentelemetry_sdk;
#[cfg(feature = "otel")]
pub use otel::{OpenTelemetry, TraceContext};
#[cfg(feature = "otel")]
pub use otlp::OtlpError;
/// Prometheus's client, at the version this crate speaks: for metrics of your own on the same
/// page ([`MetricsBuilder::registry`]).
#[cfg(feature = "metrics")]
pub use prometheus_client;

use std::sync::Arc;

use http::Method;

use crate::context::RouteSpec;
use crate::middleware::{MatchedRoute, Next};
use crate::response::Response;

/// The route of a request, as telemetry names it: its template, or nothing for a request no
/// route matched. Compared, hashed and printed as the template, whichever way it was learnt.
#[derive(Clone, Debug)]
enum RouteName {
    /// No route matched (a 404, a mounted service), or none is known yet.
    Unmatched,
    /// From the response's [`MatchedRoute`], in the application's middleware.
    Matched(Arc<str>),
    /// From the route itself, in a router's or a route's middleware.
    Declared(Arc<RouteSpec>),
}

impl RouteName {
    /// What a middleware knows before the request goes on: the route, after routing.
    fn at_start(next: &Next) -> Self {
        match next.route_spec() {
            Some(spec) => RouteName::Declared(spec.clone()),
            None => RouteName::Unmatched,
        }
    }

    /// What the response tells, for a middleware that ran before routing.
    fn settle(self, response: &Response) -> Self {
        match self {
            RouteName::Unmatched => match response.extensions().get::<MatchedRoute>() {
                Some(route) => RouteName::Matched(route.as_arc().clone()),
                None => RouteName::Unmatched,
            },
            known => known,
        }
    }

    fn as_str(&self) -> &str {
        match self {
            RouteName::Unmatched => "",
            RouteName::Matched(template) => template,
            RouteName::Declared(spec) => spec.template(),
        }
    }
}

impl PartialEq for RouteName {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteName {}

impl std::hash::Hash for RouteName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// The method as a label: one of the standard methods, `_OTHER` for any other, so that a
/// client cannot add label values at will.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}

/// The status's class: `1xx` to `5xx`.
#[cfg(feature = "metrics")]
fn status_class(status: http::StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(
            method_label(&Method::from_bytes(b"PURGE").unwrap()),
            "_OTHER"
        );
    }

    #[test]
    #[cfg(feature = "metrics")]
    fn statuses_fall_in_their_class() {
        use http::StatusCode;
        assert_eq!(status_class(StatusCode::CONTINUE), "1xx");
        assert_eq!(status_class(StatusCode::NO_CONTENT), "2xx");
        assert_eq!(status_class(StatusCode::NOT_MODIFIED), "3xx");
        assert_eq!(status_class(StatusCode::UNPROCESSABLE_ENTITY), "4xx");
        assert_eq!(status_class(StatusCode::SERVICE_UNAVAILABLE), "5xx");
    }
}
