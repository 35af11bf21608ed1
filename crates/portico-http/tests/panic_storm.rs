//! A storm of panics over real loopback sockets, and what a client sees after it: ten thousand
//! requests whose handlers panic (async handlers, plain `fn` handlers on the thread pool,
//! streams that panic after some chunks were sent), then a server that still answers, a thread
//! pool with every token back, and memory that did not grow.
//!
//! The storm runs once per runtime. The two tests take turns (one lock for the binary), so that
//! each one's memory figures are its own: RSS belongs to the process, not to a runtime.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

use portico::http::StatusCode;
use portico::{App, HttpError, RuntimeKind, State, StreamBody};
use support::{Conn, serve};

/// The panicking requests of one storm, after the warm-up.
const STORM: usize = 10_000;

/// Requests of the same mix before the first memory reading, so that the allocator's pools,
/// the thread pool and hyper's buffers have grown to their working size.
const WARM_UP: usize = 1_000;

/// Clients at once. 16 keeps both executor threads busy; more only adds queueing.
const CONNECTIONS: usize = 16;

/// How much RSS may grow over the storm. 20 MiB is a judgement: far above allocator noise at
/// this size, far below what ten thousand leaked requests (a buffer, a task, a thread's stack
/// each) would hold.
const RSS_MARGIN_KIB: u64 = 20 * 1024;

/// Chunks a cut stream sends before it panics.
const CHUNKS_BEFORE_THE_CUT: usize = 3;

/// Every panic of this binary's handlers starts with this, so that the panic hook can keep them
/// out of the test output.
const TAG: &str = "panic storm:";

/// One storm at a time in this process (see the module docs).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn rt() -> portico::rt::Runtime {
    portico::rt::current().unwrap()
}

async fn hello() -> &'static str {
    "still here"
}

async fn async_panic() -> &'static str {
    panic!("panic storm: an async handler")
}

fn blocking_panic() -> &'static str {
    panic!("panic storm: a plain fn on the thread pool")
}

/// A stream that sends a few chunks, then panics. It yields once first: hyper writes out what
/// it holds whenever the body is not ready, so the chunks are on the wire before the panic. (A
/// short sleep would not do: on a starved machine its deadline can pass before it is first
/// polled, and the panic would come before any byte was written.)
async fn cut_stream() -> StreamBody {
    let chunks = futures_lite::StreamExt::then(futures_lite::stream::iter(0..), |n| async move {
        if n == CHUNKS_BEFORE_THE_CUT {
            futures_lite::future::yield_now().await;
            panic!("panic storm: in the middle of a stream");
        }
        Ok::<_, std::io::Error>(format!("chunk {n}\n"))
    });
    StreamBody::new(chunks)
}

/// Plain `fn` requests meeting on the thread pool: each waits until `expected` of them run at
/// once, so all of them answer only if that many threads are free.
#[derive(Clone)]
struct Meeting {
    arrived: Arc<AtomicUsize>,
    expected: usize,
}

fn meet(State(meeting): State<Meeting>) -> Result<String, HttpError> {
    let here = meeting.arrived.fetch_add(1, Ordering::SeqCst) + 1;
    let deadline = Instant::now() + Duration::from_secs(10);
    while meeting.arrived.load(Ordering::SeqCst) < meeting.expected {
        if Instant::now() > deadline {
            return Err(
                HttpError::new(StatusCode::SERVICE_UNAVAILABLE).detail(format!(
                    "only {} of {} met",
                    meeting.arrived.load(Ordering::SeqCst),
                    meeting.expected
                )),
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(format!("met as number {here}"))
}

fn app(pool: usize) -> App {
    App::new()
        .state(Meeting {
            arrived: Arc::new(AtomicUsize::new(0)),
            expected: pool,
        })
        .get("/", hello)
        .get("/async-panic", async_panic)
        .get("/blocking-panic", blocking_panic)
        .get("/cut-stream", cut_stream)
        .get("/meet", meet)
}

/// Keeps the expected panics' messages out of the output; any other panic is reported as
/// usual. Set once for the binary.
fn quiet_expected_panics() {
    static SET: Once = Once::new();
    SET.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if !message.is_some_and(|message| message.starts_with(TAG)) {
                report(info);
            }
        }));
    });
}

/// The resident set of this process, in KiB (Linux only).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What a storm's clients saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Seen {
    async_500: usize,
    blocking_500: usize,
    cut_streams: usize,
}

impl Seen {
    fn total(&self) -> usize {
        self.async_500 + self.blocking_500 + self.cut_streams
    }
}

/// Request `i` of a storm: two async panics, two plain `fn` panics and one cut stream in five.
fn path_of(i: usize) -> &'static str {
    match i % 5 {
        0 | 1 => "/async-panic",
        2 | 3 => "/blocking-panic",
        _ => "/cut-stream",
    }
}

