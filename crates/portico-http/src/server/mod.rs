//! The HTTP server: hyper 1.x on whichever runtime runs it, through `portico-rt`.
//!
//! HTTP/1.1 (keep-alive, pipelining) and, with the `http2` feature, HTTP/2 by prior knowledge
//! are told apart on one port from the first bytes; with the `tls` feature, HTTPS chooses
//! between them by ALPN (`tls/`). Defaults hold without configuration: a 10 s header-read
//! timeout answered `408`, a 75 s keep-alive timeout, 32 KiB of request head at most (`431`
//! past it), 10,000 connections at once, `TCP_NODELAY`, a 30 s limit between reads of a
//! request body (`408`), and a graceful shutdown on Ctrl-C or `SIGTERM` that answers every
//! request already received, and every request that arrives on an open connection while it
//! drains, before closing. HTTP/2 connections are closed with GOAWAY.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::FutureExt;
use portico_rt::{ListenOptions, Runtime};

use crate::App;
use crate::service::AppService;

mod accept;
mod conn;
#[cfg(feature = "http2")]
mod http2;
mod hyper_rt;
mod shared;
#[allow(
    unsafe_code,
    reason = "reads into hyper's uninitialised buffer through portico-rt's ReadBuf; each block says why it is sound"
)]
mod socket;
mod stream;
#[cfg(feature = "tls")]
pub(crate) mod tls;

use accept::{Listener, accept};
pub(crate) use shared::ServerShared;
pub use stream::StreamServer;

/// Which protocols a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// HTTP/1.1, or HTTP/2 when the client opens with its preface (prior knowledge, `h2c`)
    /// and the `http2` feature is on.
    Auto,
    Http1,
    #[cfg(feature = "http2")]
    Http2,
}

/// Settings every connection reads.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) header_read_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) keep_alive: bool,
    pub(crate) max_header_size: usize,
    pub(crate) protocol: Protocol,
    pub(crate) body_timeout: Option<Duration>,
    pub(crate) drain_linger: Duration,
    #[cfg(feature = "http2")]
    pub(crate) http2_keep_alive_interval: Option<Duration>,
    /// HTTPS: every connection shakes hands first.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<tls::TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(75),
            keep_alive: true,
            max_header_size: 32 * 1024,
            protocol: Protocol::Auto,
            body_timeout: Some(Duration::from_secs(30)),
            drain_linger: Duration::from_millis(500),
            #[cfg(feature = "http2")]
            http2_keep_alive_interval: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

enum Bind {
    Addr(String),
    Listener(std::net::TcpListener),
    #[cfg(unix)]
    Unix(std::path::PathBuf),
}

impl fmt::Debug for Bind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bind::Addr(addr) => write!(f, "{addr}"),
            Bind::Listener(listener) => write!(f, "{:?}", listener.local_addr().ok()),
            #[cfg(unix)]
            Bind::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

type ShutdownFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server for an application, built by [`App::serve`] and friends; `.await` it (or
/// [`run`](Self::run) it) to serve until shutdown, or [`start`](Self::start) it in the
/// background.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use portico_http::App;
///
/// async fn hello() -> &'static str {
///     "Hello, World!"
/// }
///
/// # async fn example() -> std::io::Result<()> {
/// App::new()
///     .get("/", hello)
///     .serve("127.0.0.1:8000")
///     .shutdown_timeout(Duration::from_secs(10))
///     .await?;
/// # Ok(())
/// # }
/// ```
pub struct Server {
    app: App,
    bind: Bind,
    config: ServerConfig,
    listeners: usize,
    backlog: u32,
    max_connections: usize,
    shutdown_timeout: Duration,
    signals: bool,
    shutdown: Option<ShutdownFuture>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("bind", &self.bind)
            .field("config", &self.config)
            .field("listeners", &self.listeners)
            .field("max_connections", &self.max_connections)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("signals", &self.signals)
            .finish_non_exhaustive()
    }
}

impl App {
    /// A server for this application on `addr` (`"127.0.0.1:8000"`, `"[::]:8080"`; port `0`
    /// picks a free one). Nothing is bound until it runs.
    pub fn serve(self, addr: impl Into<String>) -> Server {
        Server::new(self, Bind::Addr(addr.into()))
    }

    /// A server for this application on a listener made elsewhere (with socket options of
    /// your own, or handed over by a supervisor).
    pub fn serve_listener(self, listener: std::net::TcpListener) -> Server {
        Server::new(self, Bind::Listener(listener))
    }

