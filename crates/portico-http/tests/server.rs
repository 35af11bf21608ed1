//! The server over real loopback sockets: HTTP/1.1 keep-alive and pipelining, HTTP/2 by prior
//! knowledge on the same port, timeouts, limits, broken framing, panics, the connection cap,
//! several listeners, Unix sockets, and graceful shutdown.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Full};
use portico::rt::TcpStream;
use portico::{App, EventStream, Json, Path, Route, ServerSentEvent};
use serde_json::{Value, json};
use support::{Conn, roundtrip, serve, serve_with};

fn rt() -> portico::rt::Runtime {
    portico::rt::current().unwrap()
}

async fn hello() -> &'static str {
    "Hello, World!"
}

async fn echo(Json(value): Json<Value>) -> Json<Value> {
    Json(value)
}

async fn item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

async fn slow() -> &'static str {
    rt().sleep(Duration::from_millis(300)).await;
    "slow but done"
}

async fn forever() -> &'static str {
    std::future::pending::<()>().await;
    "never"
}

async fn boom() -> &'static str {
    panic!("boom over a socket")
}

async fn count(body: Bytes) -> String {
    format!("{} bytes", body.len())
}

fn app() -> App {
    App::new()
        .get("/", hello)
        .post("/echo", echo)
        .get("/items/{id}", item)
        .get("/slow", slow)
        .get("/forever", forever)
        .get("/boom", boom)
        .route(Route::post("/count", count).body_limit(64 * 1024))
}

#[portico::test]
async fn keep_alive_and_pipelining_answer_in_order() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /items/1 HTTP/1.1\r\nhost: t\r\n\r\nGET /items/2 HTTP/1.1\r\nhost: t\r\n\r\nGET /items/3 HTTP/1.1\r\nhost: t\r\n\r\n").await;
    for n in 1..=3 {
        let response = conn.response().await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), format!("item {n}"));
    }
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().text(), "Hello, World!");
    conn.send(b"HEAD / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let head = conn.response_to("HEAD").await.unwrap();
    assert_eq!(head.header("content-length"), Some("13"));
    assert!(head.body.is_empty());
    server.stop().await.unwrap();
}

#[portico::test]
async fn http2_by_prior_knowledge_shares_the_port() {
    let server = serve(app());
    let addr = server.local_addr();
    let mut h2 = support::h2_client(addr).await;
    let request = http::Request::get(format!("http://{addr}/items/7"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = h2.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "item 7"
    );
    // Several streams at once on one connection.
    let mut pending = Vec::new();
    for n in 0..5 {
        let body = Full::new(Bytes::from(json!({"n": n}).to_string()));
        let request = http::Request::post(format!("http://{addr}/echo"))
            .header("content-type", "application/json")
            .body(body)
            .unwrap();
        pending.push(h2.send_request(request));
    }
    for (n, response) in pending.into_iter().enumerate() {
        let body = response
            .await
            .unwrap()
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!({"n": n})
        );
    }
    // HTTP/1.1 still works on the same port.
    assert_eq!(
        roundtrip(addr, "GET / HTTP/1.1\r\nhost: t\r\n\r\n")
            .await
            .status,
        200
    );
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_partial_head_times_out_with_408() {
    let server = serve_with(app(), |s| s.header_read_timeout(Duration::from_millis(300)));
    let mut conn = Conn::open(server.local_addr()).await;
    let started = Instant::now();
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\nx-slow: ").await;
    let response = conn.response().await.unwrap();
    assert_eq!(response.status, 408);
    assert_eq!(response.text(), "Request Timeout");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert!(conn.is_closed().await);
    server.stop().await.unwrap();
}

#[portico::test]
async fn idle_connections_close_quietly() {
    let server = serve_with(app(), |s| {
        s.header_read_timeout(Duration::from_millis(200))
            .keep_alive_timeout(Duration::from_millis(300))
    });
    // A connection that never sends a byte is closed after the header-read timeout.
    let mut silent = Conn::open(server.local_addr()).await;
    assert!(silent.is_closed().await);
    // One that goes quiet after a request is closed after the keep-alive timeout, with no 408.
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().status, 200);
    let idle = Instant::now();
    assert!(conn.is_closed().await);
    assert!(
        idle.elapsed() >= Duration::from_millis(250),
        "{:?}",
        idle.elapsed()
    );
    server.stop().await.unwrap();
}

