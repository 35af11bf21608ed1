//! [`ConnIo`]: a connection's socket as hyper sees it, with the timeouts hyper lacks.
//!
//! hyper's own header-read timeout closes the connection without a word and runs a timer per
//! request. This wrapper keeps one lazily re-armed timer per connection instead and decides,
//! whenever a read finds nothing to read:
//!
//! * a request is being answered: wait, with no deadline (the handler, or a stream, takes the
//!   time it takes);
//! * part of a request head has arrived: the head must be complete within the header-read
//!   timeout, else the client gets `408 Request Timeout` and the connection closes;
//! * nothing has arrived since the last response: the connection is idle and closes quietly
//!   after the keep-alive timeout (the first request gets the header-read timeout);
//! * the server is draining (HTTP/1.1): an idle connection keeps reading until the drain
//!   settles (the linger is over and no request is in flight anywhere), so that a request on
//!   its way is answered (with `Connection: close`); then it reads as closed, after a last
//!   look at the socket.
//!
//! HTTP/2 connections are not timed here: hyper reads their frames all the time, and
//! `conn::drive_http2` closes an idle one with GOAWAY.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use event_listener::{Event, EventListener};
use futures_io::{AsyncRead, AsyncWrite};
use hyper::rt::ReadBufCursor;
use portico_rt::{ReadBuf, Runtime};
use portico_tasks::SemaphoreGuardArc;

use super::ServerShared;
use crate::body::{HoldsUnread, Unread};
use crate::timer::LazyTimer;

/// A byte stream the server can serve: TCP or Unix.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {
    /// Reads into possibly uninitialised memory.
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>>;

    /// One non-blocking read of what the kernel holds now.
    fn try_read_now(&self, buf: &mut ReadBuf<'_>) -> io::Result<()>;

    /// The address of the other end, for a TCP connection.
    fn peer(&self) -> Option<std::net::SocketAddr> {
        None
    }
}

impl Transport for portico_rt::TcpStream {
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        portico_rt::TcpStream::poll_read_buf(self, cx, buf)
    }

    fn try_read_now(&self, buf: &mut ReadBuf<'_>) -> io::Result<()> {
        portico_rt::TcpStream::try_read_now(self, buf)
    }

    fn peer(&self) -> Option<std::net::SocketAddr> {
        self.peer_addr().ok()
    }
}

#[cfg(unix)]
impl Transport for portico_rt::UnixStream {
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        portico_rt::UnixStream::poll_read_buf(self, cx, buf)
    }

    fn try_read_now(&self, buf: &mut ReadBuf<'_>) -> io::Result<()> {
        portico_rt::UnixStream::try_read_now(self, buf)
    }
}

/// What a connection's socket wrapper and its service share.
pub(crate) struct ConnShared {
    /// Requests whose response has not been sent in full.
    in_flight: AtomicUsize,
    /// Requests handed to the application so far.
    dispatched: AtomicU64,
    /// When the connection was accepted.
    accepted: Instant,
    /// When the last response was sent in full, in nanoseconds after `accepted`.
    finished: AtomicU64,
    /// Whether the connection was upgraded to another protocol (a WebSocket).
    upgraded: AtomicBool,
    /// Notified when a response is sent in full while the server drains (so that the
    /// connection, idle now, closes at once rather than when its timer next looks), or, on an
    /// HTTP/2 connection, always (its idle clock starts then).
    pub(crate) responded: Event,
    /// Whether every response sent in full is notified (HTTP/2).
    notify_every_response: AtomicBool,
    /// Whether the connection counts itself among the server's busy ones while it drains.
    counted: AtomicBool,
    pub(crate) server: Arc<ServerShared>,
    /// A request body its handler dropped unread (HTTP/1).
    unread: Unread,
    /// The connection's place under the server's `max_connections`, given back when the
    /// last holder lets go: hyper's connection task, or the upgraded connection (a
    /// WebSocket) whose socket outlives it.
    _slot: SemaphoreGuardArc,
}

impl ConnShared {
    pub(crate) fn new(
        server: Arc<ServerShared>,
        slot: SemaphoreGuardArc,
        accepted: Instant,
    ) -> Self {
        ConnShared {
            in_flight: AtomicUsize::new(0),
            dispatched: AtomicU64::new(0),
            accepted,
            finished: AtomicU64::new(0),
            upgraded: AtomicBool::new(false),
            responded: Event::new(),
            notify_every_response: AtomicBool::new(false),
            counted: AtomicBool::new(false),
            server,
            unread: Unread::default(),
            _slot: slot,
        }
    }

    /// A request was handed to the application.
    pub(crate) fn dispatch(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.dispatched.fetch_add(1, Ordering::Relaxed);
        if self.server.is_draining() {
            self.count_busy();
        }
    }