    /// A server for this application on a Unix domain socket at `path` (behind a proxy on the
    /// same machine). A socket file left there by an earlier run is replaced.
    #[cfg(unix)]
    pub fn serve_unix(self, path: impl Into<std::path::PathBuf>) -> Server {
        Server::new(self, Bind::Unix(path.into()))
    }
}

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Connections still open when the grace period ended, and cut (WebSockets included).
    pub cut_connections: usize,
    /// Background tasks and cleanups (one per request, mostly) still running when the grace
    /// period ended.
    pub cut_background: usize,
}

impl ShutdownReport {
    /// Whether every connection, and every background task, finished within the grace
    /// period.
    pub fn is_graceful(&self) -> bool {
        self.cut_connections == 0 && self.cut_background == 0
    }
}

impl Server {
    fn new(app: App, bind: Bind) -> Self {
        Server {
            app,
            bind,
            config: ServerConfig::default(),
            listeners: 1,
            backlog: 1024,
            max_connections: 10_000,
            shutdown_timeout: Duration::from_secs(30),
            signals: true,
            shutdown: None,
        }
    }

    /// How long a client may take to send a request head (10 s by default). A client that
    /// sent part of one by then is answered `408 Request Timeout`; one that sent nothing is
    /// disconnected quietly. A connection's first head is due within this time of the
    /// accept, a TLS handshake included.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// How long an idle keep-alive connection stays open (75 s by default). An HTTP/2
    /// connection is idle while no stream is open on it (its PINGs and other control frames do
    /// not count), and is closed with GOAWAY.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.config.keep_alive_timeout = timeout;
        self
    }

    /// How long a request body may go without sending anything while it is read (30 s by
    /// default, `None` for no limit). A client that stalls longer fails the read with
    /// [`BodyError::TimedOut`](crate::BodyError::TimedOut): the extractors answer
    /// `408 Request Timeout`, and a handler reading the body itself sees a
    /// [`BodyTimedOut`](crate::BodyTimedOut) error it can map; the connection then closes.
    /// No time counts while the application is not reading the body.
    pub fn body_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.body_timeout = timeout.into();
        self
    }

    /// How long, at least, a graceful shutdown keeps reading idle keep-alive connections
    /// (500 ms by default). A client may have sent a request on an idle connection just as
    /// the shutdown began: until this much time has passed and no request is in flight on
    /// any connection, every connection keeps reading, and a request that arrives is answered
    /// (with `Connection: close`) rather than cut off. Then idle connections close.
    pub fn drain_linger(mut self, linger: Duration) -> Self {
        self.config.drain_linger = linger;
        self
    }

    /// Sends HTTP/2 PINGs at this interval and closes a connection whose peer does not
    /// answer one within 20 s (off by default): finds peers gone without a word while a long
    /// stream is open. Idle HTTP/2 connections close after the
    /// [`keep_alive_timeout`](Self::keep_alive_timeout) either way, with GOAWAY. Needs the
    /// `http2` feature.
    #[cfg(feature = "http2")]
    pub fn http2_keep_alive_interval(mut self, interval: impl Into<Option<Duration>>) -> Self {
        self.config.http2_keep_alive_interval = interval.into();
        self
    }

    /// Whether HTTP/1.1 connections are kept open between requests (on by default).
    pub fn keep_alive(mut self, on: bool) -> Self {
        self.config.keep_alive = on;
        self
    }

    /// The largest request head (request line and headers), in bytes; `431` past it (32 KiB by
    /// default).
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.config.max_header_size = bytes.max(1024);
        self
    }

    /// Speaks HTTP/1.1 only (no HTTP/2 detection).
    pub fn http1_only(mut self) -> Self {
        self.config.protocol = Protocol::Http1;
        self
    }

    /// Speaks HTTP/2 only (prior knowledge; `h2c`). Needs the `http2` feature.
    #[cfg(feature = "http2")]
    pub fn http2_only(mut self) -> Self {
        self.config.protocol = Protocol::Http2;
        self
    }

    /// The most connections open at once (10,000 by default), open WebSockets included.
    /// Past it, new connections wait in the kernel's queue until one closes.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Accepts on `n` sockets bound to the same address with `SO_REUSEPORT`, so that the
    /// kernel spreads connections over `n` accept loops (1 by default). Ignored for a
    /// listener given with [`App::serve_listener`].
    pub fn listeners(mut self, n: usize) -> Self {
        self.listeners = n.max(1);
        self
    }

    /// The length of the kernel's queue of connections not yet accepted (1024 by default).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// How long a graceful shutdown waits for requests in flight before cutting the
    /// connections left (30 s by default).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Whether Ctrl-C and `SIGTERM` shut the server down gracefully (on by default).
    pub fn signals(mut self, on: bool) -> Self {
        self.signals = on;
        self
    }

    /// Shuts the server down gracefully when `signal` completes (as well as on Ctrl-C and
    /// `SIGTERM`, unless [`signals`](Self::signals) is off).
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Binds the listeners, on the runtime the caller runs on.
    fn bind(&mut self, rt: &Runtime) -> io::Result<Vec<Listener>> {
        let options = ListenOptions::new().backlog(self.backlog);
        match std::mem::replace(&mut self.bind, Bind::Addr(String::new())) {
            Bind::Listener(listener) => Ok(vec![Listener::Tcp(
                rt.tcp_listener(listener)?.nodelay_on_accept(true),
            )]),
            Bind::Addr(addr) => {
                let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("`{addr}` names no address"),
                    )
                })?;
                let options = options.reuse_port(self.listeners > 1);
                let first = options.bind_std(addr)?;
                let bound = first.local_addr()?;
                let mut listeners = vec![Listener::Tcp(
                    rt.tcp_listener(first)?.nodelay_on_accept(true),
                )];
                for _ in 1..self.listeners {
                    let more = options.bind_std(bound)?;
                    listeners.push(Listener::Tcp(
                        rt.tcp_listener(more)?.nodelay_on_accept(true),
                    ));
                }
                Ok(listeners)
            }
            #[cfg(unix)]
            Bind::Unix(path) => {
                if let Ok(meta) = std::fs::symlink_metadata(&path) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        std::fs::remove_file(&path)?;
                    }
                }
                let listener = std::os::unix::net::UnixListener::bind(&path)?;
                Ok(vec![Listener::Unix(rt.unix_listener(listener)?)])
            }
        }
    }

    /// Binds and starts serving in the background, on the runtime the caller runs on.
    ///
    /// # Errors
    ///
    /// If the application has mistakes, the address cannot be bound, or there is no runtime.
    pub fn start(mut self) -> io::Result<ServerHandle> {
        let rt = portico_rt::current()?;
        let service = std::mem::take(&mut self.app)
            .try_into_service()
            .map_err(io::Error::other)?;
        let listeners = self.bind(&rt)?;
        let addrs = listeners.iter().filter_map(Listener::local_addr).collect();
        let stop = Arc::new(portico_tasks::Event::new());
        let stopped = stop.clone();
        let user = self.shutdown.take();
        let trigger: ShutdownFuture = Box::pin(async move {
            match user {
                Some(user) => user.or(stopped.wait()).await,
                None => stopped.wait().await,
            }
        });
        self.shutdown = Some(trigger);
        let task = rt.spawn(self.serve_bound(rt.clone(), service, listeners));
        Ok(ServerHandle { addrs, stop, task })
    }

    /// Binds and serves until shut down (Ctrl-C, `SIGTERM`, or the future given to
    /// [`with_graceful_shutdown`](Self::with_graceful_shutdown)), then drains.
    ///
    /// # Errors
    ///
    /// If the application has mistakes, the address cannot be bound, there is no runtime, or
    /// the signals cannot be listened to.
    pub async fn run(mut self) -> io::Result<ShutdownReport> {
        let rt = portico_rt::current()?;
        let service = std::mem::take(&mut self.app)
            .try_into_service()
            .map_err(io::Error::other)?;
        let listeners = self.bind(&rt)?;
        #[cfg(feature = "tls")]
        let scheme = if self.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        #[cfg(not(feature = "tls"))]
        let scheme = "http";
        for listener in &listeners {
            if let Some(addr) = listener.local_addr() {
                tracing::info!("listening on {scheme}://{addr}");
            }
        }
        self.serve_bound(rt, service, listeners).await
    }

    async fn serve_bound(
        self,
        rt: Runtime,
        service: AppService,
        listeners: Vec<Listener>,
    ) -> io::Result<ShutdownReport> {
        // The lifespan's startup runs before any connection is accepted; its failure stops
        // the server (the listeners close unused).
        service.startup().await.map_err(io::Error::other)?;
        let server = Arc::new(ServerShared::new(self.config, &rt));
        service.shared().running.served_by(&server.connections);
        let slots = Arc::new(portico_tasks::Semaphore::new(self.max_connections));
        let stop_accepting = Arc::new(portico_tasks::Event::new());
        let accepting: Vec<_> = listeners
            .into_iter()
            .map(|listener| {
                rt.spawn(accept(
                    listener,
                    service.clone(),
                    server.clone(),
                    slots.clone(),
                    rt.clone(),
                    stop_accepting.clone(),
                ))
            })
            .collect();
        let signal = if self.signals {
            Some(rt.shutdown_signal()?)
        } else {
            None
        };
        let user = self.shutdown;
        let reason = async {
            match signal {
                Some(signal) => Some(signal.await),
                None => std::future::pending().await,
            }
        };
        let by_user = async {
            match user {
                Some(user) => {
                    user.await;
                    None
                }
                None => std::future::pending().await,
            }
        };
        match reason.or(by_user).await {
            Some(signal) => tracing::info!("{signal:?} received: shutting down"),
            None => tracing::info!("shutting down"),
        }
        // Stop accepting: each accept loop ends and closes its listener before the drain
        // goes on, so a client connecting from now on is refused.
        stop_accepting.set();
        for task in accepting {
            let _ = task.await;
        }
        let report = drain(&rt, &server, &service, self.shutdown_timeout).await;
        // Last, the lifespan's teardown (after the background tasks, which may use what it
        // shares).
        service.shutdown().await;
        Ok(report)
    }
}

