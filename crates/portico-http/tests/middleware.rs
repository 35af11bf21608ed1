//! Function middleware on the application, routers and routes: their order, what they see,
//! bodies read in a middleware, errors and panics in one, the timeout and request id
//! middleware, and tower interop.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use portico::middleware::{Next, RequestId, SetRequestId, Timeout, read_body};
use portico::testing::blocking_client_on;
use portico::{App, BodyError, HttpError, Json, Request, Response, Route, Router, RuntimeKind};
use serde_json::{Value, json};
use support::{roundtrip, serve};

/// A middleware that notes its name on the way in (request header) and out (response
/// header), so that a test reads the order both ways.
fn tracer(
    name: &'static str,
) -> impl Fn(Request, Next) -> futures_lite::future::Boxed<Response> + Clone {
    move |mut request: Request, next: Next| {
        let seen = request
            .headers()
            .get("x-in")
            .map(|v| format!("{},{name}", v.to_str().unwrap()))
            .unwrap_or_else(|| name.to_owned());
        request
            .headers_mut()
            .insert("x-in", HeaderValue::from_str(&seen).unwrap());
        Box::pin(async move {
            let mut response = next.run(request).await;
            let out = response
                .headers()
                .get("x-out")
                .map(|v| format!("{},{name}", v.to_str().unwrap()))
                .unwrap_or_else(|| name.to_owned());
            response
                .headers_mut()
                .insert("x-out", HeaderValue::from_str(&out).unwrap());
            response
        })
    }
}

async fn show_in(request: Request) -> String {
    request
        .headers()
        .get("x-in")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn layered() -> App {
    let router = Router::new()
        .prefix("/r")
        .route(
            Route::get("/inner", show_in)
                .middleware(tracer("route1"))
                .middleware(tracer("route2")),
        )
        .get("/plain", show_in)
        .middleware(tracer("router"));
    App::new()
        .include(router)
        .get("/top", show_in)
        .middleware(tracer("app1"))
        .middleware(tracer("app2"))
}

#[portico::test]
fn the_last_middleware_added_is_the_outermost(rt: RuntimeKind) {
    let client = blocking_client_on(rt, layered());
    let response = client.get("/r/inner").send();
    assert_eq!(response.text(), "app2,app1,router,route2,route1");
    assert_eq!(
        response.header("x-out"),
        Some("route1,route2,router,app1,app2")
    );
    // A router's middleware runs for its routes only; the application's for every request,
    // a 404 included.
    assert_eq!(client.get("/r/plain").send().text(), "app2,app1,router");
    assert_eq!(client.get("/top").send().text(), "app2,app1");
    let missing = client.get("/nowhere").send();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.header("x-out"), Some("app1,app2"));
    assert_eq!(missing.text(), r#"{"detail":"Not Found"}"#);
}

async fn echo_json(Json(value): Json<Value>) -> Json<Value> {
    Json(value)
}

async fn count_body(request: Request, next: Next) -> Result<Response, BodyError> {
    let (request, body) = read_body(request, 64 * 1024).await?;
    let size = body.len().to_string();
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert("x-body-size", HeaderValue::from_str(&size).unwrap());
    Ok(response)
}

fn body_app() -> App {
    App::new().post("/echo", echo_json).middleware(count_body)
}

#[portico::test]
fn a_middleware_reads_the_body_and_the_handler_still_gets_it(rt: RuntimeKind) {
    let client = blocking_client_on(rt, body_app());
    let response = client.post("/echo").json(&json!({"a": [1, 2, 3]})).send();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>(), json!({"a": [1, 2, 3]}));
    assert_eq!(response.header("x-body-size"), Some("13"));
    // Past the middleware's limit: its 413, not a hang.
    let big = format!("\"{}\"", "x".repeat(70 * 1024));
    let response = client
        .post("/echo")
        .header("content-type", "application/json")
        .body(big)
        .send();
    assert_eq!(response.status(), 413);
}