#[portico::test]
async fn an_oversized_head_answers_431() {
    let server = serve(app());
    let big = "x".repeat(40 * 1024);
    let response = roundtrip(
        server.local_addr(),
        &format!("GET / HTTP/1.1\r\nhost: t\r\nx-big: {big}\r\n\r\n"),
    )
    .await;
    assert_eq!(response.status, 431);
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_never_ending_body_is_cut_at_its_limit_with_413() {
    let server = serve(app());
    let stream = TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut reader, mut writer) = futures_lite::io::split(stream);
    let sent = Arc::new(AtomicUsize::new(0));
    let sending = rt().spawn({
        let sent = sent.clone();
        async move {
            let _ = writer
                .write_all(b"POST /count HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n")
                .await;
            let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "y".repeat(16 * 1024));
            // Far more than the limit, unless the server stops listening first.
            for _ in 0..4096 {
                if writer.write_all(chunk.as_bytes()).await.is_err() {
                    break;
                }
                sent.fetch_add(16 * 1024, Ordering::Relaxed);
            }
        }
    });
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = rt()
            .timeout(Duration::from_secs(10), reader.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "the connection closed without an answer");
        received.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    // The answer came while the client was still sending: the server did not read to the end.
    assert!(
        sent.load(Ordering::Relaxed) < 4096 * 16 * 1024,
        "the whole body was read"
    );
    drop(sending);
    server.stop().await.unwrap();
}

