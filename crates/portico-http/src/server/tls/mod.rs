//! HTTPS: rustls over the runtime's futures-io socket (futures-rustls), so the same code runs
//! on tokio and on smol.
//!
//! A TLS connection takes the plain one's way (`conn::serve_opened`) once its handshake is done:
//!
//! * the handshake runs in the connection's own task, never in the accept loop, holding the
//!   connection's place under `max_connections` from the moment it is accepted;
//! * it counts against the header-read timeout: the handshake and the first request head
//!   must both be in within that time of the accept, as the head alone must on a plain
//!   connection (a client that connects and sends no ClientHello is closed then);
//! * it is given up when a graceful shutdown settles, as an idle connection is closed then;
//! * a failed one is logged at debug level and closes the connection;
//! * the protocol is the one ALPN chose (`h2` or `http/1.1`); a client that offered none is
//!   served as a plain connection is (HTTP/1.1, or HTTP/2 by its preface);
//! * each request carries the handshake's [`TlsInfo`] in its extensions.
//!
//! A draining server cannot take a last look at what the kernel holds for a TLS connection
//! (rustls holds what it decrypted), so an idle TLS connection closes when the drain settles
//! without one.

use std::io::{self, BufRead};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::FutureExt;
use futures_rustls::server::TlsStream;
use portico_rt::{ReadBuf, Runtime};
use portico_tasks::SemaphoreGuardArc;

use super::conn::{self, Opening};
use super::socket::Transport;
use super::{Protocol, Server, ServerShared};
use crate::service::AppService;

mod config;
mod info;

pub use config::{ClientAuth, TlsConfig};
pub use info::{MutualTls, TlsInfo};

impl Server {
    /// Serves HTTPS with `config`: a [`TlsConfig`], or a ready [`rustls::ServerConfig`].
    /// HTTP/2 (with the `http2` feature) and HTTP/1.1 are offered by ALPN on the same port
    /// ([`http1_only`](Self::http1_only) and `http2_only` narrow the offer). Handlers read the
    /// handshake's outcome, the client's certificate included, with [`TlsInfo`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use portico_http::App;
    /// use portico_http::tls::TlsConfig;
    ///
    /// # async fn example() -> std::io::Result<()> {
    /// App::new()
    ///     .get("/", || async { "Hello over TLS" })
    ///     .serve("0.0.0.0:8443")
    ///     .tls(TlsConfig::from_pem_files("cert.pem", "key.pem")?)
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn tls(mut self, config: impl Into<TlsConfig>) -> Self {
        self.config.tls = Some(config.into());
        self
    }
}

/// Shakes hands on an accepted connection, then serves it (see the module docs).
pub(super) async fn serve<S: Transport>(
    stream: S,
    tls: &TlsConfig,
    app: AppService,
    server: Arc<ServerShared>,
    rt: Runtime,
    slot: SemaphoreGuardArc,
) {
    let accepted = std::time::Instant::now();
    let peer = stream.peer();
    let wanted = server.config.protocol;
    let accept = futures_rustls::TlsAcceptor::from(tls.current(wanted)).accept(Raw(stream));
    let settled = async {
        drain_settled(&server).await;
        Err(io::Error::other("the server shut down first"))
    };
    let timeout = server.config.header_read_timeout;
    let stream = match rt.timeout(timeout, accept.or(settled)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => {
            tracing::debug!(?peer, "TLS handshake failed: {err}");
            return;
        }
        Err(_) => {
            tracing::debug!(?peer, "TLS handshake not done within {timeout:?}");
            return;
        }
    };
    let session = stream.get_ref().1;
    let protocol = match session.alpn_protocol() {
        #[cfg(feature = "http2")]
        Some(b"h2") => Protocol::Http2,
        Some(b"http/1.1") => Protocol::Http1,
        _ => wanted,
    };
    let opening = Opening {
        protocol,
        peer,
        tls: Some(TlsInfo::of(session)),
        // The handshake spent part of the header timeout: the first head has the rest.
        accepted,
    };
    conn::serve_opened(stream, app, server, rt, slot, opening).await;
}

/// Waits until a graceful shutdown has settled: idle connections close then.
async fn drain_settled(server: &ServerShared) {
    loop {
        if server.is_settled() {
            return;
        }
        let listener = server.settle.listen();
        if server.is_settled() {
            return;
        }
        listener.await;
    }
}

/// The socket under TLS, read through [`Transport::poll_read_buf`]: the runtime's own read
/// path, which on smol skips a read bound to fail after one that drained the socket.
struct Raw<S>(S);

impl<S: Transport> AsyncRead for Raw<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        ready!(self.get_mut().0.poll_read_buf(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

impl<S: Transport> AsyncWrite for Raw<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_close(cx)
    }
}

impl<S: Transport> Transport for TlsStream<Raw<S>> {
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        // futures-rustls reads into initialised memory only, and zeroing hyper's buffer on
        // every read would cost more than the rest of the read. So it reads one byte, which
        // drives the connection (the socket read, the decryption, the end of the stream),
        // and the rest of what was decrypted is copied out of rustls as it is.
        let mut first = [0u8; 1];
        let n = ready!(Pin::new(&mut *self).poll_read(cx, &mut first))?;
        buf.put_slice(&first[..n]);
        if n == 1 {
            let mut reader = self.get_mut().1.reader();
            while buf.remaining() > 0 {
                let Ok(chunk) = reader.fill_buf() else {
                    break;
                };
                if chunk.is_empty() {
                    break;
                }
                let take = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk[..take]);
                reader.consume(take);
            }
        }
        Poll::Ready(Ok(()))
    }

    fn try_read_now(&self, _buf: &mut ReadBuf<'_>) -> io::Result<()> {
        // See the module docs: no last look at a draining TLS connection.
        Err(io::ErrorKind::Unsupported.into())
    }

    fn peer(&self) -> Option<std::net::SocketAddr> {
        self.get_ref().0.0.peer()
    }
}
