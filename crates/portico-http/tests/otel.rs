//! The `OpenTelemetry` middleware against an OTLP/HTTP receiver started in the test (a Portico
//! application on a loopback port) that decodes what arrives: the server span of a request,
//! in the trace of its `traceparent`, with the HTTP semantic conventions; errors and panics
//! recorded; the trace handed on to the calls a handler makes.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use portico::telemetry::opentelemetry_sdk::trace::SdkTracerProvider;
use portico::telemetry::{OpenTelemetry, TraceContext};
use portico::{App, HttpError, Path, Router, ServerHandle, State};
use prost::Message;
use support::{Conn, Raw, serve};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// What the receiver decoded: each span with its resource's `service.name`.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Span)>>>);

async fn receive(State(received): State<Received>, body: Bytes) -> Result<Vec<u8>, HttpError> {
    let request = ExportTraceServiceRequest::decode(body)
        .map_err(|err| HttpError::bad_request().detail(err.to_string()))?;
    let mut spans = received.0.lock().unwrap();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|resource| &resource.attributes)
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                Value::StringValue(name) => Some(name.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            spans.extend(scope.spans.into_iter().map(|span| (service.clone(), span)));
        }
    }
    // An empty `ExportTraceServiceResponse`: everything accepted.
    Ok(Vec::new())
}

/// An OTLP/HTTP receiver on a free loopback port.
fn receiver() -> (ServerHandle, Received) {
    let received = Received::default();
    let app = App::new()
        .state(received.clone())
        .post("/v1/traces", receive);
    (serve(app), received)
}

async fn item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

async fn unavailable() -> Result<&'static str, HttpError> {
    Err(HttpError::new(http::StatusCode::SERVICE_UNAVAILABLE))
}

async fn boom() -> &'static str {
    panic!("boom, traced")
}

/// What a handler sends on to the next service.
async fn downstream(trace: TraceContext) -> String {
    let mut headers = http::HeaderMap::new();
    trace.inject(&mut headers);
    headers
        .get("traceparent")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The application under test, tracing to `collector`, and its tracer provider.
fn traced(collector: &ServerHandle) -> (App, SdkTracerProvider) {
    let otel = OpenTelemetry::otlp(
        &format!("http://{}", collector.local_addr()),
        "portico-test",
    )
    .unwrap();
    let provider = otel.provider().clone();
    let app = App::new()
        .get("/items/{id}", item)
        .get("/unavailable", unavailable)
        .get("/boom", boom)
        .get("/downstream", downstream)
        .add_middleware(otel);
    (app, provider)
}

/// Exports what the provider holds, on a thread (the export reaches the receiver, which runs
/// on this runtime), and gives the spans received.
async fn flushed(provider: &SdkTracerProvider, received: &Received) -> Vec<(String, Span)> {
    let provider = provider.clone();
    portico::tasks::to_thread(move || provider.force_flush())
        .await
        .expect("the spans are exported");
    received.0.lock().unwrap().clone()
}

async fn shut_down(provider: SdkTracerProvider) {
    portico::tasks::to_thread(move || provider.shutdown())
        .await
        .unwrap();
}

async fn send(conn: &mut Conn, request: &str) -> Raw {
    conn.send(request.as_bytes()).await;
    conn.response().await.expect("a response")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute(span: &Span, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone()?.value)
}

fn text(span: &Span, key: &str) -> Option<String> {
    match attribute(span, key)? {
        Value::StringValue(text) => Some(text),
        other => panic!("{key} is {other:?}, not a string"),
    }
}

fn int(span: &Span, key: &str) -> Option<i64> {
    match attribute(span, key)? {
        Value::IntValue(n) => Some(n),
        other => panic!("{key} is {other:?}, not an integer"),
    }
}

/// The one span of `spans` whose `url.path` is `path`.
fn span_of<'a>(spans: &'a [(String, Span)], path: &str) -> &'a Span {
    let found: Vec<_> = spans
        .iter()
        .filter(|(_, span)| text(span, "url.path").as_deref() == Some(path))
        .collect();
    assert_eq!(found.len(), 1, "spans of {path}: {spans:#?}");
    &found[0].1
}

