//! [`TlsConfig`]: the server's certificate, the protocols it offers by ALPN, and whether it
//! asks clients for theirs; swapped whole when reloaded.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{RootCertStore, ServerConfig as RustlsConfig};

use crate::server::Protocol;

/// Whether clients must show a certificate (mutual TLS), set with
/// [`TlsConfig::client_auth`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A client without a certificate signed by one of the roots fails the handshake.
    Required,
    /// A client may connect without a certificate; one it shows must be signed by one of the
    /// roots. Handlers tell the two apart with
    /// [`TlsInfo::client_certificate`](super::TlsInfo::client_certificate).
    Optional,
}

/// A server's TLS settings, given to [`Server::tls`](crate::Server::tls): its certificate
/// chain and private key, HTTP/2 and HTTP/1.1 offered by ALPN (HTTP/2 with the `http2`
/// feature), and optionally client certificates ([`client_auth`](Self::client_auth)).
///
/// Clones share one configuration: keep one to [`reload`](Self::reload) the certificate
/// while the server runs. Connections made from then on get the new one; connections
/// already open keep the one they were made with.
///
/// The cryptography is [aws-lc-rs](https://docs.rs/aws-lc-rs)'s, through rustls: TLS 1.3
/// (with post-quantum key exchange preferred) and 1.2 are offered. A ready
/// [`rustls::ServerConfig`] is taken as it is (with its own crypto provider), except that an
/// empty ALPN list gets the one above.
///
/// # Examples
///
/// ```no_run
/// use portico_http::App;
/// use portico_http::tls::TlsConfig;
///
/// # async fn example() -> std::io::Result<()> {
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// let server = App::new()
///     .get("/", || async { "Hello over TLS" })
///     .serve("0.0.0.0:8443")
///     .tls(tls.clone())
///     .start()?;
/// // Later, after the certificate was renewed on disk:
/// tls.reload()?;
/// # server.stop().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    shared: Arc<RwLock<State>>,
}

/// The configuration in force, and how to make it again.
struct State {
    configs: Variants,
    origin: Origin,
    client: Option<(Arc<dyn ClientCertVerifier>, ClientAuth)>,
}

/// Where the certificate came from, for [`TlsConfig::reload`].
#[derive(Debug, Clone)]
enum Origin {
    Files { cert: PathBuf, key: PathBuf },
    Memory,
    Ready,
}

/// The configuration as each kind of server uses it: the ALPN list narrowed to what the
/// server speaks.
struct Variants {
    /// HTTP/2 (with the `http2` feature) and HTTP/1.1.
    auto: Arc<RustlsConfig>,
    /// HTTP/1.1 only ([`Server::http1_only`](crate::Server::http1_only)).
    http1: Arc<RustlsConfig>,
    /// HTTP/2 only.
    #[cfg(feature = "http2")]
    http2: Arc<RustlsConfig>,
}

const H2: &[u8] = b"h2";
const HTTP11: &[u8] = b"http/1.1";

impl Variants {
    fn new(mut base: RustlsConfig) -> Self {
        if base.alpn_protocols.is_empty() {
            base.alpn_protocols = vec![H2.to_vec(), HTTP11.to_vec()];
        }
        // Without the `http2` feature, HTTP/2 cannot be spoken: it is not offered.
        if !cfg!(feature = "http2") {
            base.alpn_protocols.retain(|p| p != H2);
        }
        let narrowed = |keep: fn(&[u8]) -> bool| {
            let mut config = base.clone();
            config.alpn_protocols.retain(|p| keep(p));
            Arc::new(config)
        };
        Variants {
            http1: narrowed(|p| p != H2),
            #[cfg(feature = "http2")]
            http2: narrowed(|p| p == H2),
            auto: Arc::new(base),
        }
    }

    fn get(&self, protocol: Protocol) -> &Arc<RustlsConfig> {
        match protocol {
            Protocol::Auto => &self.auto,
            Protocol::Http1 => &self.http1,
            #[cfg(feature = "http2")]
            Protocol::Http2 => &self.http2,
        }
    }
}

/// aws-lc-rs's crypto, named here rather than taken from the process's default, so that
/// another crate choosing another provider changes nothing.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Reads a PEM file's certificates, failing if there is none.
fn certs_from_file(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|err| pem_error(path.display(), err))?;
    if certs.is_empty() {
        return Err(invalid(format!("{}: no certificate in it", path.display())));
    }
    Ok(certs)
}

fn certs_from_pem(pem: &[u8], what: &str) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| pem_error(what, err))?;
    if certs.is_empty() {
        return Err(invalid(format!("{what}: no certificate in it")));
    }
    Ok(certs)
}