#[portico::test]
async fn a_body_read_in_a_middleware_reaches_the_handler_over_a_socket() {
    let server = serve(body_app());
    let body = format!(r#"{{"text":"{}"}}"#, "y".repeat(40_000));
    // Sent in chunks, so that the body really streams in.
    let request = format!(
        "POST /echo HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        20_000,
        &body[..20_000],
        body.len() - 20_000,
        &body[20_000..]
    );
    let response = roundtrip(server.local_addr(), &request).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("x-body-size"),
        Some(&*body.len().to_string())
    );
    assert_eq!(response.json()["text"].as_str().unwrap().len(), 40_000);
    server.shutdown();
}

async fn guard(request: Request, next: Next) -> Result<Response, HttpError> {
    if request.headers().get("x-token").is_none() {
        return Err(HttpError::new(http::StatusCode::FORBIDDEN).detail("no token"));
    }
    Ok(next.run(request).await)
}

async fn explode(_request: Request, _next: Next) -> Response {
    panic!("middleware boom")
}

#[portico::test]
fn errors_and_panics_in_middleware_become_responses(rt: RuntimeKind) {
    let app = App::new()
        .get("/", || async { "in" })
        .route(Route::get("/boom", || async { "never" }).middleware(explode))
        .middleware(guard);
    let client = blocking_client_on(rt, app);
    let refused = client.get("/").send();
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.text(), r#"{"detail":"no token"}"#);
    assert_eq!(client.get("/").header("x-token", "t").send().text(), "in");
    let boom = client.get("/boom").header("x-token", "t").send();
    assert_eq!(boom.status(), 500);
    assert_eq!(boom.text(), "Internal Server Error");
    // The application lives on.
    assert_eq!(client.get("/").header("x-token", "t").send().text(), "in");
}

/// A middleware that panics before it has a future: in the code that builds it.
struct ExplodeAtOnce;

impl portico::middleware::Middleware for ExplodeAtOnce {
    #[allow(unreachable_code, reason = "the panic is the point")]
    fn call(&self, _request: Request, _next: Next) -> impl Future<Output = Response> + Send {
        panic!("middleware boom before its future");
        async { Response::default() }
    }
}

#[portico::test]
fn a_panic_before_a_middleware_has_a_future_is_a_500_too(rt: RuntimeKind) {
    let app = App::new()
        .get("/", || async { "in" })
        .route(Route::get("/route", || async { "never" }).add_middleware(ExplodeAtOnce))
        .include(
            Router::new()
                .prefix("/router")
                .get("/", || async { "never" })
                .add_middleware(ExplodeAtOnce),
        )
        .route(Route::get("/fn", || async { "never" }).middleware(
            |_request: Request, _next: Next| -> futures_lite::future::Boxed<Response> {
                panic!("function middleware boom before its future")
            },
        ));
    let client = blocking_client_on(rt, app);
    // A router's `/` is its prefix with a slash, as in FastAPI.
    for path in ["/route", "/router/", "/fn"] {
        let response = client.get(path).send();
        assert_eq!(response.status(), 500, "{path}");
        assert_eq!(response.text(), "Internal Server Error", "{path}");
    }
    assert_eq!(client.get("/").send().text(), "in");
    // On the application: every request.
    let app = App::new()
        .get("/", || async { "never" })
        .add_middleware(ExplodeAtOnce);
    let client = blocking_client_on(rt, app);
    assert_eq!(client.get("/").send().status(), 500);
    assert_eq!(client.get("/missing").send().status(), 500);
}

#[portico::test]
async fn a_middleware_panic_over_a_socket_keeps_the_connection() {
    let app = App::new()
        .get("/", || async { "fine" })
        .route(Route::get("/boom", || async { "never" }).middleware(explode));
    let server = serve(app);
    let mut conn = support::Conn::open(server.local_addr()).await;
    conn.send(b"GET /boom HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().status, 500);
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().text(), "fine");
    server.shutdown();
}

struct Flag(Arc<AtomicBool>);

