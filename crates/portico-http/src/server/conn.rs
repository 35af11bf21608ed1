//! One connection: HTTP/1.1 or (with the `http2` feature) HTTP/2 told apart by the first
//! bytes, served by hyper, drained or cut off when the server shuts down.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use event_listener::EventListener;
use http::header::{CONNECTION, EXPECT, HeaderValue};
use http_body::{Body as _, Frame, SizeHint};
use portico_rt::Runtime;

use super::socket::{ConnIo, ConnShared, Transport};
use super::{Protocol, ServerShared};
use crate::body::{Drain, HoldsUnread, ReadClock};
use crate::response::internal_error;
use crate::service::{AppService, ResponseFuture};
use crate::{Body, BoxError, Response};

/// What an HTTP/2 client sends first (RFC 9113, section 3.4).
#[cfg(feature = "http2")]
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What is known of a connection before its first byte of HTTP.
pub(crate) struct Opening {
    /// The protocol to speak: the server's setting, or over TLS what ALPN chose.
    pub(crate) protocol: Protocol,
    /// The client's address, for a TCP connection.
    pub(crate) peer: Option<std::net::SocketAddr>,
    /// What the TLS handshake settled, given to every request.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<super::tls::TlsInfo>,
    /// When the connection was accepted: the first request head is due within the header
    /// timeout of it, a TLS handshake included.
    pub(crate) accepted: std::time::Instant,
}

/// Serves one accepted connection to its end.
pub(crate) async fn serve<S: Transport>(
    stream: S,
    app: AppService,
    server: Arc<ServerShared>,
    rt: Runtime,
    slot: portico_tasks::SemaphoreGuardArc,
) {
    let opening = Opening {
        protocol: server.config.protocol,
        peer: stream.peer(),
        #[cfg(feature = "tls")]
        tls: None,
        accepted: std::time::Instant::now(),
    };
    serve_opened(stream, app, server, rt, slot, opening).await;
}

/// As [`serve`], for a connection whose opening is known (over TLS, after the handshake).
pub(crate) async fn serve_opened<S: Transport>(
    stream: S,
    app: AppService,
    server: Arc<ServerShared>,
    rt: Runtime,
    slot: portico_tasks::SemaphoreGuardArc,
    opening: Opening,
) {
    let conn = Arc::new(ConnShared::new(server.clone(), slot, opening.accepted));
    let peer = opening.peer;
    let mut io = ConnIo::new(stream, conn.clone(), rt.clone());
    let protocol = match opening.protocol {
        #[cfg(feature = "http2")]
        Protocol::Http2 => Protocol::Http2,
        wanted => {
            // Without the `http2` feature, hyper's HTTP/1 answers an HTTP/2 preface.
            let detect = cfg!(feature = "http2") && wanted == Protocol::Auto;
            match first_head(&mut io, detect, server.config.max_header_size).await {
                Ok(Some(protocol)) => protocol,
                Ok(None) => return,
                Err(err) => {
                    tracing::debug!("connection closed before its first request: {err}");
                    return;
                }
            }
        }
    };
    // Boxed, so that a connection still waiting for its first request head holds only the
    // small state above, not hyper's connection.
    let service = ConnService {
        app,
        conn,
        http1: protocol == Protocol::Http1,
        peer,
        #[cfg(feature = "tls")]
        tls: opening.tls,
        #[cfg(feature = "http2")]
        rt,
    };
    Box::pin(serve_protocol(io, service, server)).await;
}

