//! TCP and Unix sockets on async-io's reactor.
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
struct Stream<T> {
    io: Async<T>,
    /// The last read left nothing behind (see [`RawStream::poll_read_buf`] below).
    drained: bool,
}

impl<T: Socket> Stream<T> {
    fn wrap(io: Async<T>) -> T::Public {
        T::wrap(Stream { io, drained: false })
    }
}

impl<T: Socket> futures_io::AsyncRead for Stream<T>
where
    Async<T>: futures_io::AsyncRead,
{
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: Socket> futures_io::AsyncWrite for Stream<T>
where
    Async<T>: futures_io::AsyncWrite,
{
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_close(cx)
    }
}

impl<T: Socket> RawStream for Stream<T>
where
    Async<T>: futures_io::AsyncRead + futures_io::AsyncWrite,
{
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
    /// with `EAGAIN`: one system call less per request on a keep-alive connection. (The
    /// reactor's registration is level-checked when it is re-armed, so data that arrived in
    /// between is not missed.)
    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut portico_rt::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let want = buf.remaining();
        if want == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if this.drained {
                ready!(this.io.poll_readable(cx))?;
                this.drained = false;
            }
            // SAFETY: `read(2)` through rustix only writes initialised bytes into the slice.
            let unfilled = unsafe { buf.unfilled_mut() };
            match rustix::io::read(this.io.get_ref(), unfilled) {
                Ok((read, _)) => {
                    let n = read.len();
                    this.drained = n < want;
                    // SAFETY: rustix returned the first `n` bytes of the slice as read, so
                    // initialised.
                    unsafe { buf.assume_filled(n) };
                    return Poll::Ready(Ok(()));
                }
                Err(rustix::io::Errno::AGAIN) => this.drained = true,
                Err(rustix::io::Errno::INTR) => {}
                Err(err) => return Poll::Ready(Err(err.into())),
            }
        }
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
struct Listener<L>(Async<L>);

impl<L: Accept> Listener<L> {
    fn new(listener: L) -> io::Result<Self> {
        Async::new(listener).map(Listener)
    }
}

impl<L: Accept> RawListener for Listener<L> {
    type Stream = <L::Stream as Socket>::Public;
    type Addr = L::Addr;

    /// Accepts from the non-blocking listener, waiting on the reactor while the queue is empty.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Stream, Self::Addr)>> {
        loop {
            match self.0.get_ref().accept() {
                Ok((stream, peer)) => {
                    return Poll::Ready(Ok((Stream::wrap(Async::new(stream)?), peer)));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.0.poll_readable(cx))?;
                }
                Err(err) => return Poll::Ready(Err(err)),
            }
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
        Async::<std::net::TcpStream>::connect(addr)
            .await
            .map(Stream::wrap)
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
        Box::pin(async move { Async::<StdStream>::connect(path).await.map(Stream::wrap) })
    }
}

#[cfg(unix)]
pub(crate) use unix::{unix_connect, unix_listener};
