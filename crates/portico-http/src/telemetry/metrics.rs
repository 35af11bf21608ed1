//! [`Metrics`]: request counts, durations and gauges, served in Prometheus's text format.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use portico_openapi::OperationDoc;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::{RouteName, method_label, status_class};
use crate::context::RequestContext;
use crate::handler::Handler;
use crate::middleware::{Middleware, Next};
use crate::{Body, IntoResponse, Request, Response};

/// The bounds of the duration histogram's buckets, in seconds: those OpenTelemetry's HTTP
/// conventions recommend for `http.server.request.duration`.
const DEFAULT_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Prometheus's text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// OpenMetrics' text format, for a scraper that asks for it (Prometheus does).
const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Counts and times the requests it sees, and serves what it measured at a route of the
/// application's choosing ([`endpoint`](Self::endpoint)), in Prometheus's text format. The
/// families and their labels are listed in the [module docs](super).
///
/// Add it to the application to measure every request, 404s included; to a router or a route
/// to measure only theirs. One `Metrics` may be added in several places (clones share what
/// they measure); a request that passes two of them is counted twice.
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::telemetry::Metrics;
///
/// async fn boom() -> portico_http::HttpError {
///     portico_http::HttpError::new(http::StatusCode::SERVICE_UNAVAILABLE)
/// }
///
/// let metrics = Metrics::new();
/// let app = App::new()
///     .get("/boom", boom)
///     .get("/metrics", metrics.endpoint())
///     .add_middleware(metrics);
/// let client = portico::testing::blocking_client(app);
/// assert_eq!(client.get("/boom").send().status(), 503);
/// let page = client.get("/metrics").send();
/// assert_eq!(page.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
/// assert!(page.text().contains(
///     r#"http_server_requests_total{method="GET",route="/boom",status_class="5xx"} 1"#
/// ));
/// ```
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Family<RequestLabels, Histogram, Buckets>,
    in_flight: Family<MethodLabels, Gauge>,
    connections: Gauge,
    threads_busy: Gauge,
    threads_limit: Gauge,
    threads_waiting: Gauge,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("registry", &self.inner.registry)
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The labels of a request once answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: RouteName,
    status_class: &'static str,
}

/// The labels of a request in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

impl EncodeLabelValue for RouteName {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// Makes the duration histogram of a new label set.
#[derive(Clone, Debug)]
struct Buckets(Arc<[f64]>);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

/// Settings of a [`Metrics`]: a registry of your own, and the duration buckets.
///
/// # Examples
///
/// ```
/// use portico_http::telemetry::Metrics;
/// use portico_http::telemetry::prometheus_client::metrics::counter::Counter;
/// use portico_http::telemetry::prometheus_client::registry::Registry;
///
/// let orders = Counter::<u64>::default();
/// let mut registry = Registry::default();
/// registry.register("shop_orders", "Orders placed", orders.clone());
/// let metrics = Metrics::builder()
///     .registry(registry)
///     .buckets([0.001, 0.01, 0.1, 1.0])
///     .build();
/// orders.inc(); // shown on the same page as the request metrics
/// # drop(metrics);
/// ```
#[derive(Debug)]
pub struct MetricsBuilder {
    registry: Registry,
    buckets: Vec<f64>,
}

impl MetricsBuilder {
    /// Registers the request metrics in `registry`, beside the metrics it holds already, which
    /// the page then shows too (with its prefix and labels, if it has some).
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// The upper bounds of the duration histogram's buckets, in seconds (the bucket past the
    /// last, `+Inf`, is always there). By default those OpenTelemetry recommends, from 5 ms to
    /// 10 s.
    pub fn buckets(mut self, bounds: impl IntoIterator<Item = f64>) -> Self {
        self.buckets = bounds.into_iter().collect();
        self
    }

    /// The metrics, registered.
    pub fn build(self) -> Metrics {
        let MetricsBuilder {
            mut registry,
            buckets,
        } = self;
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Family::new_with_constructor(Buckets(buckets.into()));
        let in_flight = Family::<MethodLabels, Gauge>::default();
        let (connections, threads_busy, threads_limit, threads_waiting): (
            Gauge,
            Gauge,
            Gauge,
            Gauge,
        ) = Default::default();
        registry.register(
            "http_server_requests",
            "Requests answered, by method, route template and status class",
            requests.clone(),
        );
        registry.register(
            "http_server_request_duration_seconds",
            "Time from a request's arrival to its response head",
            duration.clone(),
        );
        registry.register(
            "http_server_requests_in_flight",
            "Requests being answered, by method",
            in_flight.clone(),
        );
        registry.register(
            "http_server_open_connections",
            "Connections open to the application's servers, WebSockets included",
            Gauge::clone(&connections),
        );
        registry.register(
            "http_server_threads_busy",
            "Threads running plain fn handlers and dependencies: the thread limiter's borrowed tokens",
            Gauge::clone(&threads_busy),
        );
        registry.register(
            "http_server_threads_limit",
            "The most threads plain fn handlers and dependencies may use at once: the thread limiter's tokens",
            Gauge::clone(&threads_limit),
        );
        registry.register(
            "http_server_threads_waiting",
            "Plain fn handlers and dependencies waiting for a thread",
            Gauge::clone(&threads_waiting),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                requests,
                duration,
                in_flight,
                connections,
                threads_busy,
                threads_limit,
                threads_waiting,
            }),
        }
    }
}

