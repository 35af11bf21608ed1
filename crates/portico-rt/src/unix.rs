//! Unix domain socket listeners and streams.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// An adapter's Unix stream.
pub trait RawUnixStream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {
    /// Reads what the kernel holds for this socket right now, with one non-blocking read,
    /// whatever the runtime last learned of its readiness: the last look a server takes before
    /// closing an idle connection, so that a request that has just arrived is not lost.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] when nothing is there; [`io::ErrorKind::Unsupported`]
    /// from adapters that cannot do it (the default).
    fn try_read_now(&self, buf: &mut crate::ReadBuf<'_>) -> io::Result<()> {
        let _ = buf;
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Reads into `buf`, which may be uninitialised, filling what arrived.
    ///
    /// The default zeroes the unfilled part and calls `poll_read`; adapters that can read
    /// into uninitialised memory override it, which spares servers a `memset` per read.
    ///
    /// # Errors
    ///
    /// As `poll_read`.
    fn poll_read_buf(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut crate::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = std::task::ready!(self.as_mut().poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// The local address of the socket.
    ///
    /// # Errors
    ///
    /// As [`std::os::unix::net::UnixStream::local_addr`].
    fn local_addr(&self) -> io::Result<SocketAddr>;

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As [`std::os::unix::net::UnixStream::peer_addr`].
    fn peer_addr(&self) -> io::Result<SocketAddr>;

    /// Shuts down the read half, the write half, or both.
    ///
    /// # Errors
    ///
    /// As [`std::os::unix::net::UnixStream::shutdown`].
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

/// An adapter's Unix listener.
pub trait RawUnixListener: Send + Sync + 'static {
    /// Polls for the next connection.
    ///
    /// # Errors
    ///
    /// Whatever `accept(2)` reports.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>>;

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// As [`std::os::unix::net::UnixListener::local_addr`].
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// A Unix domain socket server.
pub struct UnixListener {
    inner: Box<dyn RawUnixListener>,
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl UnixListener {
    /// Wraps an adapter's listener.
    pub fn from_raw(inner: Box<dyn RawUnixListener>) -> Self {
        UnixListener { inner }
    }

    /// Binds to `path` on the [`current`](crate::current) runtime.
    ///
    /// # Errors
    ///
    /// Fails outside a runtime, or as [`std::os::unix::net::UnixListener::bind`] fails (for
    /// instance when the path exists).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let rt = crate::current()?;
        let listener = std::os::unix::net::UnixListener::bind(path)?;
        rt.unix_listener(listener)
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// As [`std::os::unix::net::UnixListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Polls for the next connection.
    ///
    /// # Errors
    ///
    /// As [`RawUnixListener::poll_accept`].
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.inner.poll_accept(cx)
    }

    /// Waits for the next connection.
    ///
    /// # Errors
    ///
    /// As [`RawUnixListener::poll_accept`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a connection is only taken from the kernel's queue when this returns it.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.inner.poll_accept(cx)).await
    }
}

/// A Unix domain socket connection, readable and writable through futures-io.
pub struct UnixStream {
    inner: Box<dyn RawUnixStream>,
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl UnixStream {
    /// Wraps an adapter's stream.
    pub fn from_raw(inner: Box<dyn RawUnixStream>) -> Self {
        UnixStream { inner }
    }

    /// Connects to the socket at `path` on the [`current`](crate::current) runtime.
    ///
    /// # Errors
    ///
    /// Fails outside a runtime, or as the connection attempt fails.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        crate::current()?.unix_connect(path).await
    }

    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// As [`std::os::unix::net::UnixStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As [`std::os::unix::net::UnixStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Shuts down the read half, the write half, or both.
    ///
    /// # Errors
    ///
    /// As [`std::os::unix::net::UnixStream::shutdown`].
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Reads what the kernel holds right now, bypassing what the runtime knows of the socket's
    /// readiness (see [`RawTcpStream::try_read_now`](crate::adapter::RawTcpStream::try_read_now)).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] when nothing is there.
    pub fn try_read_now(&self, buf: &mut crate::ReadBuf<'_>) -> io::Result<()> {
        self.inner.try_read_now(buf)
    }

    /// Reads into `buf`, which may be uninitialised (see [`ReadBuf`](crate::ReadBuf)).
    ///
    /// # Errors
    ///
    /// As a read.
    pub fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut crate::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        std::pin::Pin::new(&mut *self.inner).poll_read_buf(cx, buf)
    }
}

crate::io::forward_io!(UnixStream);
