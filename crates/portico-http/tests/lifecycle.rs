//! A connection's life at its edges, over real loopback sockets: a shutdown under keep-alive
//! load that loses no request, a request line that can never be HTTP/1.x refused at once, a
//! stalled request body timed out, and HTTP/2 connections timed by keep-alive and closed with
//! GOAWAY.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use portico::rt::TcpStream;
use portico::{App, BodyError, BodyStream, Route};
use support::{Conn, serve, serve_with};

fn rt() -> portico::rt::Runtime {
    portico::rt::current().unwrap()
}

async fn hello() -> &'static str {
    "Hello, World!"
}

/// A plain `fn`, run on the thread pool, as `GET /blocking` of the benchmark server.
fn blocking() -> &'static str {
    std::thread::sleep(Duration::from_millis(1));
    "done"
}

async fn count(body: Bytes) -> String {
    format!("{} bytes", body.len())
}

/// Reads the body itself and says how it ended.
async fn stream_count(mut body: BodyStream) -> String {
    let mut total = 0;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => total += chunk.len(),
            Err(BodyError::TimedOut { after }) => {
                return format!("stalled after {total} bytes ({after:?})");
            }
            Err(err) => return format!("failed: {err}"),
        }
    }
    format!("{total} bytes")
}

fn app() -> App {
    App::new()
        .get("/", hello)
        .get("/blocking", blocking)
        .route(Route::post("/count", count))
        .route(Route::post("/stream", stream_count))
}

// --- shutdown under keep-alive load ---

/// What the clients of one shutdown saw.
#[derive(Default)]
struct Tally {
    answered: AtomicUsize,
    /// Requests written whose connection closed before their response came.
    lost: AtomicUsize,
    /// Responses that said `Connection: close`.
    told_to_close: AtomicUsize,
}

/// A keep-alive client looping on `GET /blocking` until a response tells it to stop.
async fn client(addr: SocketAddr, tally: Arc<Tally>) {
    let mut conn = Conn::open(addr).await;
    loop {
        conn.send(b"GET /blocking HTTP/1.1\r\nhost: t\r\n\r\n")
            .await;
        let Some(response) = conn.response().await else {
            tally.lost.fetch_add(1, Ordering::Relaxed);
            return;
        };
        assert_eq!(response.status, 200, "{}", response.text());
        tally.answered.fetch_add(1, Ordering::Relaxed);
        if response.header("connection") == Some("close") {
            tally.told_to_close.fetch_add(1, Ordering::Relaxed);
            assert!(conn.is_closed().await);
            return;
        }
    }
}

#[portico::test]
async fn shutdown_under_keep_alive_load_loses_no_request() {
    const CLIENTS: usize = 200;
    for round in 0..3 {
        let server = serve(app());
        let addr = server.local_addr();
        let tally = Arc::new(Tally::default());
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| rt().spawn(client(addr, tally.clone())))
            .collect();
        // Every client under way before the shutdown starts.
        while tally.answered.load(Ordering::Relaxed) < 2 * CLIENTS {
            rt().sleep(Duration::from_millis(5)).await;
        }
        server.shutdown();
        for client in clients {
            client.await.unwrap();
        }
        let report = server.stopped().await.unwrap();
        assert_eq!(
            tally.lost.load(Ordering::Relaxed),
            0,
            "round {round}: requests cut off by the shutdown ({} answered)",
            tally.answered.load(Ordering::Relaxed)
        );
        // Every client learnt from a response that the server was closing.
        assert_eq!(tally.told_to_close.load(Ordering::Relaxed), CLIENTS);
        assert!(report.is_graceful(), "{report:?}");
    }
}

#[portico::test]
async fn a_request_on_an_idle_connection_just_after_shutdown_is_answered() {
    let server = serve_with(app(), |s| s.drain_linger(Duration::from_millis(400)));
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().status, 200);
    server.shutdown();
    // The connection was idle when the shutdown began; the next request is on its way.
    rt().sleep(Duration::from_millis(150)).await;
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let response = conn.response().await.expect("answered, not cut off");
    assert_eq!(response.text(), "Hello, World!");
    assert_eq!(response.header("connection"), Some("close"));
    assert!(conn.is_closed().await);
    assert!(server.stopped().await.unwrap().is_graceful());
}

