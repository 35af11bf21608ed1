//! HTTPS over real loopback sockets, with certificates made in the test: HTTP/2 and HTTP/1.1
//! chosen by ALPN, client certificates seen by handlers, a certificate reloaded while the
//! server runs, and handshakes held to the header-read timeout and the connection cap.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use http_body_util::{BodyExt, Full};
use portico::rt::TcpStream;
use portico::tls::{ClientAuth, MutualTls, TlsConfig, TlsInfo};
use portico::{App, Json, ServerHandle};
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use serde_json::{Value, json};
use support::{SpawnExec, serve_with};

/// What the handler saw of the connection's TLS.
async fn whoami(tls: TlsInfo) -> Json<Value> {
    Json(json!({
        "alpn": tls.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
        "sni": tls.server_name(),
        "version": tls.protocol_version().map(|v| format!("{v:?}")),
        "client": tls.client_certificate().map(|c| hex(c)),
        "chain": tls.peer_certificates().len(),
    }))
}

/// A route only clients with a certificate may use.
async fn admin(client: MutualTls) -> String {
    hex(client.certificate())
}

/// A route that serves both, telling them apart.
async fn greeting(client: Option<MutualTls>) -> String {
    match client {
        Some(client) => format!("hello, {}", hex(client.certificate())),
        None => "hello, stranger".to_owned(),
    }
}

async fn maybe_tls(tls: Option<TlsInfo>) -> &'static str {
    if tls.is_some() { "tls" } else { "plain" }
}

/// A body of `n` bytes, none of them alike in a row.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn app() -> App {
    App::new()
        .get("/whoami", whoami)
        .get("/maybe", maybe_tls)
        .get("/admin", admin)
        .get("/greeting", greeting)
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
    let server = serve_tls(pki.tls(), |s| s);
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
    let server = serve_tls(pki.tls(), |s| s);
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
    let server = serve_tls(pki.tls(), |s| s);
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
    let server = serve_tls(pki.tls(), portico::Server::http1_only);
    let mut client = Client::connect(server.local_addr(), pki.client(&[b"h2", b"http/1.1"])).await;
    assert_eq!(client.alpn.as_deref(), Some(&b"http/1.1"[..]));
    let (version, status, _) = client.get("/").await;
    assert_eq!((version, status), (http::Version::HTTP_11, 200));
    server.stop().await.unwrap();
}

#[portico::test]
async fn client_certificate_reaches_the_handler() {
    let pki = Pki::new("server");
    let tls = pki
        .tls()
        .client_auth(pki.roots(), ClientAuth::Required)
        .unwrap();
    let server = serve_tls(tls, |s| s);
    let addr = server.local_addr();
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let mut client = Client::connect(addr, pki.client_with_cert(&[alpn])).await;
        let (_, status, body) = client.get("/whoami").await;
        assert_eq!(status, 200);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["client"], hex(&pki.client_cert));
        assert_eq!(body["chain"], 1);
    }
    // Without a certificate, no request gets through.
    let refused = async {
        let mut client = Client::try_connect(addr, pki.client(&[b"http/1.1"])).await?;
        client.try_get("/whoami").await
    };
    assert!(
        refused.await.is_err(),
        "a client without a certificate got an answer"
    );
    server.stop().await.unwrap();
}

#[portico::test]
async fn optional_client_auth_lets_anonymous_clients_in() {
    let pki = Pki::new("server");
    let tls = pki
        .tls()
        .client_auth(pki.roots(), ClientAuth::Optional)
        .unwrap();
    let server = serve_tls(tls, |s| s);
    let mut anonymous = Client::connect(server.local_addr(), pki.client(&[b"h2"])).await;
    let body: Value = serde_json::from_slice(&anonymous.get("/whoami").await.2).unwrap();
    assert_eq!(body["client"], Value::Null);
    let mut known = Client::connect(server.local_addr(), pki.client_with_cert(&[b"h2"])).await;
    let body: Value = serde_json::from_slice(&known.get("/whoami").await.2).unwrap();
    assert_eq!(body["client"], hex(&pki.client_cert));
    server.stop().await.unwrap();
}