/// Serves a connection whose protocol is known.
async fn serve_protocol<S: Transport>(
    mut io: ConnIo<S>,
    service: ConnService,
    server: Arc<ServerShared>,
) {
    io.http1 = service.http1;
    #[cfg(feature = "http2")]
    if !service.http1 {
        let (conn, rt) = (service.conn.clone(), service.rt.clone());
        let connection = server.http2.serve_connection(io, service);
        return log_end(super::http2::drive(connection, &server, &conn, &rt).await);
    }
    let conn = service.conn.clone();
    let connection = server.http1.serve_connection(io, service).with_upgrades();
    let result = drive(connection, &server, |_| {
        // Nothing to tell hyper: the socket wrapper closes the connection once it is idle,
        // and responses from now on say `Connection: close`. Busy, it holds the drain open.
        conn.count_busy();
    })
    .await;
    log_end(result);
}

fn log_end(result: hyper::Result<()>) {
    if let Err(err) = result {
        tracing::debug!("connection ended with an error: {err}");
    }
}

/// Reads the first request head before hyper takes the connection, and tells HTTP/2's preface
/// apart on the way (when `detect` is on); the bytes are handed back to hyper. A client that
/// never completes a head then holds a small buffer (grown as its head does) rather than
/// hyper's two 8 KiB buffers. A client with a whole head costs no extra read: the first one
/// usually brings all of it. A request line that can never begin an HTTP/1.x head (no
/// version: HTTP/0.9; a byte no method may hold) goes to hyper at once, which answers 400.
/// `None` if the client went away first.
async fn first_head<S: Transport>(
    io: &mut ConnIo<S>,
    detect: bool,
    max: usize,
) -> std::io::Result<Option<Protocol>> {
    #[cfg(not(feature = "http2"))]
    let _ = detect;
    let mut head: Vec<u8> = Vec::new();
    let protocol = loop {
        let filled = head.len();
        let room = if filled == 0 { 1024 } else { filled };
        head.resize(filled + room, 0);
        let n = poll_fn(|cx| {
            let mut buf = hyper::rt::ReadBuf::new(&mut head[filled..]);
            std::task::ready!(hyper::rt::Read::poll_read(
                Pin::new(&mut *io),
                cx,
                buf.unfilled()
            ))?;
            Poll::Ready(Ok::<_, std::io::Error>(buf.filled().len()))
        })
        .await?;
        head.truncate(filled + n);
        if n == 0 {
            return Ok(None);
        }
        #[cfg(feature = "http2")]
        if detect {
            let seen = head.len().min(PREFACE.len());
            if head[..seen] == PREFACE[..seen] {
                if seen == PREFACE.len() {
                    break Protocol::Http2;
                }
                continue;
            }
        }
        // The head ends with an empty line (a bare LF is tolerated, as hyper tolerates it).
        let from = filled.saturating_sub(2);
        let ended = head[from..].windows(2).any(|w| w == b"\n\n")
            || head[from..].windows(3).any(|w| w == b"\n\r\n");
        if ended || head.len() >= max || !may_begin_a_head(&head) {
            // Past the limit, hyper answers 431; to a line that is no request line, 400.
            break Protocol::Http1;
        }
    };
    io.unread(head);
    Ok(Some(protocol))
}

/// Whether `head`, a request head not yet complete, may still become a valid one: its request
/// line, as far as it has arrived, is what hyper's own parser accepts.
fn may_begin_a_head(head: &[u8]) -> bool {
    // No room for headers: a valid request line followed by a header reads as "too many".
    let mut request = httparse::Request::new(&mut []);
    matches!(
        request.parse(head),
        Ok(_) | Err(httparse::Error::TooManyHeaders)
    )
}