#[portico::test(workers = 1)]
async fn a_connection_queued_when_the_server_stops_is_answered_not_reset() {
    use std::io::{Read, Write};
    use std::sync::atomic::AtomicBool;
    // A handler that holds the only worker thread for a while: meanwhile nothing accepts, and
    // the kernel queues the next connection for the listener.
    let holding = Arc::new(AtomicBool::new(false));
    let app = app().get("/hold", {
        let holding = holding.clone();
        move || {
            let holding = holding.clone();
            async move {
                holding.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(300));
                "held"
            }
        }
    });
    let server = serve(app);
    let addr = server.local_addr();
    let mut holder = Conn::open(addr).await;
    holder.send(b"GET /hold HTTP/1.1\r\nhost: t\r\n\r\n").await;
    while !holding.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
    // Blocking sockets from here on: the worker is held, and only it waits for I/O.
    let mut queued = std::net::TcpStream::connect(addr).unwrap();
    queued
        .write_all(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n")
        .unwrap();
    server.shutdown();
    queued
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    queued
        .read_to_end(&mut answer)
        .expect("answered and closed, not reset");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("Hello, World!"), "{answer}");
    assert_eq!(holder.response().await.unwrap().text(), "held");
    assert!(server.stopped().await.unwrap().is_graceful());
}

#[portico::test]
async fn idle_connections_close_once_the_linger_is_over() {
    let server = serve_with(app(), |s| s.drain_linger(Duration::from_millis(300)));
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().status, 200);
    let started = Instant::now();
    server.shutdown();
    assert!(conn.is_closed().await);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert!(server.stopped().await.unwrap().is_graceful());
}

// --- heads that can never be HTTP/1.x ---

#[portico::test]
async fn a_request_line_that_cannot_be_http1_is_refused_at_once() {
    // The default header timeout (10 s) would apply to a head still on its way.
    let server = serve(app());
    for line in [
        &b"GET /json\r\n"[..],          // HTTP/0.9: no version
        b"GET /json HTTP/9\r\n",        // no such version
        b"GE\x01T / HTTP/1.1",          // a byte no method may hold, line not even finished
        b"GET /a b c HTTP/1.1\r\n\r\n", // spaces in the target
    ] {
        let mut conn = Conn::open(server.local_addr()).await;
        let started = Instant::now();
        conn.send(line).await;
        let response = conn.response().await.expect("an answer");
        assert_eq!(response.status, 400, "{}", String::from_utf8_lossy(line));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?} for {}",
            started.elapsed(),
            String::from_utf8_lossy(line)
        );
        assert!(conn.is_closed().await);
    }
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_valid_head_arriving_slowly_is_still_served() {
    let server = serve(app());
    let mut conn = Conn::open(server.local_addr()).await;
    for piece in [
        &b"GE"[..],
        b"T / HT",
        b"TP/1.1\r\nho",
        b"st: t\r\n",
        b"\r\n",
    ] {
        conn.send(piece).await;
        rt().sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(conn.response().await.unwrap().text(), "Hello, World!");
    server.stop().await.unwrap();
}

// --- request bodies that stall ---

#[portico::test]
async fn a_stalled_body_is_answered_408_and_the_connection_closes() {
    let server = serve_with(app(), |s| s.body_timeout(Duration::from_millis(300)));
    let mut conn = Conn::open(server.local_addr()).await;
    let started = Instant::now();
    conn.send(b"POST /count HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n0123456789")
        .await;
    let response = conn.response().await.expect("an answer");
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
async fn a_handler_reading_the_body_sees_the_timeout() {
    let server = serve_with(app(), |s| s.body_timeout(Duration::from_millis(200)));
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"POST /stream HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n01234")
        .await;
    let response = conn.response().await.expect("an answer");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "stalled after 5 bytes (200ms)");
    assert!(conn.is_closed().await);
    server.stop().await.unwrap();
}

#[portico::test]
async fn the_body_timeout_is_between_reads_not_for_the_whole_body() {
    let server = serve_with(app(), |s| s.body_timeout(Duration::from_millis(300)));
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"POST /count HTTP/1.1\r\nhost: t\r\ncontent-length: 60\r\n\r\n")
        .await;
    // Six pieces, 120 ms apart: 600 ms in all, never 300 ms without a byte.
    for _ in 0..6 {
        rt().sleep(Duration::from_millis(120)).await;
        conn.send(b"0123456789").await;
    }
    assert_eq!(conn.response().await.unwrap().text(), "60 bytes");
    // And the connection lives on.
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(conn.response().await.unwrap().status, 200);
    server.stop().await.unwrap();
}

// --- HTTP/2: timed by keep-alive, closed with GOAWAY ---

/// An HTTP/2 frame as read off the wire.
struct Frame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;

/// A raw HTTP/2 connection (prior knowledge), frame by frame.
struct H2 {
    stream: TcpStream,
    buffered: Vec<u8>,
}

