//! TCP and Unix sockets, registered with the adapter's reactor ([`crate::io`]).
//!
//! Both kinds share one stream type ([`Stream`]) and one listener type ([`Listener`]), generic
//! over the std socket; [`Socket`] and [`Accept`] say what differs.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use async_io::Async;
use portico_rt::adapter::{BoxFuture, RawListener, RawStream, RawTcpStream};
use portico_rt::{TcpListener, TcpStream};

use crate::io::Registered;

/// A std stream, TCP or Unix: what differs between the two.
trait Socket: AsFd + Send + Sync + Unpin + Sized + 'static {
    type Addr;
    /// The public Portico stream that wraps it.
    type Public;

    fn local_addr(&self) -> io::Result<Self::Addr>;
    fn peer_addr(&self) -> io::Result<Self::Addr>;
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    fn wrap(stream: Stream<Self>) -> Self::Public;
}

impl Socket for std::net::TcpStream {
    type Addr = SocketAddr;
    type Public = TcpStream;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        std::net::TcpStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        std::net::TcpStream::peer_addr(self)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::net::TcpStream::shutdown(self, how)
    }

    fn wrap(stream: Stream<Self>) -> TcpStream {
        TcpStream::from_raw(Box::new(stream))
    }
}

/// A stream registered with the reactor.
struct Stream<T: Socket> {
    io: Registered<T>,
}

impl<T: Socket> Stream<T> {
    fn wrap(io: Registered<T>) -> T::Public {
        T::wrap(Stream { io })
    }
}

impl<T: Socket> futures_io::AsyncRead for Stream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let want = buf.len();
        if want == 0 {
            return Poll::Ready(Ok(0));
        }
        self.io
            .poll_read_with(cx, |io| Ok(rustix::io::read(io, &mut *buf)?), |&n| n < want)
    }
}

impl<T: Socket> futures_io::AsyncWrite for Stream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_write_with(cx, |io| Ok(rustix::io::write(io, buf)?))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_write_with(cx, |io| Ok(rustix::io::writev(io, bufs)?))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A socket keeps no buffer of its own to flush.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.io.get_ref().shutdown(Shutdown::Write))
    }
}

impl<T: Socket> RawStream for Stream<T> {
    type Addr = T::Addr;

    /// One non-blocking `read(2)`, whatever the reactor last reported.
    fn try_read_now(&self, buf: &mut portico_rt::ReadBuf<'_>) -> io::Result<()> {
        // SAFETY: `read(2)` through rustix only writes initialised bytes into the slice.
        let unfilled = unsafe { buf.unfilled_mut() };
        let (read, _) = rustix::io::read(self.io.get_ref(), unfilled)?;
        let n = read.len();
        // SAFETY: rustix returned the first `n` bytes of the slice as read, so initialised.
        unsafe { buf.assume_filled(n) };
        Ok(())
    }

    /// Reads from the non-blocking socket into possibly uninitialised memory.
    ///
    /// After a read that did not fill the buffer, the socket has most likely been drained, so
    /// the next read waits for the reactor first instead of trying a `read(2)` bound to fail
    /// with `EAGAIN`: one system call less per request on a keep-alive connection.
    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut portico_rt::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let want = buf.remaining();
        if want == 0 {
            return Poll::Ready(Ok(()));
        }
        let n = ready!(self.io.poll_read_with(
            cx,
            |io| {
                // SAFETY: `read(2)` through rustix only writes initialised bytes into the
                // slice.
                let unfilled = unsafe { buf.unfilled_mut() };
                let (read, _) = rustix::io::read(io, unfilled)?;
                Ok(read.len())
            },
            |&n| n < want,
        ))?;
        // SAFETY: rustix returned the first `n` bytes of the slice as read, so initialised.
        unsafe { buf.assume_filled(n) };
        Poll::Ready(Ok(()))
    }

    fn local_addr(&self) -> io::Result<T::Addr> {
        self.io.get_ref().local_addr()
    }

    fn peer_addr(&self) -> io::Result<T::Addr> {
        self.io.get_ref().peer_addr()
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl RawTcpStream for Stream<std::net::TcpStream> {
    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }
}

