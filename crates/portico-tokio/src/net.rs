//! TCP and Unix sockets on tokio's I/O driver, seen through futures-io.
//!
//! Both kinds share one stream type ([`Compat`]) and one listener type ([`Listener`]),
//! generic over the tokio socket; [`Socket`] and [`Accept`] say what differs.

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};
use portico_rt::adapter::{BoxFuture, RawListener, RawStream, RawTcpStream};
use portico_rt::{TcpListener, TcpStream};
use tokio::io::{AsyncRead as TokioRead, AsyncWrite as TokioWrite, ReadBuf};
use tokio::runtime::Handle;

/// A tokio stream, TCP or Unix: what differs between the two.
trait Socket: TokioRead + TokioWrite + Send + Sync + Unpin + 'static {
    type Addr;
    /// The public Portico stream that wraps it.
    type Public;

    fn sock(&self) -> socket2::SockRef<'_>;
    fn local_addr(&self) -> io::Result<Self::Addr>;
    fn peer_addr(&self) -> io::Result<Self::Addr>;
    fn wrap(self) -> Self::Public;
}

impl Socket for tokio::net::TcpStream {
    type Addr = SocketAddr;
    type Public = TcpStream;

    fn sock(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpStream::peer_addr(self)
    }

    fn wrap(self) -> TcpStream {
        TcpStream::from_raw(Box::new(Compat(self)))
    }
}

/// A tokio stream seen through futures-io.
struct Compat<S>(S);

impl<S: Socket> AsyncRead for Compat<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        ready!(Pin::new(&mut self.0).poll_read(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

impl<S: Socket> AsyncWrite for Compat<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: Socket> RawStream for Compat<S> {
    type Addr = S::Addr;

    /// One non-blocking `recv`, whatever tokio's cached readiness says.
    fn try_read_now(&self, buf: &mut portico_rt::ReadBuf<'_>) -> io::Result<()> {
        // SAFETY: `recv` only writes initialised bytes into the slice.
        let unfilled = unsafe { buf.unfilled_mut() };
        let n = self.0.sock().recv(unfilled)?;
        // SAFETY: `recv` reports the first `n` bytes as written.
        unsafe { buf.assume_filled(n) };
        Ok(())
    }

    /// Reads into possibly uninitialised memory through tokio's own `ReadBuf`, with no zeroing.
    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut portico_rt::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: tokio's `ReadBuf` only writes initialised bytes into the slice.
        let unfilled = unsafe { buf.unfilled_mut() };
        let mut target = ReadBuf::uninit(unfilled);
        ready!(Pin::new(&mut self.get_mut().0).poll_read(cx, &mut target))?;
        let n = target.filled().len();
        // SAFETY: tokio reports the first `n` bytes of the slice as filled, so initialised.
        unsafe { buf.assume_filled(n) };
        Poll::Ready(Ok(()))
    }

    fn local_addr(&self) -> io::Result<S::Addr> {
        self.0.local_addr()
    }

    fn peer_addr(&self) -> io::Result<S::Addr> {
        self.0.peer_addr()
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.0.sock().shutdown(how)
    }
}

impl RawTcpStream for Compat<tokio::net::TcpStream> {
    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.0.set_nodelay(nodelay)
    }

    fn nodelay(&self) -> io::Result<bool> {
        self.0.nodelay()
    }
}

/// A tokio listener, TCP or Unix: what differs between the two.
trait Accept: Send + Sync + 'static {
    type Stream: Socket<Addr = Self::Addr>;
    type Addr;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Stream, Self::Addr)>>;
    fn local_addr(&self) -> io::Result<Self::Addr>;

    /// One `accept(2)` without waiting, whatever the driver last reported; the accepted stream
    /// is registered with `handle`'s driver.
    fn try_accept(&self, handle: &Handle) -> io::Result<Option<(Self::Stream, Self::Addr)>> {
        let _ = handle;
        match self.poll_accept(&mut Context::from_waker(std::task::Waker::noop())) {
            Poll::Ready(accepted) => accepted.map(Some),
            Poll::Pending => Ok(None),
        }
    }
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    type Addr = SocketAddr;

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(tokio::net::TcpStream, SocketAddr)>> {
        tokio::net::TcpListener::poll_accept(self, cx)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpListener::local_addr(self)
    }

    /// tokio's listener only accepts once its driver has reported the listener readable.
    fn try_accept(
        &self,
        handle: &Handle,
    ) -> io::Result<Option<(tokio::net::TcpStream, SocketAddr)>> {
        let (socket, peer) = match socket2::SockRef::from(self).accept() {
            Ok(accepted) => accepted,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(err) => return Err(err),
        };
        let peer = peer
            .as_socket()
            .ok_or_else(|| io::Error::other("a TCP listener accepted a non-IP peer"))?;
        let stream = std::net::TcpStream::from(socket);
        stream.set_nonblocking(true)?;
        // Registration with the I/O driver goes through the thread's runtime context.
        let _enter = handle.enter();
        Ok(Some((tokio::net::TcpStream::from_std(stream)?, peer)))
    }
}