impl Metrics {
    /// Request metrics with the default buckets, in a registry of their own.
    pub fn new() -> Self {
        Metrics::builder().build()
    }

    /// Settings: a registry of your own, the duration buckets.
    pub fn builder() -> MetricsBuilder {
        MetricsBuilder {
            registry: Registry::default(),
            buckets: DEFAULT_BUCKETS.to_vec(),
        }
    }

    /// The handler that serves the page: add it with `.get("/metrics", metrics.endpoint())`.
    /// It answers in Prometheus's text format (`text/plain; version=0.0.4`), or in
    /// OpenMetrics' when the `Accept` header asks for `application/openmetrics-text`. The
    /// connection and thread gauges are read when the page is served, from the application
    /// that serves it.
    pub fn endpoint(&self) -> MetricsEndpoint {
        MetricsEndpoint {
            metrics: self.clone(),
        }
    }

    /// The page, with the gauges of `ctx`'s application.
    fn page(&self, ctx: &RequestContext, openmetrics: bool) -> Result<String, fmt::Error> {
        let inner = &self.inner;
        let app = &ctx.app;
        inner
            .connections
            .set(i64::try_from(app.running.open_connections()).unwrap_or(i64::MAX));
        let threads = app.thread_limiter().statistics();
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        inner.threads_busy.set(gauge(threads.borrowed_tokens));
        inner.threads_limit.set(gauge(threads.total_tokens));
        inner.threads_waiting.set(gauge(threads.tasks_waiting));
        let mut page = String::with_capacity(4096);
        if openmetrics {
            prometheus_client::encoding::text::encode(&mut page, &inner.registry)?;
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut page, &inner.registry)?;
        }
        Ok(page)
    }
}

/// A request on its way through [`Metrics`]: it leaves the in-flight gauge however it ends,
/// and is counted once answered.
struct Measured {
    inner: Arc<Inner>,
    method: &'static str,
    route: RouteName,
    start: Instant,
    in_flight: Gauge,
    answered: bool,
}

impl Measured {
    fn answered(&mut self, route: RouteName, status: http::StatusCode) {
        self.answered = true;
        let labels = RequestLabels {
            method: self.method,
            route,
            status_class: status_class(status),
        };
        self.inner.requests.get_or_create(&labels).inc();
        self.inner
            .duration
            .get_or_create(&labels)
            .observe(self.start.elapsed().as_secs_f64());
    }
}

impl Drop for Measured {
    fn drop(&mut self) {
        self.in_flight.dec();
        // Unwinding from a panic below: the request is answered 500 further out. Otherwise the
        // client went away, and the request has no status to be counted under.
        if !self.answered && std::thread::panicking() {
            let route = std::mem::replace(&mut self.route, RouteName::Unmatched);
            self.answered(route, http::StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}

impl Middleware for Metrics {
    const READS_ROUTE: bool = true;

    fn call(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send {
        let method = method_label(request.method());
        let in_flight = self
            .inner
            .in_flight
            .get_or_create(&MethodLabels { method })
            .clone();
        in_flight.inc();
        let mut measured = Measured {
            inner: self.inner.clone(),
            method,
            route: RouteName::at_start(&next),
            start: Instant::now(),
            in_flight,
            answered: false,
        };
        let response = next.run(request);
        async move {
            let response = response.await;
            let route = std::mem::replace(&mut measured.route, RouteName::Unmatched);
            measured.answered(route.settle(&response), response.status());
            response
        }
    }
}

/// The handler of the metrics page, from [`Metrics::endpoint`].
#[derive(Clone, Debug)]
pub struct MetricsEndpoint {
    metrics: Metrics,
}

// Not offered by the compiler as an example when a function is not a handler.
#[diagnostic::do_not_recommend]
impl Handler<MetricsEndpoint> for MetricsEndpoint {
    fn call(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> impl Future<Output = Response> + Send + 'static {
        let openmetrics = request
            .headers()
            .get_all(ACCEPT)
            .iter()
            .any(|accept| accept.to_str().is_ok_and(asks_for_openmetrics));
        let response = match self.metrics.page(&ctx, openmetrics) {
            Ok(page) => {
                let content_type = if openmetrics {
                    OPENMETRICS_TEXT
                } else {
                    PROMETHEUS_TEXT
                };
                let mut response = Response::new(Body::from(page));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                response
            }
            Err(_) => {
                tracing::error!("the metrics could not be written");
                crate::response::internal_error()
            }
        };
        std::future::ready(response)
    }

    fn describe(doc: &mut OperationDoc) {
        <String as IntoResponse>::describe_response(doc);
    }

    fn is_blocking() -> bool {
        false
    }
}

/// Whether an `Accept` header lists OpenMetrics' text format (with a weight above zero).
fn asks_for_openmetrics(accept: &str) -> bool {
    accept.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let refused = parts.any(|param| {
            param
                .strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::asks_for_openmetrics;

    #[test]
    fn openmetrics_is_served_to_those_who_ask() {
        let prometheus = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
            application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        assert!(asks_for_openmetrics(prometheus));
        assert!(!asks_for_openmetrics("text/plain"));
        assert!(!asks_for_openmetrics("*/*"));
        assert!(!asks_for_openmetrics("application/openmetrics-text;q=0"));
    }
}
