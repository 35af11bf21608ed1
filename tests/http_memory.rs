//! Memory per slow connection: a client that sends part of a request head and then nothing
//! (slowloris) must cost the server little. Raw hyper, axum and actix-web take 10–18 KiB per
//! such connection (see `BENCHMARKS.md`); Portico reads the first head itself into a buffer
//! that grows with it, and hands the connection to hyper only once the head is complete.

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use portico::rt::TcpStream;
use portico::{App, RuntimeKind};

mod support;
use support::raise_fd_limit;

/// Resident memory is per process: the tests of this file take turns.
static SERIAL: Mutex<()> = Mutex::new(());

/// Slow connections opened.
const CONNECTIONS: u64 = 1000;

/// The most a slow connection may cost, in KiB (measured: about 2.3 on either runtime).
const BUDGET_KIB: u64 = 6;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn hello() -> &'static str {
    "Hello, World!"
}

#[portico::test(timeout = 120)]
fn slow_connections_cost_little_memory(kind: RuntimeKind) {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    raise_fd_limit(4 * CONNECTIONS + 256);
    portico::Builder::new().runtime(kind).worker_threads(2).run(async {
        let rt = portico::rt::current().unwrap();
        let server = App::new().get("/", hello).serve("127.0.0.1:0").signals(false).start().unwrap();
        let addr = server.local_addr();
        // Warm up: a request answered, so the allocator's arenas exist before measuring.
        let mut warm = TcpStream::connect(addr).await.unwrap();
        warm.write_all(b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        warm.read_to_end(&mut answer).await.unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200"));

        let before = rss_kib();
        let mut slow = Vec::new();
        for _ in 0..CONNECTIONS {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"GET / HTTP/1.1\r\nhost: t\r\nx-slow: ").await.unwrap();
            slow.push(stream);
        }
        // Let the server accept and read them all.
        rt.sleep(Duration::from_millis(500)).await;
        let grown = rss_kib().saturating_sub(before);
        let per_connection = grown / CONNECTIONS;
        assert!(
            per_connection <= BUDGET_KIB,
            "{CONNECTIONS} slow connections grew the process by {grown} KiB: {per_connection} KiB each, over the budget of {BUDGET_KIB}"
        );

        // They are still served once their heads are complete.
        for stream in slow.iter_mut().take(10) {
            stream.write_all(b"1\r\nconnection: close\r\n\r\n").await.unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await.unwrap();
            assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
        }
        drop(slow);
        server.stop().await.unwrap();
    });
}
