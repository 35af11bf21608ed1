//! [`TlsInfo`]: what a connection's TLS handshake settled, for handlers.

use std::sync::Arc;

use http::request::Parts;
use rustls::pki_types::CertificateDer;
use rustls::{CipherSuite, ProtocolVersion, ServerConnection};

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