/// Reads a stream that panics after its first chunks: the head and those chunks arrive, then
/// the connection closes without the last chunk.
async fn read_cut_stream(addr: SocketAddr) {
    let mut conn = Conn::open(addr).await;
    conn.send(b"GET /cut-stream HTTP/1.1\r\nhost: t\r\n\r\n")
        .await;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read_some(&mut buf).await;
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("transfer-encoding: chunked"), "{text}");
    let sent = format!("chunk {}\n", CHUNKS_BEFORE_THE_CUT - 1);
    assert!(text.contains(&sent), "the chunks before the panic: {text}");
    assert!(
        !text.ends_with("0\r\n\r\n"),
        "a cut stream ended as if complete: {text}"
    );
}

/// Client number `c`: its share of requests `requests` (every `CONNECTIONS`-th), the 500s on
/// one kept-alive connection, each cut stream on a connection of its own. Returns what it saw
/// and its kept-alive connection.
async fn client(addr: SocketAddr, c: usize, requests: Range<usize>) -> (Seen, Conn) {
    let mut seen = Seen::default();
    let mut kept = Conn::open(addr).await;
    for i in requests.filter(|i| i % CONNECTIONS == c) {
        let path = path_of(i);
        if path == "/cut-stream" {
            read_cut_stream(addr).await;
            seen.cut_streams += 1;
            continue;
        }
        kept.send(format!("GET {path} HTTP/1.1\r\nhost: t\r\n\r\n").as_bytes())
            .await;
        let response = kept
            .response()
            .await
            .unwrap_or_else(|| panic!("{path}: the connection closed instead of a 500"));
        assert_eq!(response.status, 500, "{path}: {}", response.text());
        assert_eq!(response.text(), "Internal Server Error");
        match path {
            "/async-panic" => seen.async_500 += 1,
            _ => seen.blocking_500 += 1,
        }
    }
    (seen, kept)
}

/// `count` requests of the mix from `CONNECTIONS` clients at once, starting at request `first`.
async fn batch(addr: SocketAddr, first: usize, count: usize) -> (Seen, Vec<Conn>) {
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|c| rt().spawn(client(addr, c, first..first + count)))
        .collect();
    let mut total = Seen::default();
    let mut kept = Vec::new();
    for client in clients {
        let (seen, conn) = client.await.unwrap();
        total.async_500 += seen.async_500;
        total.blocking_500 += seen.blocking_500;
        total.cut_streams += seen.cut_streams;
        kept.push(conn);
    }
    (total, kept)
}

async fn storm(kind: RuntimeKind) {
    let limiter = portico::tasks::default_thread_limiter().unwrap();
    let pool = limiter.total_tokens();
    assert_eq!(pool, portico::tasks::DEFAULT_THREAD_TOKENS);
    let server = serve(app(pool));
    let addr = server.local_addr();

    let (warmed, _) = batch(addr, 0, WARM_UP).await;
    assert_eq!(warmed.total(), WARM_UP);
    let before = rss_kib();
    let started = Instant::now();
    let (seen, kept) = batch(addr, WARM_UP, STORM).await;
    let took = started.elapsed();
    let after = rss_kib();
    assert_eq!(
        seen,
        Seen {
            async_500: STORM * 2 / 5,
            blocking_500: STORM * 2 / 5,
            cut_streams: STORM / 5,
        }
    );

    // The server answers, on a connection that has carried hundreds of panics, and on a new one.
    let mut conn = kept.into_iter().next().unwrap();
    conn.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    let response = conn.response().await.unwrap();
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "still here")
    );
    let fresh = support::roundtrip(addr, "GET / HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(fresh.status, 200);

    // Every token is back, and as many plain `fn` requests as the pool has tokens run at once.
    support::eventually(|| limiter.borrowed_tokens() == 0).await;
    assert_eq!(limiter.borrowed_tokens(), 0, "tokens lost to panics");
    let meetings: Vec<_> = (0..pool)
        .map(|_| {
            rt().spawn(support::roundtrip(
                addr,
                "GET /meet HTTP/1.1\r\nhost: t\r\n\r\n",
            ))
        })
        .collect();
    for meeting in meetings {
        let response = meeting.await.unwrap();
        assert_eq!(response.status, 200, "{}", response.text());
    }

    eprintln!(
        "{kind}: {STORM} panicking requests ({} async, {} plain fn, {} cut streams) over \
         {CONNECTIONS} connections in {took:.1?}; RSS {} KiB after {WARM_UP} warm-up requests, \
         {} KiB after the storm",
        seen.async_500,
        seen.blocking_500,
        seen.cut_streams,
        before.map_or("?".into(), |kib| kib.to_string()),
        after.map_or("?".into(), |kib| kib.to_string()),
    );
    match (before, after) {
        (Some(before), Some(after)) => assert!(
            after <= before + RSS_MARGIN_KIB,
            "RSS grew from {before} KiB to {after} KiB over {STORM} panics"
        ),
        _ => eprintln!("{kind}: no /proc/self/status here; the memory check is skipped"),
    }
    server.stop().await.unwrap();
}

#[portico::test(timeout = 180)]
fn a_panic_storm_leaves_the_server_whole(kind: RuntimeKind) {
    quiet_expected_panics();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = portico::Builder::new()
        .runtime(kind)
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(storm(kind));
    runtime.shutdown_timeout(Duration::from_secs(5));
}