impl H2 {
    async fn open(addr: SocketAddr) -> H2 {
        let mut h2 = H2 {
            stream: TcpStream::connect(addr).await.unwrap(),
            buffered: Vec::new(),
        };
        h2.write(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
        h2.frame(SETTINGS, 0, 0, &[]).await;
        h2
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    async fn frame(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut frame = vec![len[1], len[2], len[3], kind, flags];
        frame.extend_from_slice(&stream.to_be_bytes());
        frame.extend_from_slice(payload);
        self.write(&frame).await;
    }

    /// `GET /` on `stream`, in HPACK's static table only.
    async fn get_root(&mut self, stream: u32) {
        // :method GET, :scheme http, :path /; END_STREAM | END_HEADERS.
        self.frame(HEADERS, 0x5, stream, &[0x82, 0x86, 0x84]).await;
    }

    /// The next frame, or `None` once the server has closed the connection.
    async fn next(&mut self) -> Option<Frame> {
        loop {
            if self.buffered.len() >= 9 {
                let len = usize::from(self.buffered[0]) << 16
                    | usize::from(self.buffered[1]) << 8
                    | usize::from(self.buffered[2]);
                if self.buffered.len() >= 9 + len {
                    let head: Vec<u8> = self.buffered.drain(..9).collect();
                    let payload: Vec<u8> = self.buffered.drain(..len).collect();
                    let (kind, flags) = (head[3], head[4]);
                    if kind == PING && flags & 0x1 == 0 {
                        // The server's PING (a graceful shutdown sends one): acknowledged.
                        self.frame(PING, 0x1, 0, &payload).await;
                    }
                    return Some(Frame {
                        kind,
                        flags,
                        stream: u32::from_be_bytes([head[5], head[6], head[7], head[8]])
                            & 0x7fff_ffff,
                        payload,
                    });
                }
            }
            let mut chunk = [0u8; 4096];
            let n = rt()
                .timeout(Duration::from_secs(30), self.stream.read(&mut chunk))
                .await
                .expect("the server says something within 30 s")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buffered.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads frames until one of `kind` (answering the server's PINGs on the way).
    async fn until(&mut self, kind: u8) -> Option<Frame> {
        loop {
            let frame = self.next().await?;
            if frame.kind == kind {
                return Some(frame);
            }
        }
    }

    /// Reads to the end of the connection: the last stream id of the last GOAWAY before it,
    /// if one came.
    async fn goaway_then_closed(&mut self) -> Option<u32> {
        let mut goaway = None;
        while let Some(frame) = self.next().await {
            if frame.kind == GOAWAY {
                let id = &frame.payload[..4];
                goaway = Some(u32::from_be_bytes([id[0], id[1], id[2], id[3]]) & 0x7fff_ffff);
            }
        }
        goaway
    }
}

#[portico::test]
async fn an_idle_http2_connection_with_pings_outlives_the_head_timeout_then_gets_goaway() {
    let server = serve_with(app(), |s| {
        s.header_read_timeout(Duration::from_millis(150))
            .keep_alive_timeout(Duration::from_millis(1200))
    });
    let mut h2 = H2::open(server.local_addr()).await;
    let opened = Instant::now();
    h2.get_root(1).await;
    let headers = h2.until(HEADERS).await.expect("a response");
    assert_eq!(headers.stream, 1);
    let data = h2.until(DATA).await.expect("a body");
    assert_eq!(data.payload, b"Hello, World!");
    // Idle from now: PINGs every 100 ms for 800 ms, many head timeouts over.
    let idle = Instant::now();
    for n in 0..8u8 {
        rt().sleep(Duration::from_millis(100)).await;
        h2.frame(PING, 0, 0, &[n; 8]).await;
        let ack = h2.until(PING).await.expect("the connection is still open");
        assert_eq!((ack.flags, ack.payload), (0x1, vec![n; 8]));
    }
    // Then the keep-alive timeout closes it, with GOAWAY naming the last stream served.
    assert_eq!(h2.goaway_then_closed().await, Some(1));
    let lasted = idle.elapsed();
    assert!(lasted >= Duration::from_millis(1100), "{lasted:?}");
    assert!(opened.elapsed() < Duration::from_secs(10));
    server.stop().await.unwrap();
}

#[portico::test]
async fn a_draining_server_sends_goaway_on_http2() {
    let server = serve(app());
    let mut h2 = H2::open(server.local_addr()).await;
    h2.get_root(1).await;
    assert_eq!(h2.until(DATA).await.unwrap().payload, b"Hello, World!");
    server.shutdown();
    assert_eq!(h2.goaway_then_closed().await, Some(1));
    assert!(server.stopped().await.unwrap().is_graceful());
}
