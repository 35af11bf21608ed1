//! HTTPS over real loopback sockets, with certificates made in the test: HTTP/2 and HTTP/1.1
//! chosen by ALPN, large bodies, a certificate reloaded while the server runs, and handshakes
//! held to the header-read timeout and the connection cap. Client certificates are in
//! `tls_client_auth.rs`.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;
mod tls_support;

use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use futures_rustls::TlsConnector;
use portico::App;
use portico::rt::TcpStream;
use portico::tls::TlsConfig;
use rustls::pki_types::ServerName;
use serde_json::Value;
use tls_support::{Client, Pki, maybe_tls, rt, serve_tls, whoami};

/// A body of `n` bytes, none of them alike in a row.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn app() -> App {
    App::new()
        .get("/whoami", whoami)
        .get("/maybe", maybe_tls)
        .get("/", || async { "Hello over TLS" })
        .get("/big", || async { Bytes::from(pattern(BIG)) })
        .route(
            portico::Route::post("/sum", |body: Bytes| async move {
                format!(
                    "{} {}",
                    body.len(),
                    body.iter().map(|b| u64::from(*b)).sum::<u64>()
                )
            })
            .body_limit(2 * BIG),
        )
}

/// Larger than a TLS record (16 KiB) and than hyper's first read buffer.
const BIG: usize = 1 << 20;

#[portico::test]
async fn http2_by_alpn_answers() {
    let pki = Pki::new("server");
    let server = serve_tls(app(), pki.tls(), |s| s);
    let mut client = Client::connect(server.local_addr(), pki.client(&[b"h2", b"http/1.1"])).await;
    assert_eq!(client.alpn.as_deref(), Some(&b"h2"[..]));
    let (version, status, body) = client.get("/whoami").await;
    assert_eq!((version, status), (http::Version::HTTP_2, 200));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["alpn"], "h2");
    assert_eq!(body["sni"], "localhost");
    assert_eq!(body["version"], "TLSv1_3");
    assert_eq!(body["client"], Value::Null);
    // Several requests on the one connection.
    let (version, status, body) = client.get("/").await;
    assert_eq!((version, status), (http::Version::HTTP_2, 200));
    assert_eq!(body, "Hello over TLS");
    server.stop().await.unwrap();
}

#[portico::test]
async fn http1_by_alpn_answers_and_keeps_the_connection() {
    let pki = Pki::new("server");
    let server = serve_tls(app(), pki.tls(), |s| s);
    let mut client = Client::connect(server.local_addr(), pki.client(&[b"http/1.1"])).await;
    assert_eq!(client.alpn.as_deref(), Some(&b"http/1.1"[..]));
    for _ in 0..3 {
        let (version, status, body) = client.get("/whoami").await;
        assert_eq!((version, status), (http::Version::HTTP_11, 200));
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["alpn"], "http/1.1");
    }
    // A client that offers no protocol is served as a plain connection is.
    let mut client = Client::connect(server.local_addr(), pki.client(&[])).await;
    assert_eq!(client.alpn, None);
    let (version, status, body) = client.get("/whoami").await;
    assert_eq!((version, status), (http::Version::HTTP_11, 200));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["alpn"], Value::Null);
    let (_, _, body) = client.get("/maybe").await;
    assert_eq!(body, "tls");
    server.stop().await.unwrap();
}

#[portico::test]
async fn large_bodies_cross_both_ways() {
    let pki = Pki::new("server");
    let server = serve_tls(app(), pki.tls(), |s| s);
    let sent = pattern(BIG);
    let sum: u64 = sent.iter().map(|b| u64::from(*b)).sum();
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let mut client = Client::connect(server.local_addr(), pki.client(&[alpn])).await;
        let (_, status, body) = client.get("/big").await;
        assert_eq!(status, 200);
        assert!(
            body == sent,
            "{} bytes came back, not the ones sent",
            body.len()
        );
        let (_, status, body) = client.send("POST", "/sum", sent.clone()).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(body, format!("{BIG} {sum}"));
    }
    server.stop().await.unwrap();
}

#[portico::test]
async fn http1_only_server_does_not_offer_http2() {
    let pki = Pki::new("server");
    let server = serve_tls(app(), pki.tls(), portico::Server::http1_only);
    let mut client = Client::connect(server.local_addr(), pki.client(&[b"h2", b"http/1.1"])).await;
    assert_eq!(client.alpn.as_deref(), Some(&b"http/1.1"[..]));
    let (version, status, _) = client.get("/").await;
    assert_eq!((version, status), (http::Version::HTTP_11, 200));
    server.stop().await.unwrap();
}

#[portico::test]
async fn reload_gives_new_connections_the_new_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let old = Pki::new("old");
    old.write(&cert, &key);
    let tls = TlsConfig::from_pem_files(&cert, &key).unwrap();
    let server = serve_tls(app(), tls.clone(), |s| s);
    let addr = server.local_addr();
    let mut before = Client::connect(addr, old.client(&[b"h2"])).await;
    assert_eq!(before.get("/").await.1, 200);

    let new = Pki::new("new");
    new.write(&cert, &key);
    tls.reload().unwrap();
    // New connections get the new certificate: a client that trusts only the old authority
    // is refused, one that trusts the new one is served.
    assert!(
        Client::try_connect(addr, old.client(&[b"h2"]))
            .await
            .is_err(),
        "the old certificate is still served"
    );
    let mut after = Client::connect(addr, new.client(&[b"h2"])).await;
    assert_eq!(after.get("/").await.1, 200);
    // The connection made before keeps going.
    assert_eq!(before.get("/").await.1, 200);

    // A reload that fails leaves the certificate in use.
    std::fs::write(&key, "not a key").unwrap();
    assert!(tls.reload().is_err());
    let mut again = Client::connect(addr, new.client(&[b"http/1.1"])).await;
    assert_eq!(again.get("/").await.1, 200);
    server.stop().await.unwrap();
}

