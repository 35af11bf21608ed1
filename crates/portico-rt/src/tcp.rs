//! TCP listeners and streams, with socket options set in one place for every runtime.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use socket2::{Domain, Protocol, Socket, Type};

use crate::Runtime;

/// An adapter's TCP stream: futures-io reads and writes plus the socket queries Portico needs.
pub trait RawTcpStream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {
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
    /// As [`std::net::TcpStream::local_addr`].
    fn local_addr(&self) -> io::Result<SocketAddr>;

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpStream::peer_addr`].
    fn peer_addr(&self) -> io::Result<SocketAddr>;

    /// Sets `TCP_NODELAY`.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpStream::set_nodelay`].
    fn set_nodelay(&self, nodelay: bool) -> io::Result<()>;

    /// Reads `TCP_NODELAY`.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpStream::nodelay`].
    fn nodelay(&self) -> io::Result<bool>;

    /// Shuts down the read half, the write half, or both.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpStream::shutdown`].
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

/// An adapter's TCP listener.
pub trait RawTcpListener: Send + Sync + 'static {
    /// Polls for the next connection.
    ///
    /// # Errors
    ///
    /// Whatever `accept(2)` reports; many (`EMFILE`, `ECONNABORTED`) are transient, and a server
    /// should keep accepting after them.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>>;

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpListener::local_addr`].
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// How to create a listening TCP socket, the same way on every runtime.
///
/// Defaults: `SO_REUSEADDR` on (Unix), `SO_REUSEPORT` off, a backlog of 1024, and `TCP_NODELAY`
/// on for accepted connections (request/response protocols want small writes sent at once).
///
/// # Examples
///
/// ```
/// use portico_rt::ListenOptions;
///
/// # fn example() -> std::io::Result<()> {
/// let listener = ListenOptions::new().backlog(4096).bind("127.0.0.1:0")?;
/// println!("listening on {}", listener.local_addr()?);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ListenOptions {
    reuse_address: bool,
    reuse_port: bool,
    backlog: i32,
    nodelay: bool,
}

impl Default for ListenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ListenOptions {
    /// The defaults described above.
    pub fn new() -> Self {
        // 1024 is what most servers use; the kernel caps it at `net.core.somaxconn` anyway.
        ListenOptions {
            reuse_address: cfg!(unix),
            reuse_port: false,
            backlog: 1024,
            nodelay: true,
        }
    }

    /// Sets `SO_REUSEADDR`, so a restarted server can bind while old connections linger.
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = on;
        self
    }

    /// Sets `SO_REUSEPORT` (Unix): several sockets may bind the same port and the kernel spreads
    /// connections among them, which is how one listener per worker thread is built.
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// Sets the length of the queue of connections waiting to be accepted.
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        self
    }

    /// Sets `TCP_NODELAY` on every accepted connection.
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// Creates, binds and starts a blocking [`std::net::TcpListener`] with these options,
    /// trying each address `addr` resolves to until one binds.
    ///
    /// # Errors
    ///
    /// The error of the last address tried, or `InvalidInput` if `addr` resolves to nothing.
    pub fn bind_std(&self, addr: impl ToSocketAddrs) -> io::Result<std::net::TcpListener> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match self.bind_one(addr) {
                Ok(listener) => return Ok(listener),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "address resolved to nothing")
        }))
    }

    fn bind_one(&self, addr: SocketAddr) -> io::Result<std::net::TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        if self.reuse_address {
            socket.set_reuse_address(true)?;
        }
        #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
        if self.reuse_port {
            socket.set_reuse_port(true)?;
        }
        socket.bind(&addr.into())?;
        socket.listen(self.backlog)?;
        socket.set_nonblocking(true)?;
        Ok(socket.into())
    }

    /// Binds a listener on the [`current`](crate::current) runtime.
    ///
    /// # Errors
    ///
    /// As [`bind_std`](Self::bind_std); also fails outside a runtime.
    pub fn bind(&self, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        self.bind_on(&crate::current()?, addr)
    }

    /// Binds a listener on the given runtime.
    ///
    /// # Errors
    ///
    /// As [`bind_std`](Self::bind_std).
    pub fn bind_on(&self, rt: &Runtime, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Ok(rt
            .tcp_listener(self.bind_std(addr)?)?
            .nodelay_on_accept(self.nodelay))
    }
}

