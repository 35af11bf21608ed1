//! TCP and Unix sockets on tokio's I/O driver, seen through futures-io.

use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};
use portico_rt::adapter::{BoxFuture, RawTcpListener, RawTcpStream};
use portico_rt::{TcpListener, TcpStream};
use tokio::io::{AsyncRead as TokioRead, AsyncWrite as TokioWrite, ReadBuf};
use tokio::runtime::Handle;

/// A tokio stream seen through futures-io.
struct Compat<S>(S);

impl<S: TokioRead + Unpin> AsyncRead for Compat<S> {
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

/// One non-blocking `recv`, whatever tokio's cached readiness says.
fn recv_now(fd: socket2::SockRef<'_>, buf: &mut portico_rt::ReadBuf<'_>) -> io::Result<()> {
    // SAFETY: `recv` only writes initialised bytes into the slice.
    let unfilled = unsafe { buf.unfilled_mut() };
    let n = fd.recv(unfilled)?;
    // SAFETY: `recv` reports the first `n` bytes as written.
    unsafe { buf.assume_filled(n) };
    Ok(())
}

impl<S: TokioRead + Unpin> Compat<S> {
    /// Reads into possibly uninitialised memory through tokio's own `ReadBuf`, with no zeroing.
    fn read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut portico_rt::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: tokio's `ReadBuf` only writes initialised bytes into the slice.
        let unfilled = unsafe { buf.unfilled_mut() };
        let mut target = ReadBuf::uninit(unfilled);
        ready!(Pin::new(&mut self.0).poll_read(cx, &mut target))?;
        let n = target.filled().len();
        // SAFETY: tokio reports the first `n` bytes of the slice as filled, so initialised.
        unsafe { buf.assume_filled(n) };
        Poll::Ready(Ok(()))
    }
}

impl<S: TokioWrite + Unpin> AsyncWrite for Compat<S> {
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

impl RawTcpStream for Compat<tokio::net::TcpStream> {
    fn try_read_now(&self, buf: &mut portico_rt::ReadBuf<'_>) -> io::Result<()> {
        recv_now(socket2::SockRef::from(&self.0), buf)
    }

    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut portico_rt::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().read_buf(cx, buf)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.0.set_nodelay(nodelay)
    }

    fn nodelay(&self) -> io::Result<bool> {
        self.0.nodelay()
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        socket2::SockRef::from(&self.0).shutdown(how)
    }
}

struct Listener(tokio::net::TcpListener);

impl RawTcpListener for Listener {
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, peer) = ready!(self.0.poll_accept(cx))?;
        Poll::Ready(Ok((TcpStream::from_raw(Box::new(Compat(stream))), peer)))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

pub(crate) fn tcp_listener(
    handle: &Handle,
    listener: std::net::TcpListener,
) -> io::Result<TcpListener> {
    listener.set_nonblocking(true)?;
    // Registration with the I/O driver goes through the thread's runtime context.
    let _enter = handle.enter();
    let listener = tokio::net::TcpListener::from_std(listener)?;
    Ok(TcpListener::from_raw(Box::new(Listener(listener))))
}

pub(crate) fn tcp_connect(
    handle: &Handle,
    addr: SocketAddr,
) -> BoxFuture<'static, io::Result<TcpStream>> {
    let handle = handle.clone();
    Box::pin(async move {
        // Connecting registers the socket with the driver, which needs the runtime's context:
        // run it as a task so the caller may await from any thread.
        let stream = handle
            .spawn(tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|err| io::Error::other(format!("connect task failed: {err}")))??;
        Ok(TcpStream::from_raw(Box::new(Compat(stream))))
    })
}

#[cfg(unix)]
mod unix {
    use std::os::unix::net::SocketAddr;
    use std::path::PathBuf;

    use portico_rt::adapter::{RawUnixListener, RawUnixStream};
    use portico_rt::{UnixListener, UnixStream};

    use super::*;

    impl RawUnixStream for Compat<tokio::net::UnixStream> {
        fn try_read_now(&self, buf: &mut portico_rt::ReadBuf<'_>) -> io::Result<()> {
            recv_now(socket2::SockRef::from(&self.0), buf)
        }

        fn poll_read_buf(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut portico_rt::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            self.get_mut().read_buf(cx, buf)
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            self.0.local_addr().map(Into::into)
        }

        fn peer_addr(&self) -> io::Result<SocketAddr> {
            self.0.peer_addr().map(Into::into)
        }

        fn shutdown(&self, how: Shutdown) -> io::Result<()> {
            socket2::SockRef::from(&self.0).shutdown(how)
        }
    }

    struct Listener(tokio::net::UnixListener);

    impl RawUnixListener for Listener {
        fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
            let (stream, peer) = ready!(self.0.poll_accept(cx))?;
            Poll::Ready(Ok((
                UnixStream::from_raw(Box::new(Compat(stream))),
                peer.into(),
            )))
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            self.0.local_addr().map(Into::into)
        }
    }

    pub(crate) fn unix_listener(
        handle: &Handle,
        listener: std::os::unix::net::UnixListener,
    ) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        let _enter = handle.enter();
        let listener = tokio::net::UnixListener::from_std(listener)?;
        Ok(UnixListener::from_raw(Box::new(Listener(listener))))
    }

    pub(crate) fn unix_connect(
        handle: &Handle,
        path: PathBuf,
    ) -> BoxFuture<'static, io::Result<UnixStream>> {
        let handle = handle.clone();
        Box::pin(async move {
            let stream = handle
                .spawn(tokio::net::UnixStream::connect(path))
                .await
                .map_err(|err| io::Error::other(format!("connect task failed: {err}")))??;
            Ok(UnixStream::from_raw(Box::new(Compat(stream))))
        })
    }
}

#[cfg(unix)]
pub(crate) use unix::{unix_connect, unix_listener};
