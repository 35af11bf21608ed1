//! An HTTP/2 connection's life: timed by keep-alive, never by the HTTP/1 head timeout, and
//! closed with GOAWAY (RFC 9113, section 6.8) whether it went idle or the server drains.
//!
//! Control frames (PING, SETTINGS, WINDOW_UPDATE) keep arriving on an idle HTTP/2 connection,
//! so bytes on the socket say nothing about whether it is in use: its streams do. The
//! connection is idle from when its last stream ended (or from when it was accepted); once it
//! has been idle for the keep-alive timeout, hyper is asked for a graceful shutdown, which
//! sends GOAWAY, lets the streams in flight finish, and closes. A peer that has gone away
//! without a word is found by hyper's PING keep-alive, when configured
//! (`Server::http2_keep_alive_interval`).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use event_listener::EventListener;
use portico_rt::Runtime;

use super::ServerShared;
use super::socket::ConnShared;
use crate::timer::LazyTimer;

/// Serves an HTTP/2 connection to its end: GOAWAY when it has been idle for the keep-alive
/// timeout, or as soon as the server drains.
pub(super) async fn drive<C>(
    connection: C,
    server: &ServerShared,
    conn: &ConnShared,
    rt: &Runtime,
) -> hyper::Result<()>
where
    C: GracefulShutdown,
{
    conn.notify_every_response();
    let mut watched = Watched {
        connection: Box::pin(connection),
        clock: IdleClock {
            keep_alive: server.config.keep_alive_timeout,
            rt: rt.clone(),
            timer: LazyTimer::new(),
            responded: None,
        },
        closing: false,
        drain_seen: false,
    };
    // `conn::drive` wakes the connection when the server starts draining; `Watched` sees it.
    let watched = poll_fn(|cx| watched.poll(conn, cx));
    super::conn::drive(watched, server, |_| {}).await
}

/// A hyper HTTP/2 connection, which can be asked to close gracefully.
pub(super) trait GracefulShutdown: Future<Output = hyper::Result<()>> {
    /// Sends GOAWAY, finishes the streams in flight, then closes.
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, E, B> GracefulShutdown for hyper::server::conn::http2::Connection<I, S, E>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: http_body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http2::Connection::graceful_shutdown(self);
    }
}

/// The connection and its idle clock.
struct Watched<C> {
    connection: Pin<Box<C>>,
    clock: IdleClock,
    /// Whether GOAWAY has been asked for.
    closing: bool,
    /// Whether the server's drain has been seen.
    drain_seen: bool,
}

impl<C: GracefulShutdown> Watched<C> {
    fn poll(&mut self, conn: &ConnShared, cx: &mut Context<'_>) -> Poll<hyper::Result<()>> {
        if !self.drain_seen && conn.server.is_draining() {
            self.drain_seen = true;
            // Busy, the connection holds the drain open until its streams are done.
            conn.count_busy();
            self.close();
        }
        if !self.closing && self.clock.poll_expired(conn, cx).is_ready() {
            self.close();
        }
        self.connection.as_mut().poll(cx)
    }

    fn close(&mut self) {
        if !self.closing {
            self.closing = true;
            self.connection.as_mut().graceful_shutdown();
        }
    }
}

/// When an HTTP/2 connection has been idle for the keep-alive timeout.
struct IdleClock {
    keep_alive: std::time::Duration,
    rt: Runtime,
    timer: LazyTimer,
    /// While streams are in flight: hears when one ends.
    responded: Option<EventListener>,
}

impl IdleClock {
    /// Ready once the connection has had no stream in flight for the keep-alive timeout.
    fn poll_expired(&mut self, conn: &ConnShared, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if conn.in_flight() > 0 {
                // Listening before looking again, so that a stream ending in between is not
                // missed.
                let listener = self
                    .responded
                    .get_or_insert_with(|| conn.responded.listen());
                if conn.in_flight() > 0 {
                    ready!(Pin::new(listener).poll(cx));
                }
                self.responded = None;
                continue;
            }
            let deadline = conn.finished() + self.keep_alive;
            let now = Instant::now();
            if now >= deadline {
                return Poll::Ready(());
            }
            ready!(self.timer.poll_until(&self.rt, deadline, now, cx));
        }
    }
}