fn pem_error(what: impl fmt::Display, err: rustls::pki_types::pem::Error) -> io::Error {
    match err {
        rustls::pki_types::pem::Error::Io(err) => {
            io::Error::new(err.kind(), format!("{what}: {err}"))
        }
        rustls::pki_types::pem::Error::NoItemsFound => {
            invalid(format!("{what}: no PEM item of the expected kind in it"))
        }
        other => invalid(format!("{what}: {other}")),
    }
}

/// The certificate chain with its key, checked to belong together.
fn certified(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<Arc<dyn ResolvesServerCert>> {
    let key = CertifiedKey::from_der(certs, key, &provider())
        .map_err(|err| invalid(format!("the certificate and its key: {err}")))?;
    Ok(Arc::new(SingleCertAndKey::from(key)))
}

/// A rustls configuration with our defaults: aws-lc-rs, TLS 1.3 and 1.2, the certificate given,
/// and the client verifier if there is one.
fn build(
    cert: Arc<dyn ResolvesServerCert>,
    client: Option<&Arc<dyn ClientCertVerifier>>,
) -> io::Result<RustlsConfig> {
    let builder = RustlsConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| invalid(format!("TLS settings: {err}")))?;
    let builder = match client {
        Some(verifier) => builder.with_client_cert_verifier(verifier.clone()),
        None => builder.with_no_client_auth(),
    };
    Ok(builder.with_cert_resolver(cert))
}

impl TlsConfig {
    fn new(config: RustlsConfig, origin: Origin) -> Self {
        TlsConfig {
            shared: Arc::new(RwLock::new(State {
                configs: Variants::new(config),
                origin,
                client: None,
            })),
        }
    }

