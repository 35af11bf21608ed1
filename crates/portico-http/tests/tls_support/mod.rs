//! What the HTTPS tests share: certificates made in the test (an authority, a server's and a
//! client's), a client that speaks HTTP/2 or HTTP/1.1 over rustls, and handlers that show what
//! a request saw of its TLS.

#![allow(dead_code, reason = "each test file uses a part")]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncWrite};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use http_body_util::{BodyExt, Full};
use portico::rt::TcpStream;
use portico::tls::{TlsConfig, TlsInfo};
use portico::{App, Json, ServerHandle};
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use serde_json::{Value, json};

use crate::support::{SpawnExec, serve_with};

/// What the handler saw of the connection's TLS.
pub(crate) async fn whoami(tls: TlsInfo) -> Json<Value> {
    Json(json!({
        "alpn": tls.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
        "sni": tls.server_name(),
        "version": tls.protocol_version().map(|v| format!("{v:?}")),
        "client": tls.client_certificate().map(|c| hex(c)),
        "chain": tls.peer_certificates().len(),
    }))
}

/// Whether the request came over TLS.
pub(crate) async fn maybe_tls(tls: Option<TlsInfo>) -> &'static str {
    if tls.is_some() { "tls" } else { "plain" }
}

pub(crate) fn rt() -> portico::rt::Runtime {
    portico::rt::current().unwrap()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serves `app` over TLS on a free loopback port.
pub(crate) fn serve_tls(
    app: App,
    tls: TlsConfig,
    adjust: impl FnOnce(portico::Server) -> portico::Server,
) -> ServerHandle {
    serve_with(app, |server| adjust(server.tls(tls)))
}

/// An authority, a server certificate for `localhost` and `127.0.0.1`, and a client
/// certificate, all made here.
pub(crate) struct Pki {
    pub(crate) ca: CertificateDer<'static>,
    pub(crate) server_cert_pem: String,
    pub(crate) server_key_pem: String,
    pub(crate) client_cert: CertificateDer<'static>,
    pub(crate) client_key: PrivateKeyDer<'static>,
}

impl Pki {
    pub(crate) fn new(name: &str) -> Pki {
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

    pub(crate) fn tls(&self) -> TlsConfig {
        TlsConfig::from_pem(&self.server_cert_pem, &self.server_key_pem).unwrap()
    }

    pub(crate) fn write(&self, cert: &std::path::Path, key: &std::path::Path) {
        std::fs::write(cert, &self.server_cert_pem).unwrap();
        std::fs::write(key, &self.server_key_pem).unwrap();
    }

    pub(crate) fn roots(&self) -> RootCertStore {
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
    pub(crate) fn client(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut config = self.builder().with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// As [`client`](Self::client), showing the client certificate.
    pub(crate) fn client_with_cert(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
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
pub(crate) struct Client {
    pub(crate) alpn: Option<Vec<u8>>,
    sender: Sender,
}

enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Body>),
    Http2(hyper::client::conn::http2::SendRequest<Body>),
}

impl Client {
    pub(crate) async fn connect(addr: SocketAddr, config: Arc<ClientConfig>) -> Client {
        Client::try_connect(addr, config).await.unwrap()
    }

    pub(crate) async fn try_connect(
        addr: SocketAddr,
        config: Arc<ClientConfig>,
    ) -> io::Result<Client> {
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

    pub(crate) async fn get(&mut self, path: &str) -> (http::Version, u16, Bytes) {
        self.try_get(path).await.unwrap()
    }

    pub(crate) async fn try_get(&mut self, path: &str) -> io::Result<(http::Version, u16, Bytes)> {
        self.send("GET", path, Vec::new()).await
    }

    pub(crate) async fn send(
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
pub(crate) struct Io(TlsStream<TcpStream>);

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