    /// A response was sent in full, or given up: the connection's idle time starts now.
    pub(crate) fn done(&self) {
        let since = u64::try_from(self.accepted.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.finished.store(since, Ordering::Relaxed);
        let idle = self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1;
        if self.server.is_draining() {
            if idle {
                self.uncount_busy();
            }
            self.responded.notify(usize::MAX);
        } else if self.notify_every_response.load(Ordering::Relaxed) {
            self.responded.notify(usize::MAX);
        }
    }

    /// Every response sent in full is notified from now on (an HTTP/2 connection's idle
    /// clock listens).
    #[cfg(feature = "http2")]
    pub(crate) fn notify_every_response(&self) {
        self.notify_every_response.store(true, Ordering::Relaxed);
    }

    /// While the server drains: counts the connection as busy if a request is in flight on
    /// it, until it has none (the drain settles once none is busy). The flag makes sure that
    /// exactly one of this and `uncount_busy` takes the count back, whichever order they
    /// run in.
    pub(crate) fn count_busy(&self) {
        if !self.counted.swap(true, Ordering::SeqCst) {
            self.server.busy_connection();
        }
        if self.in_flight() == 0 {
            self.uncount_busy();
        }
    }

    fn uncount_busy(&self) {
        if self.counted.swap(false, Ordering::SeqCst) {
            self.server.quiet_connection();
        }
    }

    /// The connection was upgraded to another protocol: it is busy for as long as it lives.
    pub(crate) fn upgrade(&self) {
        self.upgraded.store(true, Ordering::Release);
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn dispatched(&self) -> u64 {
        self.dispatched.load(Ordering::Relaxed)
    }

    /// When the last response was sent in full.
    pub(crate) fn finished(&self) -> Instant {
        self.accepted + Duration::from_nanos(self.finished.load(Ordering::Relaxed))
    }
}

impl HoldsUnread for ConnShared {
    fn unread(&self) -> &Unread {
        &self.unread
    }
}

/// The answer to a request head that did not arrive in time.
const TIMEOUT_RESPONSE: &[u8] = b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 15\r\nconnection: close\r\n\r\nRequest Timeout";

/// What a read that found nothing leads to, when it does not wait.
enum Quiet {
    /// The connection reads as closed.
    Closed,
    /// The server is draining and the connection is idle: read what the kernel holds, if
    /// anything, else the connection reads as closed.
    LastLook,
}

/// A connection's socket, with its timeouts (see the module docs).
pub(crate) struct ConnIo<S> {
    stream: S,
    /// Bytes read while telling HTTP/1.1 from HTTP/2, given to hyper first.
    prefix: Option<Bytes>,
    conn: Arc<ConnShared>,
    rt: Runtime,
    timer: LazyTimer,
    /// The dispatch count when bytes of a head not yet dispatched arrived.
    partial: Option<u64>,
    head_deadline: Option<Instant>,
    header_timeout: Duration,
    keep_alive_timeout: Duration,
    /// Written bytes not flushed yet (a 408 must not cut into them).
    unflushed: bool,
    /// While the server drains and a response is being sent: hears when it has been.
    responded: Option<EventListener>,
    /// While the server drains and the connection is idle: hears when the drain settles.
    settled: Option<EventListener>,
    /// HTTP/1.1: drains by reading as closed, and may answer 408.
    pub(crate) http1: bool,
}

impl<S: Transport> ConnIo<S> {
    pub(crate) fn new(stream: S, conn: Arc<ConnShared>, rt: Runtime) -> Self {
        let config = &conn.server.config;
        let (header_timeout, keep_alive_timeout) =
            (config.header_read_timeout, config.keep_alive_timeout);
        ConnIo {
            stream,
            prefix: None,
            conn,
            rt,
            timer: LazyTimer::new(),
            partial: None,
            head_deadline: None,
            header_timeout,
            keep_alive_timeout,
            unflushed: false,
            responded: None,
            settled: None,
            http1: true,
        }
    }

    /// Gives bytes already read back, to be read again first.
    pub(crate) fn unread(&mut self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.prefix = Some(Bytes::from(bytes));
        }
    }

    /// Bytes arrived: while no request is being answered, they start a head.
    fn arrived(&mut self) {
        if self.conn.in_flight() == 0 {
            let dispatched = self.conn.dispatched();
            if self.partial != Some(dispatched) {
                self.partial = Some(dispatched);
                self.head_deadline = None;
            }
        }
    }

    /// Nothing to read: wait under the deadline that applies, if any (see the module docs).
    fn poll_quiet(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Quiet>> {
        if !self.http1 {
            // HTTP/2 frames (PINGs, SETTINGS, WINDOW_UPDATEs) come and go on an idle
            // connection: no head to time here (see the module docs).
            return Poll::Pending;
        }
        loop {
            let upgraded = self.conn.upgraded.load(Ordering::Acquire);
            let answering = self.conn.in_flight() > 0;
            // An upgraded connection is as busy as one answering a request, for as long as it
            // lives.
            let in_flight = answering || upgraded;
            let dispatched = self.conn.dispatched();
            let partial = !in_flight && self.partial == Some(dispatched);
            let server = &self.conn.server;
            if self.http1 && !in_flight && !partial && server.is_draining() {
                // Idle while draining: the client may be sending a request right now. Keep
                // reading until the drain settles; then one last look at the socket, and
                // closed. (Listening before looking again, so that a settle in between is not
                // missed.)
                let listener = self.settled.get_or_insert_with(|| server.settle.listen());
                if server.is_settled() || Pin::new(listener).poll(cx).is_ready() {
                    self.settled = None;
                    return Poll::Ready(Ok(Quiet::LastLook));
                }
            }
            if answering && !upgraded && self.http1 && self.conn.server.is_draining() {
                // The response may be sent in full at any moment; be told, so that the
                // connection, idle then, closes without waiting for the timer. (Listening
                // before looking again, so that a response sent in between is not missed.)
                let responded = &self.conn.responded;
                let listener = self.responded.get_or_insert_with(|| responded.listen());
                if self.conn.in_flight() == 0 || Pin::new(listener).poll(cx).is_ready() {
                    self.responded = None;
                    continue;
                }
            }
            let now = Instant::now();
            let deadline = if in_flight {
                // No deadline while a request is answered (a handler, or a stream, takes the
                // time it takes), but the timer comes back to look: hyper may not read again
                // once the response is sent, and the idle time must still be kept.
                now + self.keep_alive_timeout
            } else if partial {
                *self.head_deadline.get_or_insert(now + self.header_timeout)
            } else if dispatched == 0 {
                self.conn.accepted + self.header_timeout
            } else {
                self.conn.finished() + self.keep_alive_timeout
            };
            if !in_flight && now >= deadline {
                return self.expire(cx, partial).map_ok(|()| Quiet::Closed);
            }
            ready!(self.timer.poll_until(&self.rt, deadline, now, cx));
            // The timer fired: look again at where the connection stands.
        }
    }

    fn expire(&mut self, cx: &mut Context<'_>, partial: bool) -> Poll<io::Result<()>> {
        if !partial {
            // An idle connection closes quietly.
            return Poll::Ready(Ok(()));
        }
        if self.http1 && !self.unflushed {
            // Best effort: the socket's buffer is empty, so this small write goes through at
            // once or not at all.
            if let Poll::Ready(Ok(_)) = Pin::new(&mut self.stream).poll_write(cx, TIMEOUT_RESPONSE)
            {
                let _ = Pin::new(&mut self.stream).poll_flush(cx);
            }
        }
        tracing::debug!(
            "a request head did not arrive within {:?}",
            self.header_timeout
        );
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the request head did not arrive in time",
        )))
    }
}