    /// Reads the certificate chain (PEM, the server's certificate first) and its private key
    /// (PEM: PKCS#8, PKCS#1 or SEC1) from two files, as uvicorn's `--ssl-certfile` and
    /// `--ssl-keyfile` do. One file holding both may be named twice.
    ///
    /// # Errors
    ///
    /// If a file cannot be read, holds no certificate or no key, or the key does not belong
    /// to the certificate; the message names the file.
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> io::Result<Self> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let config = build(Self::load_files(cert, key)?, None)?;
        let origin = Origin::Files {
            cert: cert.to_owned(),
            key: key.to_owned(),
        };
        Ok(Self::new(config, origin))
    }

    /// As [`from_pem_files`](Self::from_pem_files), from PEM text in memory (a secret
    /// handed over in an environment variable, a certificate made in a test).
    ///
    /// # Errors
    ///
    /// If there is no certificate or no key, or the key does not belong to the certificate.
    pub fn from_pem(cert: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> io::Result<Self> {
        let config = build(Self::load_pem(cert.as_ref(), key.as_ref())?, None)?;
        Ok(Self::new(config, Origin::Memory))
    }

    /// A ready rustls configuration, used as it is: its crypto provider, certificates, client
    /// verifier and ALPN list (HTTP/2 and HTTP/1.1 when the list is empty). The same as
    /// `TlsConfig::from(config)`.
    pub fn from_server_config(config: RustlsConfig) -> Self {
        Self::new(config, Origin::Ready)
    }

    fn load_files(cert: &Path, key: &Path) -> io::Result<Arc<dyn ResolvesServerCert>> {
        let certs = certs_from_file(cert)?;
        let key = PrivateKeyDer::from_pem_file(key).map_err(|err| pem_error(key.display(), err))?;
        certified(certs, key)
    }

    fn load_pem(cert: &[u8], key: &[u8]) -> io::Result<Arc<dyn ResolvesServerCert>> {
        let certs = certs_from_pem(cert, "the certificate PEM")?;
        let key =
            PrivateKeyDer::from_pem_slice(key).map_err(|err| pem_error("the key PEM", err))?;
        certified(certs, key)
    }

    /// Asks clients for a certificate signed by one of `roots` (mutual TLS), which handlers
    /// read through [`TlsInfo`](super::TlsInfo). Returns a new configuration: clones made
    /// before do not ask.
    ///
    /// # Errors
    ///
    /// If `roots` is empty, or the configuration was made from a ready
    /// [`rustls::ServerConfig`] (whose client verifier is set where it was built).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use portico_http::tls::{ClientAuth, TlsConfig};
    ///
    /// # fn example() -> std::io::Result<()> {
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?
    ///     .client_auth_pem_file("clients-ca.pem", ClientAuth::Required)?;
    /// # drop(tls);
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_auth(self, roots: RootCertStore, mode: ClientAuth) -> io::Result<Self> {
        let state = self.state();
        if matches!(state.origin, Origin::Ready) {
            return Err(invalid(
                "a ready rustls ServerConfig carries its own client verifier: set it there".into(),
            ));
        }
        let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
        let builder = match mode {
            ClientAuth::Required => builder,
            ClientAuth::Optional => builder.allow_unauthenticated(),
        };
        let verifier = builder
            .build()
            .map_err(|err| invalid(format!("client certificate roots: {err}")))?;
        let cert = state.configs.auto.cert_resolver.clone();
        let config = build(cert, Some(&verifier))?;
        let origin = state.origin.clone();
        drop(state);
        let new = Self::new(config, origin);
        new.state_mut().client = Some((verifier, mode));
        Ok(new)
    }

    /// As [`client_auth`](Self::client_auth), with the roots read from a PEM file of one or
    /// more CA certificates.
    ///
    /// # Errors
    ///
    /// If the file cannot be read or holds no valid certificate, or as `client_auth`.
    pub fn client_auth_pem_file(
        self,
        roots: impl AsRef<Path>,
        mode: ClientAuth,
    ) -> io::Result<Self> {
        let path = roots.as_ref();
        let mut store = RootCertStore::empty();
        for cert in certs_from_file(path)? {
            store
                .add(cert)
                .map_err(|err| invalid(format!("{}: {err}", path.display())))?;
        }
        self.client_auth(store, mode)
    }

    /// Reads the certificate and key again from the files the configuration was made from
    /// (after a renewal, on `SIGHUP`, ...). New connections get them; open ones keep theirs.
    /// On error, the certificate in use stays.
    ///
    /// # Errors
    ///
    /// As [`from_pem_files`](Self::from_pem_files); and if the configuration was not made
    /// from files.
    pub fn reload(&self) -> io::Result<()> {
        // Read apart from the match: its guard would live through the reload, which writes.
        let origin = self.state().origin.clone();
        match origin {
            Origin::Files { cert, key } => self.reload_from_pem_files(cert, key),
            _ => Err(invalid(
                "this TLS configuration was not read from files: \
                 use reload_from_pem or reload_server_config"
                    .into(),
            )),
        }
    }

    /// Replaces the certificate and key with those of two other files (read as
    /// [`from_pem_files`](Self::from_pem_files) reads them), which [`reload`](Self::reload)
    /// reads from then on. Client certificate settings stay.
    ///
    /// # Errors
    ///
    /// As `from_pem_files`; the certificate in use stays.
    pub fn reload_from_pem_files(
        &self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> io::Result<()> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let loaded = Self::load_files(cert, key)?;
        self.install(
            loaded,
            Origin::Files {
                cert: cert.to_owned(),
                key: key.to_owned(),
            },
        )
    }

    /// Replaces the certificate and key with PEM text in memory. Client certificate settings
    /// stay.
    ///
    /// # Errors
    ///
    /// As [`from_pem`](Self::from_pem); the certificate in use stays.
    pub fn reload_from_pem(&self, cert: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> io::Result<()> {
        let loaded = Self::load_pem(cert.as_ref(), key.as_ref())?;
        self.install(loaded, Origin::Memory)
    }

    /// Replaces the whole configuration with a ready rustls one (as
    /// [`from_server_config`](Self::from_server_config) takes it).
    pub fn reload_server_config(&self, config: RustlsConfig) {
        let mut state = self.state_mut();
        state.configs = Variants::new(config);
        state.origin = Origin::Ready;
        state.client = None;
    }

    fn install(&self, cert: Arc<dyn ResolvesServerCert>, origin: Origin) -> io::Result<()> {
        // Built outside the lock: handshakes starting meanwhile read the old configuration.
        let client = self.state().client.clone();
        let mut config = build(cert, client.as_ref().map(|(verifier, _)| verifier))?;
        config.alpn_protocols = self.state().configs.auto.alpn_protocols.clone();
        let mut state = self.state_mut();
        state.configs = Variants::new(config);
        state.origin = origin;
        state.client = client;
        Ok(())
    }

    /// The rustls configuration a server speaking `protocol` hands a new connection.
    pub(crate) fn current(&self, protocol: Protocol) -> Arc<RustlsConfig> {
        self.state().configs.get(protocol).clone()
    }

    /// The rustls configuration new connections get (ALPN: HTTP/2, with the `http2` feature,
    /// and HTTP/1.1).
    pub fn server_config(&self) -> Arc<RustlsConfig> {
        self.current(Protocol::Auto)
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // Nothing panics while the lock is held; a poisoned lock still holds a whole state.
        self.shared.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.shared.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl From<RustlsConfig> for TlsConfig {
    fn from(config: RustlsConfig) -> Self {
        Self::from_server_config(config)
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("TlsConfig")
            .field("origin", &state.origin)
            .field("client_auth", &state.client.as_ref().map(|(_, mode)| *mode))
            .field(
                "alpn",
                &state
                    .configs
                    .auto
                    .alpn_protocols
                    .iter()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
