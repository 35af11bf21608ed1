//! [`StreamServer`]: connections handed to the server one at a time, over any byte stream, with
//! no listener. The fuzz targets (under `fuzz/` at the repository root) and tests that replay
//! bytes use it to reach the server's real connection path (`conn::serve`, the socket wrapper,
//! hyper's HTTP/1 and HTTP/2, upgrades) without a socket. It is hidden: not a way to serve an
//! application, and not covered by semver.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};
use portico_rt::{ReadBuf, Runtime};

use super::socket::Transport;
use super::{Server, ServerShared, conn};
use crate::service::AppService;

/// A server whose connections are handed to it one at a time ([`serve`](Self::serve)), over
/// any byte stream, on the runtime it was made on; made by [`Server::serve_streams`]. Each
/// connection takes the same way as one accepted from a socket, with the server's settings.
///
/// Hidden: for fuzzing and tests that replay bytes, not for serving applications.
pub struct StreamServer {
    service: AppService,
    server: Arc<ServerShared>,
    rt: Runtime,
    slots: Arc<portico_tasks::Semaphore>,
}

impl fmt::Debug for StreamServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamServer")
            .field("config", &self.server.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Builds the application and runs its lifespan's startup, as [`run`](Self::run) does,
    /// but binds nothing: connections are handed over with [`StreamServer::serve`]. The
    /// address, listeners, signals and shutdown settings are not used.
    ///
    /// # Errors
    ///
    /// If the application has mistakes, its startup fails, or there is no runtime.
    #[doc(hidden)]
    pub async fn serve_streams(mut self) -> io::Result<StreamServer> {
        let rt = portico_rt::current()?;
        let service = std::mem::take(&mut self.app)
            .try_into_service()
            .map_err(io::Error::other)?;
        service.startup().await.map_err(io::Error::other)?;
        let server = Arc::new(ServerShared::new(self.config, &rt));
        service.shared().running.served_by(&server.connections);
        Ok(StreamServer {
            service,
            server,
            rt,
            slots: Arc::new(portico_tasks::Semaphore::new(self.max_connections)),
        })
    }
}

impl StreamServer {
    /// Serves one connection over `stream` to its end: until the client goes away, the
    /// connection is closed, or it is upgraded (an upgraded connection, a WebSocket, runs on
    /// in the application's tracker of upgraded connections, and holds the stream until it
    /// ends).
    pub async fn serve<S>(&self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let slot = self.slots.acquire_arc().await;
        conn::serve(
            Stream(stream),
            self.service.clone(),
            self.server.clone(),
            self.rt.clone(),
            slot,
        )
        .await;
    }

    /// Waits until nothing the connections started runs any more: HTTP/2 streams, upgraded
    /// connections (WebSockets) and after-response work (background tasks, cleanups).
    pub async fn settled(&self) {
        #[cfg(feature = "http2")]
        self.server.streams.wait().await;
        let running = &self.service.shared().running;
        running.sockets_closed().await;
        running.work_done().await;
    }

    /// Ends the application's lifespan (its teardown runs), as a server does after its last
    /// request.
    pub async fn shutdown(self) {
        self.service.shutdown().await;
    }
}

/// A byte stream as the server's connections read it. It cannot look at what a kernel holds
/// without waiting, so a draining server closes an idle connection without a last look.
struct Stream<S>(S);

impl<S: AsyncRead + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Stream<S> {
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
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl<S> Transport for Stream<S>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // futures-io reads into initialised memory: zero what is not yet.
        let n = ready!(Pin::new(&mut self.0).poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    fn try_read_now(&self, _buf: &mut ReadBuf<'_>) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}