impl<S: Transport> hyper::rt::Read for ConnIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(prefix) = &mut this.prefix {
            let n = prefix.len().min(buf.remaining());
            buf.put_slice(&prefix[..n]);
            prefix.advance(n);
            if prefix.is_empty() {
                this.prefix = None;
            }
            return Poll::Ready(Ok(()));
        }
        // SAFETY: the slice is only written through `ReadBuf`, which writes initialised bytes.
        let unfilled = unsafe { buf.as_mut() };
        let mut target = ReadBuf::uninit(unfilled);
        match this.stream.poll_read_buf(cx, &mut target) {
            Poll::Ready(Ok(())) => {
                let n = target.filled().len();
                if n > 0 {
                    this.arrived();
                }
                // SAFETY: `ReadBuf` reports the first `n` bytes as filled, so initialised.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => match this.poll_quiet(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
                Poll::Ready(Ok(Quiet::Closed)) => Poll::Ready(Ok(())),
                Poll::Ready(Ok(Quiet::LastLook)) => {
                    // The runtime may not have seen a request that has just arrived.
                    match this.stream.try_read_now(&mut target) {
                        Ok(()) => {
                            let n = target.filled().len();
                            if n > 0 {
                                this.arrived();
                            }
                            // SAFETY: `ReadBuf` reports the first `n` bytes as filled.
                            unsafe { buf.advance(n) };
                            Poll::Ready(Ok(()))
                        }
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Poll::Ready(Ok(())),
                        Err(err) if err.kind() == io::ErrorKind::Unsupported => Poll::Ready(Ok(())),
                        Err(err) => Poll::Ready(Err(err)),
                    }
                }
            },
        }
    }
}

impl<S: Transport> hyper::rt::Write for ConnIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.unflushed = true;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.unflushed = true;
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.stream).poll_flush(cx))?;
        this.unflushed = false;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_close(cx)
    }
}