/// The span kind `SERVER` and the status codes, as OTLP numbers them.
const KIND_SERVER: i32 = 2;
const STATUS_UNSET: i32 = 0;
const STATUS_ERROR: i32 = 2;

fn status_code(span: &Span) -> i32 {
    span.status
        .as_ref()
        .map_or(STATUS_UNSET, |status| status.code)
}

#[portico::test]
async fn a_request_continues_the_trace_of_its_traceparent() {
    let (collector, received) = receiver();
    let (app, provider) = traced(&collector);
    let server = serve(app);
    let mut conn = Conn::open(server.local_addr()).await;
    let response = send(
        &mut conn,
        &format!(
            "GET /items/7?page=2&sig=secret HTTP/1.1\r\nhost: shop.test:8080\r\n\
             traceparent: 00-{TRACE_ID}-{PARENT_ID}-01\r\ntracestate: vendor=blue\r\n\
             user-agent: portico-test/1.0\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(response.text(), "item 7");

    let spans = flushed(&provider, &received).await;
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let (service, span) = &spans[0];
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        assert_eq!(service, "portico-test");
    }
    assert_eq!(hex(&span.trace_id), TRACE_ID);
    assert_eq!(hex(&span.parent_span_id), PARENT_ID);
    assert_eq!(span.trace_state, "vendor=blue");
    assert_eq!(span.name, "GET /items/{id}");
    assert_eq!(span.kind, KIND_SERVER);
    assert_eq!(text(span, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(text(span, "url.path").as_deref(), Some("/items/7"));
    assert_eq!(
        text(span, "url.query").as_deref(),
        Some("page=2&sig=REDACTED")
    );
    assert_eq!(text(span, "url.scheme").as_deref(), Some("http"));
    assert_eq!(text(span, "http.route").as_deref(), Some("/items/{id}"));
    assert_eq!(int(span, "http.response.status_code"), Some(200));
    assert_eq!(text(span, "server.address").as_deref(), Some("shop.test"));
    assert_eq!(int(span, "server.port"), Some(8080));
    assert_eq!(text(span, "client.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(
        text(span, "user_agent.original").as_deref(),
        Some("portico-test/1.0")
    );
    assert_eq!(
        text(span, "network.protocol.version").as_deref(),
        Some("1.1")
    );
    assert_eq!(attribute(span, "error.type"), None);
    assert_eq!(status_code(span), STATUS_UNSET);
    assert!(span.end_time_unix_nano >= span.start_time_unix_nano);

    server.stop().await.unwrap();
    shut_down(provider).await;
    collector.stop().await.unwrap();
}

#[portico::test]
async fn a_request_without_traceparent_starts_a_trace() {
    let (collector, received) = receiver();
    let (app, provider) = traced(&collector);
    let server = serve(app);
    let mut conn = Conn::open(server.local_addr()).await;
    send(&mut conn, "GET /items/1 HTTP/1.1\r\nhost: t\r\n\r\n").await;
    // A malformed traceparent is ignored, as if absent.
    send(
        &mut conn,
        "GET /items/2 HTTP/1.1\r\nhost: t\r\ntraceparent: 00-not-a-trace-01\r\n\r\n",
    )
    .await;
    let spans = flushed(&provider, &received).await;
    for path in ["/items/1", "/items/2"] {
        let span = span_of(&spans, path);
        assert!(span.parent_span_id.is_empty(), "{span:#?}");
        assert_eq!(span.trace_id.len(), 16);
        assert_ne!(hex(&span.trace_id), "0".repeat(32));
    }
    server.stop().await.unwrap();
    shut_down(provider).await;
    collector.stop().await.unwrap();
}

#[portico::test]
async fn server_errors_and_panics_are_recorded_and_client_errors_are_not() {
    let (collector, received) = receiver();
    let (app, provider) = traced(&collector);
    let server = serve(app);
    let mut conn = Conn::open(server.local_addr()).await;
    for (path, status) in [
        ("/unavailable", 503),
        ("/boom", 500),
        ("/items/x", 422),
        ("/nowhere", 404),
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nhost: t\r\n\r\n");
        assert_eq!(send(&mut conn, &request).await.status, status);
    }
    conn.send(b"DELETE /items/1 HTTP/1.1\r\nhost: t\r\n\r\n")
        .await;
    assert_eq!(conn.response().await.unwrap().status, 405);
    let spans = flushed(&provider, &received).await;
    assert_eq!(spans.len(), 5, "{spans:#?}");

    let unavailable = span_of(&spans, "/unavailable");
    assert_eq!(status_code(unavailable), STATUS_ERROR);
    assert_eq!(text(unavailable, "error.type").as_deref(), Some("503"));
    assert_eq!(int(unavailable, "http.response.status_code"), Some(503));

    let boom = span_of(&spans, "/boom");
    assert_eq!(status_code(boom), STATUS_ERROR);
    assert_eq!(text(boom, "error.type").as_deref(), Some("500"));
    assert_eq!(text(boom, "http.route").as_deref(), Some("/boom"));
    let exception = boom
        .events
        .iter()
        .find(|event| event.name == "exception")
        .unwrap_or_else(|| panic!("no exception event: {boom:#?}"));
    let message = exception
        .attributes
        .iter()
        .find(|kv| kv.key == "exception.message")
        .and_then(|kv| kv.value.clone()?.value);
    assert_eq!(message, Some(Value::StringValue("boom, traced".into())));

    let invalid = span_of(&spans, "/items/x");
    assert_eq!(status_code(invalid), STATUS_UNSET);
    assert_eq!(attribute(invalid, "error.type"), None);
    assert_eq!(int(invalid, "http.response.status_code"), Some(422));
    assert_eq!(invalid.name, "GET /items/{id}");

    let nowhere = span_of(&spans, "/nowhere");
    assert_eq!(nowhere.name, "GET");
    assert_eq!(attribute(nowhere, "http.route"), None);
    assert_eq!(status_code(nowhere), STATUS_UNSET);

    let deleted = span_of(&spans, "/items/1");
    assert_eq!(deleted.name, "DELETE /items/{id}");
    assert_eq!(int(deleted, "http.response.status_code"), Some(405));

    server.stop().await.unwrap();
    shut_down(provider).await;
    collector.stop().await.unwrap();
}

#[portico::test]
async fn handlers_pass_the_trace_on_with_the_server_span_as_parent() {
    let (collector, received) = receiver();
    let (app, provider) = traced(&collector);
    let server = serve(app);
    let mut conn = Conn::open(server.local_addr()).await;
    let sent = send(
        &mut conn,
        &format!(
            "GET /downstream HTTP/1.1\r\nhost: t\r\ntraceparent: 00-{TRACE_ID}-{PARENT_ID}-01\r\n\r\n"
        ),
    )
    .await
    .text();
    let spans = flushed(&provider, &received).await;
    let span = span_of(&spans, "/downstream");
    assert_eq!(sent, format!("00-{TRACE_ID}-{}-01", hex(&span.span_id)));
    server.stop().await.unwrap();
    shut_down(provider).await;
    collector.stop().await.unwrap();
}

#[portico::test]
async fn on_a_router_the_span_is_named_for_its_route_from_the_start() {
    let (collector, received) = receiver();
    let otel = OpenTelemetry::otlp(
        &format!("http://{}", collector.local_addr()),
        "portico-test",
    )
    .unwrap();
    let provider = otel.provider().clone();
    let app = App::new().get("/items/{id}", item).include(
        Router::new()
            .prefix("/api")
            .get("/items/{id}", item)
            .add_middleware(otel),
    );
    let server = serve(app);
    let mut conn = Conn::open(server.local_addr()).await;
    send(&mut conn, "GET /api/items/1 HTTP/1.1\r\nhost: t\r\n\r\n").await;
    send(&mut conn, "GET /items/2 HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let spans = flushed(&provider, &received).await;
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let span = span_of(&spans, "/api/items/1");
    assert_eq!(span.name, "GET /api/items/{id}");
    assert_eq!(text(span, "http.route").as_deref(), Some("/api/items/{id}"));
    server.stop().await.unwrap();
    shut_down(provider).await;
    collector.stop().await.unwrap();
}
