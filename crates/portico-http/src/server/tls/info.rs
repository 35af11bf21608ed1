//! [`TlsInfo`]: what a connection's TLS handshake settled, for handlers.

use std::sync::Arc;

use http::StatusCode;
use http::request::Parts;
use portico_openapi::{OperationDoc, SecurityDoc};
use rustls::pki_types::CertificateDer;
use rustls::{CipherSuite, ProtocolVersion, ServerConnection};

use crate::error::HttpError;
use crate::extract::{FromRequestParts, Rejection, RequestContext};

/// What the TLS handshake of the request's connection settled: the protocol chosen by ALPN,
/// the server name the client asked for (SNI), the TLS version and cipher suite, and the
/// client's certificates when [mutual TLS](super::TlsConfig::client_auth) is on.
///
/// As a handler parameter, it is answered `500` on a connection without TLS (logged at debug
/// level); take `Option<TlsInfo>` to serve both. The certificates are DER, the client's own
/// first, as it sent them and as rustls verified them against the configured roots; parse
/// them with an X.509 crate to read names and extensions.
///
/// # Examples
///
/// ```
/// use portico_http::tls::TlsInfo;
///
/// async fn whoami(tls: TlsInfo) -> String {
///     match tls.client_certificate() {
///         Some(cert) => format!("a client certificate of {} bytes", cert.len()),
///         None => "no client certificate".to_owned(),
///     }
/// }
/// # drop(portico_http::App::new().get("/whoami", whoami));
/// ```
#[derive(Debug, Clone)]
pub struct TlsInfo(Arc<Settled>);

#[derive(Debug)]
struct Settled {
    alpn: Option<Vec<u8>>,
    server_name: Option<String>,
    version: Option<ProtocolVersion>,
    cipher_suite: Option<CipherSuite>,
    peer_certificates: Vec<CertificateDer<'static>>,
}

impl TlsInfo {
    /// What a finished handshake settled.
    pub(super) fn of(session: &ServerConnection) -> Self {
        TlsInfo(Arc::new(Settled {
            alpn: session.alpn_protocol().map(<[u8]>::to_vec),
            server_name: session.server_name().map(str::to_owned),
            version: session.protocol_version(),
            cipher_suite: session.negotiated_cipher_suite().map(|s| s.suite()),
            peer_certificates: session
                .peer_certificates()
                .map(<[CertificateDer<'static>]>::to_vec)
                .unwrap_or_default(),
        }))
    }

    /// The application protocol chosen by ALPN (`b"h2"`, `b"http/1.1"`), if the client
    /// offered one.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.0.alpn.as_deref()
    }

    /// The host name the client asked for (SNI), if it sent one (clients send none for an
    /// IP address).
    pub fn server_name(&self) -> Option<&str> {
        self.0.server_name.as_deref()
    }

    /// The TLS version (`TLSv1_3`, `TLSv1_2`).
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.0.version
    }

