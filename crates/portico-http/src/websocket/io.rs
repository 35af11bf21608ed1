//! The byte streams a WebSocket runs over, as futures-io streams for async-tungstenite:
//! hyper's upgraded connection (the server), and an in-memory pipe (the test client).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

/// A byte stream a WebSocket can run over.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Transport for T {}

/// A WebSocket's stream, whatever carries it.
pub(crate) type BoxIo = Box<dyn Transport>;

/// Where the stream of an accepted WebSocket comes from.
pub(crate) enum Upgrade {
    /// hyper hands the connection over once the `101` response is written.
    Hyper(hyper::upgrade::OnUpgrade),
    /// The test client's end of an in-memory pipe, there from the start.
    Memory(Duplex),
}

impl Upgrade {
    /// Takes the upgrade out of a request: hyper's (HTTP/1.1 requests that ask for one), or the
    /// test client's.
    pub(crate) fn take(request: &mut crate::Request) -> Option<Upgrade> {
        let extensions = request.extensions_mut();
        if let Some(memory) = extensions.remove::<MemoryUpgrade>() {
            let duplex = memory
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            return duplex.map(Upgrade::Memory);
        }
        extensions
            .remove::<hyper::upgrade::OnUpgrade>()
            .map(Upgrade::Hyper)
    }

    /// The stream, once the connection is handed over.
    pub(crate) fn into_stream(self) -> Pin<Box<dyn Future<Output = io::Result<BoxIo>> + Send>> {
        match self {
            Upgrade::Hyper(on_upgrade) => Box::pin(async move {
                let upgraded = on_upgrade.await.map_err(io::Error::other)?;
                Ok(Box::new(HyperIo(upgraded)) as BoxIo)
            }),
            Upgrade::Memory(duplex) => Box::pin(async move { Ok(Box::new(duplex) as BoxIo) }),
        }
    }
}

/// hyper's upgraded connection as a futures-io stream.
struct HyperIo(hyper::upgrade::Upgraded);

impl AsyncRead for HyperIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read = hyper::rt::ReadBuf::new(buf);
        ready!(hyper::rt::Read::poll_read(
            Pin::new(&mut self.0),
            cx,
            read.unfilled()
        ))?;
        Poll::Ready(Ok(read.filled().len()))
    }
}

impl AsyncWrite for HyperIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write_vectored(Pin::new(&mut self.0), cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_shutdown(Pin::new(&mut self.0), cx)
    }
}

/// One end of an in-memory byte pipe in both directions.
pub(crate) struct Duplex {
    reader: piper::Reader,
    writer: piper::Writer,
}

/// How many bytes each direction of the test client's pipe buffers (64 KiB, arbitrarily:
/// a writer past it waits for the reader, as over a socket).
const PIPE_CAPACITY: usize = 64 * 1024;

/// Two connected ends.
pub(crate) fn duplex() -> (Duplex, Duplex) {
    let (a_reader, b_writer) = piper::pipe(PIPE_CAPACITY);
    let (b_reader, a_writer) = piper::pipe(PIPE_CAPACITY);
    (
        Duplex {
            reader: a_reader,
            writer: a_writer,
        },
        Duplex {
            reader: b_reader,
            writer: b_writer,
        },
    )
}

impl AsyncRead for Duplex {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.reader).poll_read(cx, buf)
    }
}

impl AsyncWrite for Duplex {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.writer).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_close(cx)
    }
}

/// The server's end of the test client's pipe, in the request's extensions.
#[derive(Clone)]
pub(crate) struct MemoryUpgrade(pub(crate) Arc<Mutex<Option<Duplex>>>);

impl MemoryUpgrade {
    pub(crate) fn new(end: Duplex) -> Self {
        MemoryUpgrade(Arc::new(Mutex::new(Some(end))))
    }
}
