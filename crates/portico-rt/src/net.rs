//! What TCP and Unix sockets have in common, written once: the traits adapters implement for
//! their streams and listeners, and the macro that writes the shared part of the public socket
//! types ([`TcpStream`](crate::TcpStream) and [`UnixStream`](crate::UnixStream), and their
//! listeners).
//!
//! The public types are written by a macro rather than as one generic type: a generic
//! `Stream<Tcp>` behind a `TcpStream` alias would add names to the crate root and show up in
//! every error message, where applications expect the plain types that std, tokio and
//! async-net give them.

use std::io;
use std::net::Shutdown;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::ReadBuf;

/// An adapter's stream, TCP or Unix: futures-io reads and writes plus the socket queries Portico
/// needs. TCP streams also implement [`RawTcpStream`].
pub trait RawStream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {
    /// The kind of address of the socket: [`std::net::SocketAddr`] or
    /// [`std::os::unix::net::SocketAddr`].
    type Addr;

    /// Reads what the kernel holds for this socket right now, with one non-blocking read,
    /// whatever the runtime last learned of its readiness: the last look a server takes before
    /// closing an idle connection, so that a request that has just arrived is not lost.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] when nothing is there; [`io::ErrorKind::Unsupported`]
    /// from adapters that cannot do it (the default).
    fn try_read_now(&self, buf: &mut ReadBuf<'_>) -> io::Result<()> {
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
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = std::task::ready!(self.as_mut().poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// The local address of the socket.
    ///
    /// # Errors
    ///
    /// As `local_addr` on the std socket.
    fn local_addr(&self) -> io::Result<Self::Addr>;

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As `peer_addr` on the std socket.
    fn peer_addr(&self) -> io::Result<Self::Addr>;

    /// Shuts down the read half, the write half, or both.
    ///
    /// # Errors
    ///
    /// As `shutdown` on the std socket.
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

/// What a TCP stream adds to a [`RawStream`].
pub trait RawTcpStream: RawStream<Addr = std::net::SocketAddr> {
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
}

/// An adapter's listener, TCP or Unix.
pub trait RawListener: Send + Sync + 'static {
    /// The public stream type it accepts: [`TcpStream`](crate::TcpStream) or
    /// [`UnixStream`](crate::UnixStream).
    type Stream;
    /// The kind of address of the socket.
    type Addr;

    /// Polls for the next connection.
    ///
    /// # Errors
    ///
    /// Whatever `accept(2)` reports; many (`EMFILE`, `ECONNABORTED`) are transient, and a server
    /// should keep accepting after them.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Stream, Self::Addr)>>;

    /// Takes a connection already in the kernel's queue, if there is one, without waiting:
    /// one non-blocking `accept(2)`, whatever the reactor last reported (`Ok(None)` when the
    /// queue is empty). A server that stops accepting takes what is queued with this before it
    /// closes the listener, which would reset those connections.
    ///
    /// The default polls [`poll_accept`](Self::poll_accept) once, which may miss a connection
    /// the reactor has not reported yet; adapters call `accept(2)` themselves.
    ///
    /// # Errors
    ///
    /// As [`poll_accept`](Self::poll_accept).
    fn try_accept(&self) -> io::Result<Option<(Self::Stream, Self::Addr)>> {
        match self.poll_accept(&mut Context::from_waker(std::task::Waker::noop())) {
            Poll::Ready(accepted) => accepted.map(Some),
            Poll::Pending => Ok(None),
        }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// As `local_addr` on the std listener.
    fn local_addr(&self) -> io::Result<Self::Addr>;
}

/// Writes the part of a public stream and listener pair that TCP and Unix share: the structs,
/// `Debug`, `from_raw`, the address queries, `shutdown`, the two reads servers use, futures-io's
/// traits, and `accept`. Each type's own constructors (`bind`, `connect`) and options are
/// written beside it.
///
/// The listener keeps settings of type `$options` (their `Default` at first), and calls
/// `Self::on_accept(&options, &stream)` on each connection it accepts, which the caller writes:
/// TCP sets `TCP_NODELAY` there.
macro_rules! socket_types {
    (
        $(#[$listener_doc:meta])*
        listener $Listener:ident,
        $(#[$stream_doc:meta])*
        stream $Stream:ident,
        raw stream: $Raw:ty,
        addr: $Addr:ty,
        options: $Options:ty,
        std: $std_listener:literal, $std_stream:literal $(,)?
    ) => {
        $(#[$listener_doc])*
        pub struct $Listener {
            inner: Box<dyn $crate::adapter::RawListener<Stream = $Stream, Addr = $Addr>>,
            options: $Options,
        }

        impl std::fmt::Debug for $Listener {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($Listener))
                    .field("local_addr", &self.local_addr().ok())
                    .finish()
            }
        }

        impl $Listener {
            /// Wraps an adapter's listener. For adapter crates.
            pub fn from_raw(
                inner: Box<dyn $crate::adapter::RawListener<Stream = $Stream, Addr = $Addr>>,
            ) -> Self {
                $Listener {
                    inner,
                    options: <$Options>::default(),
                }
            }

            /// The address the listener is bound to.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", $std_listener, "::local_addr`].")]
            pub fn local_addr(&self) -> std::io::Result<$Addr> {
                $crate::adapter::RawListener::local_addr(&*self.inner)
            }

            /// Polls for the next connection.
            ///
            /// # Errors
            ///
            /// As [`RawListener::poll_accept`](crate::adapter::RawListener::poll_accept).
            pub fn poll_accept(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<($Stream, $Addr)>> {
                let (stream, peer) =
                    std::task::ready!($crate::adapter::RawListener::poll_accept(&*self.inner, cx))?;
                Self::on_accept(&self.options, &stream)?;
                std::task::Poll::Ready(Ok((stream, peer)))
            }

            /// Takes a connection already waiting in the kernel's queue, if any, without
            /// waiting (`Ok(None)` when there is none). A server that stops accepting takes
            /// what is queued this way before it closes the listener: closing it resets the
            /// connections still queued, whose clients may have sent a request already.
            ///
            /// # Errors
            ///
            /// As [`RawListener::poll_accept`](crate::adapter::RawListener::poll_accept).
            pub fn try_accept(&self) -> std::io::Result<Option<($Stream, $Addr)>> {
                let Some((stream, peer)) = $crate::adapter::RawListener::try_accept(&*self.inner)?
                else {
                    return Ok(None);
                };
                Self::on_accept(&self.options, &stream)?;
                Ok(Some((stream, peer)))
            }

            /// Waits for the next connection.
            ///
            /// # Errors
            ///
            /// As [`RawListener::poll_accept`](crate::adapter::RawListener::poll_accept).
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: a connection is only taken from the kernel's queue when this returns
            /// it.
            pub async fn accept(&self) -> std::io::Result<($Stream, $Addr)> {
                std::future::poll_fn(|cx| self.poll_accept(cx)).await
            }
        }

        $(#[$stream_doc])*
        pub struct $Stream {
            inner: Box<$Raw>,
        }

        impl std::fmt::Debug for $Stream {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($Stream))
                    .field("local_addr", &self.local_addr().ok())
                    .field("peer_addr", &self.peer_addr().ok())
                    .finish()
            }
        }

        impl $Stream {
            /// Wraps an adapter's stream. For adapter crates.
            pub fn from_raw(inner: Box<$Raw>) -> Self {
                $Stream { inner }
            }

            /// The local address of the connection.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", $std_stream, "::local_addr`].")]
            pub fn local_addr(&self) -> std::io::Result<$Addr> {
                $crate::adapter::RawStream::local_addr(&*self.inner)
            }

            /// The address of the peer.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", $std_stream, "::peer_addr`].")]
            pub fn peer_addr(&self) -> std::io::Result<$Addr> {
                $crate::adapter::RawStream::peer_addr(&*self.inner)
            }

            /// Shuts down the read half, the write half, or both.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", $std_stream, "::shutdown`].")]
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                $crate::adapter::RawStream::shutdown(&*self.inner, how)
            }

            /// Reads what the kernel holds right now, bypassing what the runtime knows of the
            /// socket's readiness (see
            /// [`RawStream::try_read_now`](crate::adapter::RawStream::try_read_now)).
            ///
            /// # Errors
            ///
            /// [`io::ErrorKind::WouldBlock`](std::io::ErrorKind::WouldBlock) when nothing is
            /// there.
            pub fn try_read_now(&self, buf: &mut $crate::ReadBuf<'_>) -> std::io::Result<()> {
                $crate::adapter::RawStream::try_read_now(&*self.inner, buf)
            }

            /// Reads into `buf`, which may be uninitialised (see [`ReadBuf`](crate::ReadBuf)):
            /// what HTTP servers use instead of `poll_read`, to skip zeroing their buffer on
            /// every read.
            ///
            /// # Errors
            ///
            /// As a read.
            pub fn poll_read_buf(
                &mut self,
                cx: &mut std::task::Context<'_>,
                buf: &mut $crate::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let inner = std::pin::Pin::new(&mut *self.inner);
                $crate::adapter::RawStream::poll_read_buf(inner, cx, buf)
            }
        }

        $crate::io::forward_io!($Stream);
    };
}

pub(crate) use socket_types;