struct Listener<L> {
    inner: L,
    handle: Handle,
}

impl<L: Accept> RawListener for Listener<L> {
    type Stream = <L::Stream as Socket>::Public;
    type Addr = L::Addr;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Stream, Self::Addr)>> {
        let (stream, peer) = ready!(self.inner.poll_accept(cx))?;
        Poll::Ready(Ok((stream.wrap(), peer)))
    }

    fn try_accept(&self) -> io::Result<Option<(Self::Stream, Self::Addr)>> {
        let accepted = self.inner.try_accept(&self.handle)?;
        Ok(accepted.map(|(stream, peer)| (stream.wrap(), peer)))
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Registers a listener with the runtime's I/O driver through `from_std`.
fn register<L>(
    handle: &Handle,
    from_std: impl FnOnce() -> io::Result<L>,
) -> io::Result<Listener<L>> {
    // Registration with the I/O driver goes through the thread's runtime context.
    let _enter = handle.enter();
    let inner = from_std()?;
    Ok(Listener {
        inner,
        handle: handle.clone(),
    })
}

/// Connects with `connect`, a tokio connection future.
fn connect<S: Socket>(
    handle: &Handle,
    connect: impl Future<Output = io::Result<S>> + Send + 'static,
) -> BoxFuture<'static, io::Result<S::Public>> {
    let handle = handle.clone();
    Box::pin(async move {
        // Connecting registers the socket with the driver, which needs the runtime's context:
        // run it as a task so the caller may await from any thread.
        let stream = handle
            .spawn(connect)
            .await
            .map_err(|err| io::Error::other(format!("connect task failed: {err}")))??;
        Ok(stream.wrap())
    })
}

pub(crate) fn tcp_listener(
    handle: &Handle,
    listener: std::net::TcpListener,
) -> io::Result<TcpListener> {
    listener.set_nonblocking(true)?;
    let listener = register(handle, || tokio::net::TcpListener::from_std(listener))?;
    Ok(TcpListener::from_raw(Box::new(listener)))
}

pub(crate) fn tcp_connect(
    handle: &Handle,
    addr: SocketAddr,
) -> BoxFuture<'static, io::Result<TcpStream>> {
    connect(handle, tokio::net::TcpStream::connect(addr))
}

#[cfg(unix)]
mod unix {
    use std::os::unix::net::SocketAddr;
    use std::path::PathBuf;

    use portico_rt::{UnixListener, UnixStream};

    use super::*;

    impl Socket for tokio::net::UnixStream {
        type Addr = SocketAddr;
        type Public = UnixStream;

        fn sock(&self) -> socket2::SockRef<'_> {
            socket2::SockRef::from(self)
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            tokio::net::UnixStream::local_addr(self).map(Into::into)
        }

        fn peer_addr(&self) -> io::Result<SocketAddr> {
            tokio::net::UnixStream::peer_addr(self).map(Into::into)
        }

        fn wrap(self) -> UnixStream {
            UnixStream::from_raw(Box::new(Compat(self)))
        }
    }

    impl Accept for tokio::net::UnixListener {
        type Stream = tokio::net::UnixStream;
        type Addr = SocketAddr;

        fn poll_accept(
            &self,
            cx: &mut Context<'_>,
        ) -> Poll<io::Result<(tokio::net::UnixStream, SocketAddr)>> {
            tokio::net::UnixListener::poll_accept(self, cx)
                .map_ok(|(stream, peer)| (stream, peer.into()))
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            tokio::net::UnixListener::local_addr(self).map(Into::into)
        }
    }

    pub(crate) fn unix_listener(
        handle: &Handle,
        listener: std::os::unix::net::UnixListener,
    ) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        let listener = register(handle, || tokio::net::UnixListener::from_std(listener))?;
        Ok(UnixListener::from_raw(Box::new(listener)))
    }

    pub(crate) fn unix_connect(
        handle: &Handle,
        path: PathBuf,
    ) -> BoxFuture<'static, io::Result<UnixStream>> {
        connect(handle, tokio::net::UnixStream::connect(path))
    }
}

#[cfg(unix)]
pub(crate) use unix::{unix_connect, unix_listener};