#[portico::test]
async fn mutual_tls_admits_certified_clients_and_refuses_the_others() {
    let pki = Pki::new("server");
    let tls = pki
        .tls()
        .client_auth(pki.roots(), ClientAuth::Optional)
        .unwrap();
    let server = serve_tls(tls, |s| s);
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let mut known = Client::connect(server.local_addr(), pki.client_with_cert(&[alpn])).await;
        let (_, status, body) = known.get("/admin").await;
        assert_eq!((status, body), (200, Bytes::from(hex(&pki.client_cert))));
        let mut anonymous = Client::connect(server.local_addr(), pki.client(&[alpn])).await;
        let (_, status, body) = anonymous.get("/admin").await;
        assert_eq!(status, 403);
        assert_eq!(
            body,
            Bytes::from_static(br#"{"detail":"Not authenticated"}"#)
        );
        // The other routes still answer an anonymous client, and `Option<MutualTls>` tells
        // the two apart.
        assert_eq!(anonymous.get("/maybe").await.1, 200);
        let (_, status, body) = anonymous.get("/greeting").await;
        assert_eq!(
            (status, body),
            (200, Bytes::from_static(b"hello, stranger"))
        );
        let (_, status, body) = known.get("/greeting").await;
        let expected = format!("hello, {}", hex(&pki.client_cert));
        assert_eq!((status, body), (200, Bytes::from(expected)));
    }
    server.stop().await.unwrap();
}