#[portico::test]
async fn broken_framing_answers_400() {
    let server = serve(app());
    let addr = server.local_addr();
    let bad_chunk = roundtrip(addr, "POST /count HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n").await;
    assert_eq!(bad_chunk.status, 400);
    assert_eq!(
        bad_chunk.json(),
        json!({"detail": "The request body could not be read"})
    );
    // Both lengths: read by Transfer-Encoding, as RFC 9112 (section 6.3) asks, and the
    // connection closed after the answer, so that nothing can be smuggled behind it.
    let mut conn = Conn::open(addr).await;
    conn.send(b"POST /count HTTP/1.1\r\nhost: t\r\ncontent-length: 50\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let both = conn.response().await.unwrap();
    assert_eq!(both.text(), "5 bytes");
    assert_eq!(both.header("connection"), Some("close"));
    assert!(conn.is_closed().await);
    let bad_length = roundtrip(
        addr,
        "POST /count HTTP/1.1\r\nhost: t\r\ncontent-length: five\r\n\r\nhello",
    )
    .await;
    assert_eq!(bad_length.status, 400);
    let garbage = roundtrip(addr, "NOT A REQUEST\r\n\r\n").await;
    assert_eq!(garbage.status, 400);
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_target_that_is_no_path_is_not_found_not_redirected() {
    // An origin server is no proxy: `CONNECT host:port` (an empty path) and `OPTIONS *` match
    // no route; neither is redirected to `/` by the trailing-slash rule.
    let server = serve(app());
    let addr = server.local_addr();
    let connect = roundtrip(
        addr,
        "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n",
    )
    .await;
    assert_eq!(connect.status, 404);
    assert_eq!(connect.header("location"), None);
    assert_eq!(connect.json(), json!({"detail": "Not Found"}));
    let options = roundtrip(addr, "OPTIONS * HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(options.status, 404);
    assert_eq!(options.header("location"), None);
    // A path still is.
    let slash = roundtrip(addr, "GET /items/1/ HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(slash.status, 307);
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_panic_is_a_500_and_the_connection_lives_on() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /boom HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let response = conn.response().await.unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(response.text(), "Internal Server Error");
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().text(), "Hello, World!");
    server.stop().await.unwrap();
}

#[portico::test]
async fn shutdown_finishes_requests_in_flight_and_refuses_new_connections() {
    let server = serve(app());
    let addr = server.local_addr();
    let mut conn = Conn::open(addr).await;
    conn.send(b"GET /slow HTTP/1.1\r\nhost: t\r\n\r\n").await;
    rt().sleep(Duration::from_millis(50)).await;
    server.shutdown();
    rt().sleep(Duration::from_millis(50)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
    let response = conn.response().await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "slow but done");
    assert_eq!(response.header("connection"), Some("close"));
    assert!(conn.is_closed().await);
    let report = server.stopped().await.unwrap();
    assert!(report.is_graceful());
}

#[portico::test]
async fn shutdown_answers_a_request_already_waiting_on_a_keep_alive_connection() {
    for _ in 0..5 {
        let server = serve(app());
        let mut conn = Conn::open(server.local_addr()).await;
        conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
        assert_eq!(conn.response().await.unwrap().status, 200);
        // The next request is in the socket when the server starts draining.
        conn.send(b"GET /items/2 HTTP/1.1\r\nhost: t\r\n\r\n").await;
        server.shutdown();
        let response = conn
            .response()
            .await
            .expect("the waiting request is answered");
        assert_eq!(response.text(), "item 2");
        assert!(conn.is_closed().await);
        assert!(server.stopped().await.unwrap().is_graceful());
    }
}

#[portico::test]
async fn shutdown_closes_idle_keep_alive_connections_at_once() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().status, 200);
    let started = Instant::now();
    let report = server.stop().await.unwrap();
    assert!(report.is_graceful());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(conn.is_closed().await);
}

async fn ticks() -> EventStream {
    let first = futures_lite::stream::once(ServerSentEvent::default().data("hello"));
    EventStream::new(futures_lite::StreamExt::chain(
        first,
        futures_lite::stream::pending(),
    ))
}

#[portico::test]
async fn shutdown_ends_event_streams() {
    let server = serve(App::new().get("/events", ticks));
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /events HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("data: hello") {
        let n = conn.read_some(&mut buf).await;
        assert!(n > 0, "the stream ended before its first event");
        seen.extend_from_slice(&buf[..n]);
    }
    let started = Instant::now();
    let report = server.stop().await.unwrap();
    assert!(report.is_graceful(), "{report:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    loop {
        let n = conn.read_some(&mut buf).await;
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(
        String::from_utf8_lossy(&seen).contains("0\r\n\r\n"),
        "the stream ended cleanly"
    );
}

#[portico::test]
async fn shutdown_cuts_what_outlives_the_grace_period() {
    let server = serve_with(app(), |s| s.shutdown_timeout(Duration::from_millis(200)));
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /forever HTTP/1.1\r\nhost: t\r\n\r\n").await;
    rt().sleep(Duration::from_millis(50)).await;
    let report = server.stop().await.unwrap();
    assert_eq!(report.cut_connections, 1);
    assert!(conn.is_closed().await);
}

#[portico::test]
async fn the_connection_cap_holds_new_connections_back() {
    let server = serve_with(app(), |s| s.max_connections(2));
    let addr = server.local_addr();
    let mut first = Conn::open(addr).await;
    first.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    first.response().await.unwrap();
    let mut second = Conn::open(addr).await;
    second.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    second.response().await.unwrap();
    let mut third = Conn::open(addr).await;
    third.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let waited = rt()
        .timeout(Duration::from_millis(300), third.response())
        .await;
    assert!(
        waited.is_err(),
        "a third connection was served past the cap"
    );
    drop(first);
    let response = third.response().await.unwrap();
    assert_eq!(response.status, 200);
    drop((second, third));
    server.stop().await.unwrap();
}

#[portico::test]
async fn several_listeners_share_one_port() {
    let server = serve_with(app(), |s| s.listeners(3));
    let addrs = server.local_addrs().to_vec();
    assert_eq!(addrs.len(), 3);
    assert!(addrs.iter().all(|a| a.port() == addrs[0].port()));
    for _ in 0..20 {
        assert_eq!(
            roundtrip(addrs[0], "GET / HTTP/1.1\r\nhost: t\r\n\r\n")
                .await
                .status,
            200
        );
    }
    server.stop().await.unwrap();
}

#[portico::test]
async fn unix_sockets_are_served_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portico.sock");
    let server = app().serve_unix(&path).signals(false).start().unwrap();
    let mut stream = portico::rt::UnixStream::connect(&path).await.unwrap();
    stream
        .write_all(b"GET /items/9 HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("item 9"), "{text}");
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_future_of_the_application_can_start_the_shutdown() {
    let stop = Arc::new(portico::tasks::Event::new());
    let server = app()
        .serve("127.0.0.1:0")
        .signals(false)
        .with_graceful_shutdown({
            let stop = stop.clone();
            async move { stop.wait().await }
        })
        .start()
        .unwrap();
    let addr = server.local_addr();
    assert_eq!(
        roundtrip(addr, "GET / HTTP/1.1\r\nhost: t\r\n\r\n")
            .await
            .status,
        200
    );
    stop.set();
    let report = rt()
        .timeout(Duration::from_secs(5), server.stopped())
        .await
        .unwrap()
        .unwrap();
    assert!(report.is_graceful());
    assert!(TcpStream::connect(addr).await.is_err());
}