impl Drop for Flag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[portico::test]
fn the_timeout_cancels_the_handler_and_answers_504(rt: RuntimeKind) {
    let dropped = Arc::new(AtomicBool::new(false));
    let seen = dropped.clone();
    let slow = move || {
        let flag = Flag(seen.clone());
        async move {
            let _flag = flag;
            std::future::pending::<()>().await;
            "never"
        }
    };
    let app = App::new()
        .get("/slow", slow)
        .get("/fast", || async { "quick" })
        .add_middleware(Timeout::new(Duration::from_millis(100)));
    let client = blocking_client_on(rt, app);
    let response = client.get("/slow").send();
    assert_eq!(response.status(), 504);
    assert_eq!(response.text(), r#"{"detail":"Gateway Timeout"}"#);
    assert!(dropped.load(Ordering::SeqCst), "the handler was cancelled");
    assert_eq!(client.get("/fast").send().text(), "quick");
}

/// A plain `fn` handler cannot be interrupted on its thread: the client gets its 504 at the
/// deadline while the function still runs, and the function is left to finish.
#[portico::test]
fn the_timeout_answers_504_without_waiting_for_a_blocking_handler(rt: RuntimeKind) {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Arc::new(std::sync::Mutex::new(released));
    let finished = Arc::new(AtomicBool::new(false));
    let (done, seen_done) = (finished.clone(), finished.clone());
    let stuck = move || {
        // Blocks until the test lets it go (or 30 s pass, so that a failure cannot hang).
        let _ = released
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(30));
        done.store(true, Ordering::SeqCst);
        "late"
    };
    let app = App::new()
        .get("/stuck", stuck)
        .add_middleware(Timeout::new(Duration::from_millis(100)));
    let client = blocking_client_on(rt, app);
    let response = client.get("/stuck").send();
    assert_eq!(response.status(), 504);
    assert!(
        !seen_done.load(Ordering::SeqCst),
        "the 504 came before the function returned"
    );
    release.send(()).unwrap();
}

async fn which_id(id: RequestId) -> String {
    id.to_string()
}

#[portico::test]
fn request_ids_are_taken_or_made_and_echoed(rt: RuntimeKind) {
    let app = App::new()
        .get("/", which_id)
        .get("/no-id", || async { "ok" })
        .add_middleware(SetRequestId::new());
    let client = blocking_client_on(rt, app);
    let given = client.get("/").header("x-request-id", "req-42").send();
    assert_eq!(given.header("x-request-id"), Some("req-42"));
    assert_eq!(given.text(), "req-42");
    let made = client.get("/").send();
    let id = made.header("x-request-id").unwrap().to_owned();
    assert_eq!(made.text(), id);
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "a version 4 UUID: {id}");
    assert_ne!(client.get("/").send().text(), id, "a new id per request");
    // An id that is not fit to echo is replaced.
    let odd = client.get("/").header("x-request-id", "a b").send();
    assert_ne!(odd.header("x-request-id"), Some("a b"));
    assert_eq!(odd.header("x-request-id").unwrap().len(), 36);
    assert!(client.get("/no-id").send().header("x-request-id").is_some());
}

/// A function middleware that reports the request id it finds in the request's extensions.
async fn seen_id(request: Request, next: Next) -> Response {
    let seen = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.to_string())
        .unwrap_or_else(|| "none".to_owned());
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert("x-seen-id", HeaderValue::from_str(&seen).unwrap());
    response
}