#[portico::test]
async fn mutual_tls_is_refused_without_tls_and_documented_as_a_security_scheme() {
    let client = portico::testing::TestClient::new(app());
    let response = client.get("/admin").await;
    assert_eq!(response.status(), 403);
    assert_eq!(response.text(), r#"{"detail":"Not authenticated"}"#);
    let doc: Value = client.get("/openapi.json").await.json();
    assert_eq!(
        doc["components"]["securitySchemes"]["MutualTLS"],
        json!({"type": "mutualTLS"})
    );
    assert_eq!(
        doc["paths"]["/admin"]["get"]["security"],
        json!([{"MutualTLS": []}])
    );
    // An optional credential is still documented, as FastAPI documents one with
    // `auto_error=False`.
    assert_eq!(
        doc["paths"]["/greeting"]["get"]["security"],
        json!([{"MutualTLS": []}])
    );
    assert_eq!(doc["paths"]["/maybe"]["get"].get("security"), None);
}

#[portico::test]
async fn reload_gives_new_connections_the_new_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let old = Pki::new("old");
    old.write(&cert, &key);
    let tls = TlsConfig::from_pem_files(&cert, &key).unwrap();
    let server = serve_tls(tls.clone(), |s| s);
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
    let server = serve_tls(pki.tls(), |s| s.header_read_timeout(timeout));
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
    let server = serve_tls(pki.tls(), |s| s.header_read_timeout(timeout));
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
    let server = serve_tls(pki.tls(), |s| {
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
    let server = serve_tls(pki.tls(), |s| {
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
    let server = serve_tls(pki.tls(), |s| s);
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

// ---- helpers ----

fn rt() -> portico::rt::Runtime {
    portico::rt::current().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn serve_tls(
    tls: TlsConfig,
    adjust: impl FnOnce(portico::Server) -> portico::Server,
) -> ServerHandle {
    serve_with(app(), |server| adjust(server.tls(tls)))
}

/// An authority, a server certificate for `localhost` and `127.0.0.1`, and a client
/// certificate, all made here.
struct Pki {
    ca: CertificateDer<'static>,
    server_cert_pem: String,
    server_key_pem: String,
    client_cert: CertificateDer<'static>,
    client_key: PrivateKeyDer<'static>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} test authority"));
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf = |names: Vec<String>, purpose| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(names).unwrap();
            params.extended_key_usages = vec![purpose];
            (params.signed_by(&key, &issuer).unwrap(), key)
        };
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let (server, server_key) = leaf(names, ExtendedKeyUsagePurpose::ServerAuth);
        let (client, client_key) = leaf(vec![], ExtendedKeyUsagePurpose::ClientAuth);
        Pki {
            ca: ca.der().clone(),
            server_cert_pem: server.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert: client.der().clone(),
            client_key: PrivateKeyDer::Pkcs8(client_key.serialize_der().into()),
        }
    }

    fn tls(&self) -> TlsConfig {
        TlsConfig::from_pem(&self.server_cert_pem, &self.server_key_pem).unwrap()
    }

    fn write(&self, cert: &std::path::Path, key: &std::path::Path) {
        std::fs::write(cert, &self.server_cert_pem).unwrap();
        std::fs::write(key, &self.server_key_pem).unwrap();
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).unwrap();
        roots
    }

    fn builder(&self) -> rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(self.roots())
    }

    /// A client that trusts this authority and offers `alpn`.
    fn client(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut config = self.builder().with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// As [`client`](Self::client), showing the client certificate.
    fn client_with_cert(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let chain = vec![self.client_cert.clone()];
        let mut config = self
            .builder()
            .with_client_auth_cert(chain, self.client_key.clone_key())
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

type Body = Full<Bytes>;

/// A hyper client on one TLS connection, speaking what ALPN chose.
struct Client {
    alpn: Option<Vec<u8>>,
    sender: Sender,
}

enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Body>),
    Http2(hyper::client::conn::http2::SendRequest<Body>),
}

impl Client {
    async fn connect(addr: SocketAddr, config: Arc<ClientConfig>) -> Client {
        Client::try_connect(addr, config).await.unwrap()
    }

    async fn try_connect(addr: SocketAddr, config: Arc<ClientConfig>) -> io::Result<Client> {
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from("localhost").unwrap();
        let stream = rt()
            .timeout(
                Duration::from_secs(10),
                TlsConnector::from(config).connect(name, tcp),
            )
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let io = Io(stream);
        let spawn = |connection: Pin<Box<dyn Future<Output = ()> + Send>>| {
            rt().spawn(connection).detach();
        };
        let sender = if alpn.as_deref() == Some(b"h2") {
            let (sender, connection) = hyper::client::conn::http2::handshake(SpawnExec, io)
                .await
                .map_err(io::Error::other)?;
            spawn(Box::pin(async move {
                let _ = connection.await;
            }));
            Sender::Http2(sender)
        } else {
            let (sender, connection) = hyper::client::conn::http1::handshake(io)
                .await
                .map_err(io::Error::other)?;
            spawn(Box::pin(async move {
                let _ = connection.await;
            }));
            Sender::Http1(sender)
        };
        Ok(Client { alpn, sender })
    }

    async fn get(&mut self, path: &str) -> (http::Version, u16, Bytes) {
        self.try_get(path).await.unwrap()
    }

    async fn try_get(&mut self, path: &str) -> io::Result<(http::Version, u16, Bytes)> {
        self.send("GET", path, Vec::new()).await
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> io::Result<(http::Version, u16, Bytes)> {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("https://localhost{path}"))
            .header("host", "localhost")
            .body(Body::from(body))
            .unwrap();
        let response = async {
            match &mut self.sender {
                Sender::Http1(sender) => {
                    // The last response's end may still be on its way to the connection.
                    sender.ready().await?;
                    sender.send_request(request).await
                }
                Sender::Http2(sender) => sender.send_request(request).await,
            }
        };
        let response = rt()
            .timeout(Duration::from_secs(10), response)
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
            .map_err(io::Error::other)?;
        let (version, status) = (response.version(), response.status().as_u16());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?
            .to_bytes();
        Ok((version, status, body))
    }
}

/// hyper's I/O traits over a TLS stream on a portico socket.
struct Io(TlsStream<TcpStream>);

impl hyper::rt::Read for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut chunk = [0u8; 8192];
        let room = buf.remaining().min(chunk.len());
        let n = std::task::ready!(Pin::new(&mut self.0).poll_read(cx, &mut chunk[..room]))?;
        buf.put_slice(&chunk[..n]);
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}
