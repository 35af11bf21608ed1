//! TCP and Unix sockets on async-io's reactor.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll, ready};

use async_io::Async;
use portico_rt::adapter::{BoxFuture, RawTcpListener, RawTcpStream};
use portico_rt::{TcpListener, TcpStream};

/// Accepts from a non-blocking listener, waiting on the reactor while the queue is empty.
macro_rules! poll_accept {
    ($listener:expr, $cx:expr, $wrap:expr) => {
        loop {
            match $listener.get_ref().accept() {
                Ok((stream, peer)) => return Poll::Ready(Ok(($wrap(Async::new(stream)?), peer))),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    ready!($listener.poll_readable($cx))?
                }
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    };
}

/// Reads from a non-blocking socket into possibly uninitialised memory.
///
/// After a read that did not fill the buffer, the socket has most likely been drained, so the
/// next read waits for the reactor first instead of trying a `read(2)` bound to fail with
/// `EAGAIN`: one system call less per request on a keep-alive connection. (The reactor's
/// registration is level-checked when it is re-armed, so data that arrived in between is not
/// missed.)
fn read_buf<T: std::os::fd::AsFd>(
    io: &Async<T>,
    drained: &mut bool,
    cx: &mut Context<'_>,
    buf: &mut portico_rt::ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let want = buf.remaining();
    if want == 0 {
        return Poll::Ready(Ok(()));
    }
    loop {
        if *drained {
            ready!(io.poll_readable(cx))?;
            *drained = false;
        }
        // SAFETY: `read(2)` through rustix only writes initialised bytes into the slice.
        let unfilled = unsafe { buf.unfilled_mut() };
        match rustix::io::read(io.get_ref(), unfilled) {
            Ok((read, _)) => {
                let n = read.len();
                *drained = n < want;
                // SAFETY: rustix returned the first `n` bytes of the slice as read, so initialised.
                unsafe { buf.assume_filled(n) };
                return Poll::Ready(Ok(()));
            }
            Err(rustix::io::Errno::AGAIN) => *drained = true,
            Err(rustix::io::Errno::INTR) => {}
            Err(err) => return Poll::Ready(Err(err.into())),
        }
    }
}

/// One non-blocking `read(2)`, whatever the reactor last reported.
fn read_now<T: std::os::fd::AsFd>(
    io: &Async<T>,
    buf: &mut portico_rt::ReadBuf<'_>,
) -> io::Result<()> {
    // SAFETY: `read(2)` through rustix only writes initialised bytes into the slice.
    let unfilled = unsafe { buf.unfilled_mut() };
    let (read, _) = rustix::io::read(io.get_ref(), unfilled)?;
    let n = read.len();
    // SAFETY: rustix returned the first `n` bytes of the slice as read, so initialised.
    unsafe { buf.assume_filled(n) };
    Ok(())
}

struct Stream {
    io: Async<std::net::TcpStream>,
    /// The last read left nothing behind (see [`read_buf`]).
    drained: bool,
}

impl futures_io::AsyncRead for Stream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for Stream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_close(cx)
    }
}

impl RawTcpStream for Stream {
    fn try_read_now(&self, buf: &mut portico_rt::ReadBuf<'_>) -> io::Result<()> {
        read_now(&self.io, buf)
    }

    fn poll_read_buf(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut portico_rt::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        read_buf(&this.io, &mut this.drained, cx, buf)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

fn tcp_stream(stream: Async<std::net::TcpStream>) -> TcpStream {
    TcpStream::from_raw(Box::new(Stream {
        io: stream,
        drained: false,
    }))
}

struct Listener(Async<std::net::TcpListener>);

impl RawTcpListener for Listener {
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        poll_accept!(self.0, cx, tcp_stream)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().local_addr()
    }
}

pub(crate) fn tcp_listener(listener: std::net::TcpListener) -> io::Result<TcpListener> {
    Ok(TcpListener::from_raw(Box::new(Listener(Async::new(
        listener,
    )?))))
}

pub(crate) fn tcp_connect(addr: SocketAddr) -> BoxFuture<'static, io::Result<TcpStream>> {
    Box::pin(async move {
        Async::<std::net::TcpStream>::connect(addr)
            .await
            .map(tcp_stream)
    })
}

#[cfg(unix)]
mod unix {
    use std::os::unix::net::{SocketAddr, UnixStream as StdStream};
    use std::path::PathBuf;

    use portico_rt::adapter::{RawUnixListener, RawUnixStream};
    use portico_rt::{UnixListener, UnixStream};

    use super::*;

    struct Stream {
        io: Async<StdStream>,
        drained: bool,
    }

    impl futures_io::AsyncRead for Stream {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
        }
    }

    impl futures_io::AsyncWrite for Stream {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
        }

        fn poll_flush(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<io::Result<()>> {
            std::pin::Pin::new(&mut self.io).poll_flush(cx)
        }

        fn poll_close(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<io::Result<()>> {
            std::pin::Pin::new(&mut self.io).poll_close(cx)
        }
    }

    impl RawUnixStream for Stream {
        fn try_read_now(&self, buf: &mut portico_rt::ReadBuf<'_>) -> io::Result<()> {
            read_now(&self.io, buf)
        }

        fn poll_read_buf(
            self: std::pin::Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut portico_rt::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            read_buf(&this.io, &mut this.drained, cx, buf)
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            self.io.get_ref().local_addr()
        }

        fn peer_addr(&self) -> io::Result<SocketAddr> {
            self.io.get_ref().peer_addr()
        }

        fn shutdown(&self, how: Shutdown) -> io::Result<()> {
            self.io.get_ref().shutdown(how)
        }
    }

    fn unix_stream(stream: Async<StdStream>) -> UnixStream {
        UnixStream::from_raw(Box::new(Stream {
            io: stream,
            drained: false,
        }))
    }

    struct Listener(Async<std::os::unix::net::UnixListener>);

    impl RawUnixListener for Listener {
        fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
            poll_accept!(self.0, cx, unix_stream)
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            self.0.get_ref().local_addr()
        }
    }

    pub(crate) fn unix_listener(
        listener: std::os::unix::net::UnixListener,
    ) -> io::Result<UnixListener> {
        Ok(UnixListener::from_raw(Box::new(Listener(Async::new(
            listener,
        )?))))
    }

    pub(crate) fn unix_connect(path: PathBuf) -> BoxFuture<'static, io::Result<UnixStream>> {
        Box::pin(async move { Async::<StdStream>::connect(path).await.map(unix_stream) })
    }
}

#[cfg(unix)]
pub(crate) use unix::{unix_connect, unix_listener};