/// A std listener, TCP or Unix: what differs between the two.
trait Accept: AsFd + Send + Sync + 'static {
    type Stream: Socket<Addr = Self::Addr>;
    type Addr;

    fn accept(&self) -> io::Result<(Self::Stream, Self::Addr)>;
    fn local_addr(&self) -> io::Result<Self::Addr>;
}

impl Accept for std::net::TcpListener {
    type Stream = std::net::TcpStream;
    type Addr = SocketAddr;

    fn accept(&self) -> io::Result<(std::net::TcpStream, SocketAddr)> {
        std::net::TcpListener::accept(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        std::net::TcpListener::local_addr(self)
    }
}

/// A listener registered with the reactor.
struct Listener<L: Accept>(Registered<L>);

impl<L: Accept> Listener<L> {
    fn new(listener: L) -> io::Result<Self> {
        Registered::new(listener).map(Listener)
    }
}

impl<L: Accept> RawListener for Listener<L> {
    type Stream = <L::Stream as Socket>::Public;
    type Addr = L::Addr;

    /// Accepts from the non-blocking listener, waiting on the reactor while the queue is empty.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Stream, Self::Addr)>> {
        let (stream, peer) = ready!(self.0.poll_read_with(cx, L::accept, |_| false))?;
        Poll::Ready(Ok((Stream::wrap(Registered::new(stream)?), peer)))
    }

    fn try_accept(&self) -> io::Result<Option<(Self::Stream, Self::Addr)>> {
        match self.0.get_ref().accept() {
            Ok((stream, peer)) => Ok(Some((Stream::wrap(Registered::new(stream)?), peer))),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.get_ref().local_addr()
    }
}

pub(crate) fn tcp_listener(listener: std::net::TcpListener) -> io::Result<TcpListener> {
    Ok(TcpListener::from_raw(Box::new(Listener::new(listener)?)))
}

pub(crate) fn tcp_connect(addr: SocketAddr) -> BoxFuture<'static, io::Result<TcpStream>> {
    Box::pin(async move {
        let stream = Async::<std::net::TcpStream>::connect(addr).await?;
        Registered::from_async(stream).map(Stream::wrap)
    })
}

#[cfg(unix)]
mod unix {
    use std::os::unix::net::{SocketAddr, UnixListener as StdListener, UnixStream as StdStream};
    use std::path::PathBuf;

    use portico_rt::{UnixListener, UnixStream};

    use super::*;

    impl Socket for StdStream {
        type Addr = SocketAddr;
        type Public = UnixStream;

        fn local_addr(&self) -> io::Result<SocketAddr> {
            StdStream::local_addr(self)
        }

        fn peer_addr(&self) -> io::Result<SocketAddr> {
            StdStream::peer_addr(self)
        }

        fn shutdown(&self, how: Shutdown) -> io::Result<()> {
            StdStream::shutdown(self, how)
        }

        fn wrap(stream: Stream<Self>) -> UnixStream {
            UnixStream::from_raw(Box::new(stream))
        }
    }

    impl Accept for StdListener {
        type Stream = StdStream;
        type Addr = SocketAddr;

        fn accept(&self) -> io::Result<(StdStream, SocketAddr)> {
            StdListener::accept(self)
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            StdListener::local_addr(self)
        }
    }

    pub(crate) fn unix_listener(listener: StdListener) -> io::Result<UnixListener> {
        Ok(UnixListener::from_raw(Box::new(Listener::new(listener)?)))
    }

    pub(crate) fn unix_connect(path: PathBuf) -> BoxFuture<'static, io::Result<UnixStream>> {
        Box::pin(async move {
            let stream = Async::<StdStream>::connect(path).await?;
            Registered::from_async(stream).map(Stream::wrap)
        })
    }
}

#[cfg(unix)]
pub(crate) use unix::{unix_connect, unix_listener};