/// A graceful shutdown, once the server no longer accepts: a cancellation with a deadline.
/// The application and the connections are told; what they received is answered within the
/// grace period; then the connections and upgraded connections left are cut (their trackers
/// drop them), and after-response work left runs on, dropped with the runtime.
async fn drain(
    rt: &Runtime,
    server: &ServerShared,
    service: &AppService,
    grace: Duration,
) -> ShutdownReport {
    let running = &service.shared().running;
    // Event streams end and WebSockets close as the application learns it is shutting down;
    // then the connections learn it (idle ones close, HTTP/2 ones get GOAWAY).
    running.drain();
    server.start_draining();
    let grace_ends = rt.now() + grace;
    let open = server.connections.len() + running.open_sockets();
    if open > 0 {
        tracing::info!("waiting up to {grace:?} for {open} connection(s) to finish");
    }
    // Idle connections keep reading until the drain settles: the linger is over and no
    // request is in flight; a request on its way meanwhile is answered, not cut off.
    let linger = server.config.drain_linger;
    let settled = async {
        rt.sleep(linger).await;
        server.all_quiet().await;
    };
    let _ = rt
        .timeout_at(grace_ends, settled.or(server.connections.wait()))
        .await;
    server.settle();
    let closed = async {
        server.connections.wait().await;
        running.sockets_closed().await;
    };
    let cut_connections = match rt.timeout_at(grace_ends, closed).await {
        Ok(()) => 0,
        Err(_) => {
            let left = server.connections.len() + running.open_sockets();
            tracing::warn!("{left} connection(s) still open after {grace:?}: closing them");
            server.cut();
            running.cut_sockets();
            let dropped = async {
                server.connections.wait().await;
                running.sockets_closed().await;
            };
            let _ = rt.timeout(Duration::from_secs(5), dropped).await;
            left
        }
    };
    // Background tasks queued by the last requests run within the same grace period; what is
    // left when it ends runs on, and is dropped with the runtime.
    let mut cut_background = 0;
    if running.working() > 0 {
        tracing::info!(
            "waiting for {} background task(s) and cleanup(s)",
            running.working()
        );
        if rt
            .timeout_at(grace_ends, running.work_done())
            .await
            .is_err()
        {
            cut_background = running.working();
            tracing::warn!(
                "{cut_background} background task(s) and cleanup(s) did not finish within {grace:?}"
            );
        }
    }
    ShutdownReport {
        cut_connections,
        cut_background,
    }
}