/// A TCP socket server, listening for connections.
///
/// # Examples
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use portico_rt::{TcpListener, TcpStream};
///
/// # async fn example() -> std::io::Result<()> {
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let client = portico_rt::current()?.spawn(async move {
///     let mut stream = TcpStream::connect(addr).await?;
///     stream.write_all(b"ping").await?;
///     std::io::Result::Ok(())
/// });
/// let (mut conn, _peer) = listener.accept().await?;
/// let mut buf = [0; 4];
/// conn.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// client.await.unwrap()?;
/// # Ok(())
/// # }
/// ```
pub struct TcpListener {
    inner: Box<dyn RawTcpListener>,
    nodelay: Option<bool>,
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl TcpListener {
    /// Wraps an adapter's listener.
    pub fn from_raw(inner: Box<dyn RawTcpListener>) -> Self {
        TcpListener {
            inner,
            nodelay: None,
        }
    }

    /// Binds with the default [`ListenOptions`] on the [`current`](crate::current) runtime.
    ///
    /// # Errors
    ///
    /// As [`ListenOptions::bind`].
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        ListenOptions::new().bind(addr)
    }

    /// Registers a bound, listening std listener with the [`current`](crate::current) runtime.
    ///
    /// # Errors
    ///
    /// Fails outside a runtime, or if the reactor refuses the socket.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        crate::current()?.tcp_listener(listener)
    }

    /// Sets (or with `None`, leaves alone) `TCP_NODELAY` on every accepted connection.
    pub fn nodelay_on_accept(mut self, nodelay: impl Into<Option<bool>>) -> Self {
        self.nodelay = nodelay.into();
        self
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Polls for the next connection, applying the listener's `TCP_NODELAY` setting.
    ///
    /// # Errors
    ///
    /// As [`RawTcpListener::poll_accept`].
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, peer) = match self.inner.poll_accept(cx) {
            Poll::Ready(Ok(accepted)) => accepted,
            other => return other,
        };
        if let Some(nodelay) = self.nodelay {
            stream.set_nodelay(nodelay)?;
        }
        Poll::Ready(Ok((stream, peer)))
    }

    /// Waits for the next connection.
    ///
    /// # Errors
    ///
    /// As [`RawTcpListener::poll_accept`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a connection is only taken from the kernel's queue when this returns it.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }
}

/// A TCP connection, readable and writable through futures-io's `AsyncRead` and `AsyncWrite`.
pub struct TcpStream {
    inner: Box<dyn RawTcpStream>,
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl TcpStream {
    /// Wraps an adapter's stream.
    pub fn from_raw(inner: Box<dyn RawTcpStream>) -> Self {
        TcpStream { inner }
    }

    /// Connects to `addr` on the [`current`](crate::current) runtime.
    ///
    /// # Errors
    ///
    /// Fails outside a runtime, or as the connection attempt fails.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        crate::current()?.tcp_connect(addr).await
    }

    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Sets `TCP_NODELAY`.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpStream::set_nodelay`].
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    /// Reads `TCP_NODELAY`.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpStream::nodelay`].
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Shuts down the read half, the write half, or both.
    ///
    /// # Errors
    ///
    /// As [`std::net::TcpStream::shutdown`].
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

    /// Reads into `buf`, which may be uninitialised (see [`ReadBuf`](crate::ReadBuf)): what
    /// HTTP servers use instead of `poll_read`, to skip zeroing their buffer on every read.
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

crate::io::forward_io!(TcpStream);