#[portico::test]
fn the_request_id_reaches_handlers_function_middleware_and_tower_layers(rt: RuntimeKind) {
    use tower_http::set_header::SetResponseHeaderLayer;
    let routers = App::new()
        // Only typed middleware, which keep the id beside the request.
        .include(
            Router::new()
                .prefix("/typed")
                .get("/", which_id)
                .add_middleware(SetRequestId::new())
                .add_middleware(portico::middleware::Cors::new().allow_origins(["http://a.test"])),
        )
        // A function middleware inside a router's SetRequestId.
        .include(
            Router::new()
                .prefix("/fn")
                .get("/", which_id)
                .middleware(seen_id)
                .add_middleware(SetRequestId::new()),
        )
        // A tower layer between a route's SetRequestId and its handler.
        .route(
            Route::get("/tower", which_id)
                .layer(SetResponseHeaderLayer::overriding(
                    http::header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .add_middleware(SetRequestId::new()),
        );
    // A function middleware inside the application's SetRequestId.
    let app_wide = App::new()
        .get("/", which_id)
        .middleware(seen_id)
        .add_middleware(SetRequestId::new());
    for (app, paths) in [
        (routers, &["/typed/", "/fn/", "/tower"][..]),
        (app_wide, &["/"]),
    ] {
        let client = blocking_client_on(rt, app);
        for path in paths {
            let given = client.get(path).header("x-request-id", "req-7").send();
            assert_eq!(given.text(), "req-7", "{path}");
            assert_eq!(given.header("x-request-id"), Some("req-7"), "{path}");
            let made = client.get(path).send();
            let id = made.header("x-request-id").unwrap().to_owned();
            assert_eq!(made.text(), id, "{path}");
            assert_eq!(id.len(), 36, "{path}");
            if *path == "/fn/" || *path == "/" {
                assert_eq!(made.header("x-seen-id"), Some(id.as_str()), "{path}");
            }
            if *path == "/tower" {
                assert_eq!(made.header("x-frame-options"), Some("DENY"));
            }
        }
    }
}

/// Two `SetRequestId`, the outer one ahead of a function middleware: the handler sees the
/// innermost id, wherever the outer one left its own.
#[portico::test]
fn the_innermost_request_id_is_the_handlers(rt: RuntimeKind) {
    let app = App::new()
        .include(
            Router::new()
                .prefix("/r")
                .get("/", which_id)
                .add_middleware(
                    SetRequestId::new().header(http::HeaderName::from_static("x-inner-id")),
                ),
        )
        .middleware(seen_id)
        .add_middleware(SetRequestId::new());
    let client = blocking_client_on(rt, app);
    let response = client.get("/r/").send();
    let outer = response.header("x-request-id").unwrap();
    let inner = response.header("x-inner-id").unwrap();
    assert_ne!(outer, inner);
    assert_eq!(response.header("x-seen-id"), Some(outer));
    assert_eq!(response.text(), inner);
}

#[test]
fn taking_a_request_id_without_the_middleware_is_a_500() {
    let client = portico::testing::blocking_client(App::new().get("/", which_id));
    assert_eq!(client.get("/").send().status(), 500);
}

#[portico::test]
fn a_tower_layer_is_a_middleware(rt: RuntimeKind) {
    use tower_http::set_header::SetResponseHeaderLayer;
    let app = App::new()
        .get("/", || async { "hi" })
        .layer(SetResponseHeaderLayer::overriding(
            http::header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .middleware(tracer("outer"));
    let client = blocking_client_on(rt, app);
    let response = client.get("/").send();
    assert_eq!(response.text(), "hi");
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    assert_eq!(response.header("x-out"), Some("outer"));
    let missing = client.get("/missing").send();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.header("x-frame-options"), Some("DENY"));

    // On one route, between function middleware: the handler still gets its parameters.
    let app = App::new().route(
        Route::get(
            "/items/{id}",
            |portico::Path(id): portico::Path<u32>| async move { format!("item {id}") },
        )
        .middleware(tracer("inner"))
        .layer(SetResponseHeaderLayer::overriding(
            http::header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        ))
        .middleware(tracer("outer")),
    );
    let client = blocking_client_on(rt, app);
    let response = client.get("/items/7").send();
    assert_eq!(response.text(), "item 7");
    assert_eq!(response.header("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(response.header("x-out"), Some("inner,outer"));
}

#[portico::test]
async fn an_app_is_a_tower_service() {
    use tower::ServiceExt;
    let service = App::new().post("/echo", echo_json).into_service();
    let request = http::Request::post("/echo")
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::from_static(b"{\"n\":1}")))
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(&body[..], b"{\"n\":1}");
    let missing = service
        .oneshot(
            http::Request::get("/x")
                .body(http_body_util::Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