/// Drives a hyper connection, telling it about the server's shutdown (`on_drain`, once, when
/// draining starts). A connection left when the grace period is over is cut by the server's
/// tracker of connections, which drops this future.
pub(super) async fn drive<C, T>(
    connection: C,
    server: &ServerShared,
    on_drain: impl FnOnce(Pin<&mut C>),
) -> hyper::Result<T>
where
    C: Future<Output = hyper::Result<T>>,
{
    let mut connection = pin!(connection);
    let mut on_drain = Some(on_drain);
    let mut listener: Option<EventListener> = None;
    // The task's waker the listener was last polled with: it need not be polled again until
    // the waker changes, which keeps the listener's lock off the request path.
    let mut registered: Option<Waker> = None;
    poll_fn(|cx| {
        while on_drain.is_some() {
            if server.is_draining()
                && let Some(on_drain) = on_drain.take()
            {
                on_drain(connection.as_mut());
                break;
            }
            if registered
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()))
            {
                break;
            }
            match &mut listener {
                None => listener = Some(server.drain_started.listen()),
                Some(started) => match Pin::new(started).poll(cx) {
                    Poll::Ready(()) => {
                        listener = None;
                        registered = None;
                    }
                    Poll::Pending => {
                        registered = Some(cx.waker().clone());
                        break;
                    }
                },
            }
        }
        connection.as_mut().poll(cx)
    })
    .await
}

/// The application, as hyper calls it on one connection.
#[derive(Clone)]
struct ConnService {
    app: AppService,
    conn: Arc<ConnShared>,
    http1: bool,
    /// The client's address, given to every request.
    peer: Option<std::net::SocketAddr>,
    /// What the TLS handshake settled, given to every request.
    #[cfg(feature = "tls")]
    tls: Option<super::tls::TlsInfo>,
    /// The HTTP/2 idle clock's timer.
    #[cfg(feature = "http2")]
    rt: Runtime,
}

#[cfg(feature = "tls")]
impl ConnService {
    /// Gives the request what the connection's TLS handshake settled (in place: a request
    /// head is a few hundred bytes, better not moved in and out).
    fn add_tls<B>(&self, request: &mut http::Request<B>) {
        if let Some(tls) = &self.tls {
            request.extensions_mut().insert(tls.clone());
        }
    }
}

/// A request as hyper gives it.
type HyperRequest = http::Request<hyper::body::Incoming>;

impl hyper::service::Service<HyperRequest> for ConnService {
    type Response = http::Response<ServerBody>;
    type Error = Infallible;
    type Future = Served;

    fn call(
        &self,
        #[cfg_attr(not(feature = "tls"), allow(unused_mut))] mut request: HyperRequest,
    ) -> Served {
        #[cfg(feature = "tls")]
        self.add_tls(&mut request);
        self.conn.dispatch();
        let guard = InFlight(self.conn.clone());
        // A request without a body (most) has nothing to time: its clock would only take and
        // give back a reference that every worker shares.
        let bodiless = request.body().is_end_stream();
        let clock = (self.conn.server.body_timeout.as_ref())
            .filter(|_| !bodiless)
            .map(|t| ReadClock::new(t.clone()));
        // On HTTP/1, a body the handler leaves unread comes back to the connection.
        let with_body = self.http1 && !bodiless;
        let expects_continue = with_body && request.headers().contains_key(EXPECT);
        let unread = with_body.then(|| self.conn.clone() as Arc<dyn HoldsUnread>);
        let request = request.map(|body| Body::incoming(body, clock, unread));
        Served {
            response: self.app.call_from(request, self.peer),
            guard: Some(guard),
            http1: self.http1,
            with_body,
            expects_continue,
            draining: None,
        }
    }
}

/// Counts a request as in flight until its response body is done or dropped.
struct InFlight(Arc<ConnShared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.done();
    }
}

/// A response on its way to hyper.
pub(crate) struct Served {
    response: ResponseFuture,
    guard: Option<InFlight>,
    http1: bool,
    /// Whether the request came with a body (HTTP/1).
    with_body: bool,
    /// Whether the client waits for `100 Continue` before sending its body.
    expects_continue: bool,
    /// A response held back while the request body its handler left unread is drained.
    draining: Option<Box<(Response, Drain)>>,
}