    /// The cipher suite.
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        self.0.cipher_suite
    }

    /// The client's certificate chain (DER, its own certificate first), verified against the
    /// configured roots; empty when the client showed none or client certificates are not
    /// asked for.
    pub fn peer_certificates(&self) -> &[CertificateDer<'static>] {
        &self.0.peer_certificates
    }

    /// The client's own certificate (DER), if it showed one.
    pub fn client_certificate(&self) -> Option<&CertificateDer<'static>> {
        self.0.peer_certificates.first()
    }

    /// What a connection over TLS 1.3 would show, for requests that come over no socket:
    /// those of the [test client](crate::testing::TestClient::tls). ALPN chose `http/1.1`, the
    /// client asked for `testserver` (the test client's host), the cipher suite is
    /// `TLS13_AES_128_GCM_SHA256`, and the client showed no certificate (see
    /// [`with_peer_certificates`](Self::with_peer_certificates)).
    pub fn simulated() -> Self {
        TlsInfo(Arc::new(Settled {
            alpn: Some(b"http/1.1".to_vec()),
            server_name: Some("testserver".to_owned()),
            version: Some(ProtocolVersion::TLSv1_3),
            cipher_suite: Some(CipherSuite::TLS13_AES_128_GCM_SHA256),
            peer_certificates: Vec::new(),
        }))
    }

    /// The same, with `chain` (DER, the client's own certificate first) as the certificates
    /// the client showed, taken as verified: for tests of the routes that need one
    /// ([`MutualTls`]), with a certificate made in the test.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::tls::TlsInfo;
    /// use rustls::pki_types::CertificateDer;
    ///
    /// let certificate = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
    /// let tls = TlsInfo::simulated().with_peer_certificates(vec![certificate.clone()]);
    /// assert_eq!(tls.client_certificate(), Some(&certificate));
    /// ```
    #[must_use]
    pub fn with_peer_certificates(self, chain: Vec<CertificateDer<'static>>) -> Self {
        let settled = &self.0;
        TlsInfo(Arc::new(Settled {
            alpn: settled.alpn.clone(),
            server_name: settled.server_name.clone(),
            version: settled.version,
            cipher_suite: settled.cipher_suite,
            peer_certificates: chain,
        }))
    }
}

impl FromRequestParts for TlsInfo {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match parts.extensions.get::<TlsInfo>() {
            Some(info) => Ok(info.clone()),
            None => {
                // Debug: `Option<TlsInfo>` asks on every plain connection.
                tracing::debug!("a handler takes a TlsInfo but the connection has no TLS");
                Err(Rejection::Response(crate::response::internal_error()))
            }
        }
    }
}

/// A client that showed a certificate over mutual TLS: the `mutualTLS` security scheme of
/// OpenAPI 3.1, as a handler or dependency parameter.
///
/// The certificate was verified against the roots given to
/// [`TlsConfig::client_auth`](super::TlsConfig::client_auth) during the handshake; with
/// [`ClientAuth::Optional`](super::ClientAuth::Optional), this is what tells the routes that
/// need one from the others. A request without a client certificate (or without TLS) is
/// answered `403` with `{"detail":"Not authenticated"}`: a certificate is asked for in the
/// handshake, which no HTTP challenge can ask for again (a `401` must name one). Take
/// `Option<MutualTls>` to serve both. The route's OpenAPI operation requires the
/// `MutualTLS` scheme, which the document's `components.securitySchemes` declares.
///
/// # Examples
///
/// ```
/// use portico_http::tls::MutualTls;
///
/// async fn admin(client: MutualTls) -> String {
///     format!("a client certificate of {} bytes", client.certificate().len())
/// }
/// # drop(portico_http::App::new().get("/admin", admin));
/// ```
#[derive(Debug, Clone)]
pub struct MutualTls(TlsInfo);

impl MutualTls {
    /// The client's own certificate (DER).
    pub fn certificate(&self) -> &CertificateDer<'static> {
        match self.0.client_certificate() {
            Some(certificate) => certificate,
            None => unreachable!("a MutualTls is made only for a client with a certificate"),
        }
    }

    /// The connection's TLS, with the client's whole chain
    /// ([`peer_certificates`](TlsInfo::peer_certificates)).
    pub fn tls(&self) -> &TlsInfo {
        &self.0
    }
}

impl FromRequestParts for MutualTls {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match parts.extensions.get::<TlsInfo>() {
            Some(info) if info.client_certificate().is_some() => Ok(MutualTls(info.clone())),
            _ => Err(HttpError::new(StatusCode::FORBIDDEN)
                .detail("Not authenticated")
                .into()),
        }
    }

    fn describe(doc: &mut OperationDoc) {
        let scheme = crate::security::scheme_object("mutualTLS", serde_json::json!({}), None);
        doc.security(SecurityDoc::new("MutualTLS", scheme, true));
    }
}