impl IntoFuture for Server {
    type Output = io::Result<ShutdownReport>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<ShutdownReport>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// A server running in the background, from [`Server::start`]. Dropping the handle stops the
/// server at once (no task outlives its handle); [`stop`](Self::stop) shuts it down gracefully.
#[derive(Debug)]
pub struct ServerHandle {
    addrs: Vec<SocketAddr>,
    stop: Arc<portico_tasks::Event>,
    task: portico_rt::JoinHandle<io::Result<ShutdownReport>>,
}

impl ServerHandle {
    /// The address the server listens on (the first, with several listeners).
    ///
    /// # Panics
    ///
    /// For a server on a Unix socket, which has no IP address.
    pub fn local_addr(&self) -> SocketAddr {
        *self.addrs.first().expect("a TCP server has an address")
    }

    /// Every address the server listens on.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Starts a graceful shutdown, without waiting for it.
    pub fn shutdown(&self) {
        self.stop.set();
    }

    /// Shuts the server down gracefully and waits until it has stopped.
    ///
    /// # Errors
    ///
    /// If serving failed.
    pub async fn stop(self) -> io::Result<ShutdownReport> {
        self.shutdown();
        self.stopped().await
    }

    /// Waits until the server has stopped (after [`shutdown`](Self::shutdown), a signal, or
    /// the future given to `with_graceful_shutdown`).
    ///
    /// # Errors
    ///
    /// If serving failed.
    pub async fn stopped(self) -> io::Result<ShutdownReport> {
        match self.task.await {
            Ok(result) => result,
            Err(err) => Err(io::Error::other(format!("the server task failed: {err}"))),
        }
    }
}