impl Future for Served {
    type Output = Result<http::Response<ServerBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (mut response, kept) = match this.draining.take() {
            Some(mut held) => match held.1.poll_kept(cx, this.expects_continue) {
                Poll::Ready(kept) => (held.0, kept),
                Poll::Pending => {
                    this.draining = Some(held);
                    return Poll::Pending;
                }
            },
            None => {
                let response = std::task::ready!(Pin::new(&mut this.response).poll(cx));
                let unread = this
                    .with_body
                    .then(|| this.guard.as_ref()?.0.unread().take());
                match unread.flatten() {
                    Some(drain) => {
                        this.draining = Some(Box::new((response, drain)));
                        return Pin::new(this).poll(cx);
                    }
                    None => (response, true),
                }
            }
        };
        let Some(guard) = this.guard.take() else {
            return Poll::Pending;
        };
        let first = match first_frame(response.body_mut(), cx) {
            Ok(first) => first,
            Err(()) => {
                response = internal_error();
                None
            }
        };
        let conn = &guard.0;
        if response.status() == http::StatusCode::SWITCHING_PROTOCOLS {
            // The connection leaves HTTP behind (a WebSocket): no idle or head deadline applies
            // to it any more; its place under `max_connections` is held by the socket, until
            // the upgraded connection is dropped.
            conn.upgrade();
        } else if this.http1 && (!kept || conn.server.is_draining()) {
            // hyper keeps the connection only if the request body is read to its end: the last
            // response says so, as when the server drains.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Poll::Ready(Ok(response.map(|inner| ServerBody {
            first,
            inner,
            _guard: guard,
        })))
    }
}

/// Polls a streamed response body once before its head is given to hyper, so that a stream
/// that fails or panics at once is answered `500` rather than a `200` cut short. The frame it
/// gave, if any, goes first. A stream that must wait keeps its head waiting no longer.
fn first_frame(body: &mut Body, cx: &mut Context<'_>) -> Result<Option<Box<Frame<Bytes>>>, ()> {
    if !body.is_produced_stream() {
        return Ok(None);
    }
    match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *body).poll_frame(cx))) {
        Ok(Poll::Pending) => Ok(None),
        Ok(Poll::Ready(Some(Ok(frame)))) => Ok(Some(Box::new(frame))),
        Ok(Poll::Ready(None)) => {
            // Not to be polled again.
            *body = Body::empty();
            Ok(None)
        }
        Ok(Poll::Ready(Some(Err(err)))) => {
            tracing::error!("a response stream failed before its first bytes: {err}");
            Err(())
        }
        Err(payload) => {
            log_body_panic(payload.as_ref());
            Err(())
        }
    }
}

fn log_body_panic(payload: &(dyn std::any::Any + Send)) {
    let message = portico_rt::panic_message(payload).unwrap_or("(no message)");
    tracing::error!("a response body panicked: {message}");
}

/// A response body as the server sends it: it keeps the request counted as in flight until it
/// is sent in full or dropped. A panic in the body ends it with an error (the client sees the
/// body cut short), not the connection's task.
pub(crate) struct ServerBody {
    /// What the body gave before its head went out. Boxed: a frame may be trailers, a whole
    /// header map, and the body is moved several times on its way into hyper; only a stream
    /// that gave a frame at once pays for the box.
    first: Option<Box<Frame<Bytes>>>,
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for ServerBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(frame) = this.first.take() {
            return Poll::Ready(Some(Ok(*frame)));
        }
        match catch_unwind(AssertUnwindSafe(|| {
            Pin::new(&mut this.inner).poll_frame(cx)
        })) {
            Ok(poll) => poll,
            Err(payload) => {
                log_body_panic(payload.as_ref());
                this.inner = Body::empty();
                Poll::Ready(Some(Err("the response body panicked".into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = self.inner.size_hint();
        if let Some(data) = self.first.as_deref().and_then(Frame::data_ref) {
            let len = data.len() as u64;
            if let Some(upper) = hint.upper() {
                hint.set_upper(upper.saturating_add(len));
            }
            hint.set_lower(hint.lower().saturating_add(len));
        }
        hint
    }
}
