//! What every connection of one server shares: its settings, the trackers its connections
//! run in, and whether it is draining.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use event_listener::Event;
use portico_rt::Runtime;
use portico_tasks::{TaskPanic, TaskTracker};

use super::ServerConfig;
#[cfg(feature = "http2")]
use super::hyper_rt::Exec;
use super::hyper_rt::Timer;
use crate::body::BodyTimeout;

/// What every connection of a server shares.
pub(crate) struct ServerShared {
    pub(crate) config: ServerConfig,
    /// Every accepted connection, until it ends; cancelled when the grace period of a
    /// shutdown is over.
    pub(crate) connections: TaskTracker,
    /// hyper's tasks for the streams of HTTP/2 connections, which end with them.
    #[cfg(feature = "http2")]
    pub(crate) streams: TaskTracker,
    /// Set once the server stops accepting and finishes what it received.
    draining: AtomicBool,
    /// Notified when draining starts, for connections to be told.
    pub(crate) drain_started: Event,
    /// While draining: connections with a request in flight (each counts itself, see
    /// `ConnShared::count_busy`).
    busy: AtomicUsize,
    /// Notified when `busy` drops to zero.
    quiet: Event,
    /// Set once the drain has settled: the linger is over and no request is in flight, so an
    /// idle connection may close without cutting off a request on its way.
    settled: AtomicBool,
    /// Notified when the drain settles.
    pub(crate) settle: Event,
    /// The request bodies' timeout between reads, when there is one.
    pub(crate) body_timeout: Option<Arc<BodyTimeout>>,
    pub(crate) http1: hyper::server::conn::http1::Builder,
    #[cfg(feature = "http2")]
    pub(crate) http2: hyper::server::conn::http2::Builder<Exec>,
}

fn log_panic(what: &str, panic: &TaskPanic) {
    tracing::error!(
        "{what} panicked: {}",
        panic.message().unwrap_or("(no message)")
    );
}

impl ServerShared {
    pub(super) fn new(config: ServerConfig, rt: &Runtime) -> Self {
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(Timer(rt.clone()))
            // The connection's socket wrapper times heads out, with a 408 (see `io`).
            .header_read_timeout(None)
            .keep_alive(config.keep_alive)
            .max_header_size(config.max_header_size);
        #[cfg(feature = "http2")]
        let streams =
            TaskTracker::new().on_panic(|panic| log_panic("an HTTP/2 stream's task", &panic));
        #[cfg(feature = "http2")]
        let http2 = {
            let mut http2 = hyper::server::conn::http2::Builder::new(Exec {
                rt: rt.clone(),
                streams: streams.clone(),
            });
            http2
                .timer(Timer(rt.clone()))
                .keep_alive_interval(config.http2_keep_alive_interval)
                .max_header_list_size(u32::try_from(config.max_header_size).unwrap_or(u32::MAX));
            http2
        };
        let body_timeout =
            (config.body_timeout).map(|limit| Arc::new(BodyTimeout::new(limit, rt.clone())));
        ServerShared {
            body_timeout,
            config,
            connections: TaskTracker::new().on_panic(|panic| log_panic("a connection", &panic)),
            #[cfg(feature = "http2")]
            streams,
            draining: AtomicBool::new(false),
            drain_started: Event::new(),
            busy: AtomicUsize::new(0),
            quiet: Event::new(),
            settled: AtomicBool::new(false),
            settle: Event::new(),
            http1,
            #[cfg(feature = "http2")]
            http2,
        }
    }

    /// Whether the server is draining.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Starts draining: connections are told.
    pub(super) fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
        self.drain_started.notify(usize::MAX);
    }

    /// A connection has a request in flight while the server drains.
    pub(crate) fn busy_connection(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
    }

    /// A connection counted by `busy_connection` has no request in flight any more.
    pub(crate) fn quiet_connection(&self) {
        if self.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.quiet.notify(usize::MAX);
        }
    }

    /// Waits until no connection has a request in flight (as far as draining connections
    /// have counted themselves).
    pub(super) async fn all_quiet(&self) {
        loop {
            if self.busy.load(Ordering::SeqCst) == 0 {
                return;
            }
            let listener = self.quiet.listen();
            if self.busy.load(Ordering::SeqCst) == 0 {
                return;
            }
            listener.await;
        }
    }

    /// Whether the drain has settled: idle connections may close.
    pub(crate) fn is_settled(&self) -> bool {
        self.settled.load(Ordering::Acquire)
    }

    /// The drain has settled: idle connections are told.
    pub(super) fn settle(&self) {
        self.settled.store(true, Ordering::Release);
        self.settle.notify(usize::MAX);
    }

    /// Cuts every connection left (their futures are dropped).
    pub(super) fn cut(&self) {
        self.connections.cancel();
        #[cfg(feature = "http2")]
        self.streams.cancel();
    }
}
