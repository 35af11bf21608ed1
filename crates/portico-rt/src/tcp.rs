//! TCP listeners and streams, with socket options set in one place for every runtime.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use socket2::{Domain, Protocol, Socket, Type};

use crate::Runtime;

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

crate::net::socket_types! {
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
    listener TcpListener,
    /// A TCP connection, readable and writable through futures-io's `AsyncRead` and
    /// `AsyncWrite`.
    stream TcpStream,
    raw stream: dyn crate::adapter::RawTcpStream,
    addr: SocketAddr,
    options: OnAccept,
    std: "std::net::TcpListener", "std::net::TcpStream",
}

/// What a [`TcpListener`] sets on the connections it accepts.
#[derive(Debug, Default)]
struct OnAccept {
    nodelay: Option<bool>,
}

impl TcpListener {
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
        self.options.nodelay = nodelay.into();
        self
    }

    fn on_accept(options: &OnAccept, stream: &TcpStream) -> io::Result<()> {
        match options.nodelay {
            Some(nodelay) => stream.set_nodelay(nodelay),
            None => Ok(()),
        }
    }
}

impl TcpStream {
    /// Connects to `addr` on the [`current`](crate::current) runtime.
    ///
    /// # Errors
    ///
    /// Fails outside a runtime, or as the connection attempt fails.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        crate::current()?.tcp_connect(addr).await
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
}