#[portico::test]
async fn silent_client_is_closed_at_the_header_timeout() {
    let pki = Pki::new("server");
    let timeout = Duration::from_millis(300);
    let server = serve_tls(app(), pki.tls(), |s| s.header_read_timeout(timeout));
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.local_addr()).await.unwrap();
    let mut buf = [0u8; 64];
    let read = rt()
        .timeout(Duration::from_secs(10), silent.read(&mut buf))
        .await;
    let waited = started.elapsed();
    assert!(matches!(read, Ok(Ok(0) | Err(_))), "{read:?}");
    assert!(
        waited >= timeout - Duration::from_millis(50),
        "closed after {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");
    server.stop().await.unwrap();
}

#[portico::test]
async fn the_handshake_and_the_first_head_share_the_header_timeout() {
    let pki = Pki::new("server");
    let timeout = Duration::from_millis(800);
    let server = serve_tls(app(), pki.tls(), |s| s.header_read_timeout(timeout));
    let addr = server.local_addr();
    let name = ServerName::try_from("localhost").unwrap();
    // A hello after 500 ms, and a head 500 ms after the handshake: each within the timeout,
    // together over it, so the connection is closed before the head comes.
    let tcp = TcpStream::connect(addr).await.unwrap();
    rt().sleep(Duration::from_millis(500)).await;
    let connector = TlsConnector::from(pki.client(&[b"http/1.1"]));
    let mut late = connector.connect(name.clone(), tcp).await.unwrap();
    rt().sleep(Duration::from_millis(500)).await;
    let _ = late
        .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let _ = rt()
        .timeout(Duration::from_secs(10), late.read_to_end(&mut answer))
        .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.contains("200 OK"), "served: {answer}");
    // The same head sent at once is served.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut prompt = connector.connect(name, tcp).await.unwrap();
    prompt
        .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = rt()
        .timeout(Duration::from_secs(10), prompt.read_to_end(&mut answer))
        .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    server.stop().await.unwrap();
}

#[portico::test]
async fn handshake_holds_a_place_under_the_connection_cap() {
    let pki = Pki::new("server");
    let timeout = Duration::from_millis(500);
    let server = serve_tls(app(), pki.tls(), |s| {
        s.header_read_timeout(timeout).max_connections(1)
    });
    let addr = server.local_addr();
    // A client that never says hello takes the one place...
    let mut silent = TcpStream::connect(addr).await.unwrap();
    rt().sleep(Duration::from_millis(100)).await;
    // ...so the next one is served only once the first is closed, at the timeout.
    let started = Instant::now();
    let mut client = Client::connect(addr, pki.client(&[b"h2"])).await;
    assert_eq!(client.get("/").await.1, 200);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "served after {waited:?}"
    );
    let mut buf = [0u8; 16];
    assert!(matches!(silent.read(&mut buf).await, Ok(0) | Err(_)));
    server.stop().await.unwrap();
}

#[portico::test]
async fn shutdown_gives_up_a_handshake_in_progress() {
    let pki = Pki::new("server");
    let server = serve_tls(app(), pki.tls(), |s| {
        s.header_read_timeout(Duration::from_secs(30))
            .shutdown_timeout(Duration::from_secs(20))
    });
    let mut silent = TcpStream::connect(server.local_addr()).await.unwrap();
    rt().sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let report = server.stop().await.unwrap();
    assert!(report.is_graceful(), "{report:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let mut buf = [0u8; 16];
    assert!(matches!(silent.read(&mut buf).await, Ok(0) | Err(_)));
}

#[portico::test]
async fn plain_http_on_the_tls_port_is_closed() {
    let pki = Pki::new("server");
    let server = serve_tls(app(), pki.tls(), |s| s);
    let addr = server.local_addr();
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = rt()
        .timeout(Duration::from_secs(10), plain.read_to_end(&mut answer))
        .await;
    assert!(read.is_ok(), "the connection stayed open");
    assert!(!answer.starts_with(b"HTTP/"), "answered in plain text");
    // The server goes on.
    let mut client = Client::connect(addr, pki.client(&[b"h2"])).await;
    assert_eq!(client.get("/").await.1, 200);
    server.stop().await.unwrap();
}

#[portico::test]
async fn tls_info_is_absent_without_tls() {
    let client = portico::testing::TestClient::new(app());
    assert_eq!(client.get("/maybe").await.text(), "plain");
    assert_eq!(client.get("/whoami").await.status(), 500);
}

#[test]
fn bad_files_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let err = TlsConfig::from_pem_files(&cert, &key).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert!(err.to_string().contains("cert.pem"), "{err}");
    // A key that is not the certificate's.
    let (one, other) = (Pki::new("one"), Pki::new("other"));
    std::fs::write(&cert, &one.server_cert_pem).unwrap();
    std::fs::write(&key, &other.server_key_pem).unwrap();
    let err = TlsConfig::from_pem_files(&cert, &key).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    // A key file with no key.
    std::fs::write(&key, &one.server_cert_pem).unwrap();
    let err = TlsConfig::from_pem_files(&cert, &key).unwrap_err();
    assert!(err.to_string().contains("key.pem"), "{err}");
    // Made from memory: nothing to read again.
    let tls = TlsConfig::from_pem(&one.server_cert_pem, &one.server_key_pem).unwrap();
    assert!(tls.reload().is_err());
    assert!(
        tls.reload_from_pem(&other.server_cert_pem, &other.server_key_pem)
            .is_ok()
    );
}
