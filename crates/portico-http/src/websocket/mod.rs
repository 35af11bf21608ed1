//! WebSockets: routes whose handler takes a [`WebSocket`], accepts it and then sends and
//! receives messages until either side closes, as in Starlette and FastAPI.
//!
//! * Add one with [`App::websocket`], [`Router::websocket`] or [`Route::websocket`]. The
//!   handler is an `async fn` taking a [`WebSocket`] and any other parameter a path operation
//!   takes (`Path`, `Query`, `Header`, `Cookie`, `Depends`, `State`...), extracted from the
//!   opening handshake. A parameter that fails validation closes the WebSocket with 1008
//!   (policy violation) and the errors as the reason, as FastAPI does (the handshake
//!   completes first, so that a client over the network sees the code and reason, where
//!   uvicorn answers a bare 403; the reason is cut to fit a close frame); a dependency that
//!   refuses with an [`HttpError`](crate::HttpError) (a 401, say) answers the handshake with
//!   that HTTP response instead.
//! * A closed WebSocket is a typed error: [`WebSocketError::Disconnected`] with the
//!   [`WebSocketDisconnect`]'s code and reason, from `receive*` and `send*`.
//! * A handler that returns closes the WebSocket with 1000 (1011 if it failed or panicked);
//!   one that returns before accepting refuses the handshake with 403.
//! * Messages larger than [`WebSocketConfig::max_message_size`] (16 MiB by default, as
//!   uvicorn's) close the WebSocket with 1009.
//! * A graceful shutdown sends every open WebSocket a close frame with 1001 (going away), so
//!   that its handler sees the disconnect; those still open when the grace period ends are
//!   dropped.
//! * WebSocket routes are left out of the OpenAPI document, as FastAPI leaves them out.
//! * The test client opens WebSockets in-process (`websocket_connect`), over an in-memory
//!   pipe that carries the real protocol.
//!
//! * A path may have a WebSocket route and a plain `GET` route: a request that opens a
//!   WebSocket (`Upgrade: websocket`) goes to the first, any other `GET` to the second. On a
//!   path with only a WebSocket route, a plain `GET` gets `426 Upgrade Required`.
//!
//! * The server pings open WebSockets every 20 s and closes with 1011 those whose peer sent
//!   nothing within 20 s more, as uvicorn does (see [`WebSocketConfig::ping_interval`]).
//!
//! What it does not do (yet): WebSockets over HTTP/2 (RFC 8441) and compression
//! (`permessage-deflate`). Exception handlers
//! apply to a refused handshake, not to errors after the WebSocket is accepted.
//!
//! # Examples
//!
//! A handler that echoes what it receives while another task sends it ticks: the WebSocket
//! [splits](WebSocket::split) into a half that sends and a half that receives.
//!
//! ```
//! use std::time::Duration;
//! use portico_http::App;
//! use portico_http::websocket::{WebSocket, WebSocketError};
//!
//! async fn ticker(ws: WebSocket) -> Result<(), WebSocketError> {
//!     ws.accept().await?;
//!     let (sender, receiver) = ws.split();
//!     let rt = portico_rt::current().expect("handlers run on a runtime");
//!     let ticks = rt.spawn({
//!         let (sender, rt) = (sender.clone(), rt.clone());
//!         async move {
//!             loop {
//!                 rt.sleep(Duration::from_secs(10)).await;
//!                 if sender.send_text("tick").await.is_err() {
//!                     return;
//!                 }
//!             }
//!         }
//!     });
//!     while let Ok(text) = receiver.receive_text().await {
//!         sender.send_text(format!("echo: {text}")).await?;
//!     }
//!     drop(ticks); // Cancels the ticking task.
//!     Ok(())
//! }
//!
//! let client = portico::testing::blocking_client(App::new().websocket("/ticks", ticker));
//! let ws = client.websocket_connect("/ticks").connect().unwrap();
//! ws.send_text("hello").unwrap();
//! assert_eq!(ws.receive_text().unwrap(), "echo: hello");
//! ws.close(1000, "bye").unwrap();
//! ```

use std::time::Duration;

use http::Method;

use crate::app::{App, Declare, Route, Router};
use crate::handler::Handler;

mod core;
mod io;
mod message;
mod route;
mod socket;

pub(crate) use io::{Duplex, MemoryUpgrade, duplex};
pub use message::{Message, WebSocketDisconnect, WebSocketError, close_code};
pub(crate) use route::ClosedBeforeAccept;
pub use socket::{WebSocket, WebSocketReceiver, WebSocketSender};

/// The largest message a WebSocket accepts by default: 16 MiB, as uvicorn's `ws_max_size`.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// Settings of an application's WebSockets (see [`App::websocket_config`]).
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::websocket::WebSocketConfig;
///
/// let app = App::new().websocket_config(WebSocketConfig::default().max_message_size(64 * 1024));
/// # drop(app);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebSocketConfig {
    pub(crate) max_message_size: usize,
    pub(crate) close_timeout: Duration,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) ping_timeout: Duration,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            // As long as the websockets library's (which uvicorn uses) waits by default, less
            // than its 10 s: a peer that does not answer a close frame has gone.
            close_timeout: Duration::from_secs(5),
            // uvicorn's `ws_ping_interval` and `ws_ping_timeout`.
            ping_interval: Some(Duration::from_secs(20)),
            ping_timeout: Duration::from_secs(20),
        }
    }
}

impl WebSocketConfig {
    /// The largest message (and frame) accepted, in bytes (16 MiB by default); a larger one
    /// closes the WebSocket with 1009 (message too big).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// How long the server waits for the peer to answer its close frame before dropping the
    /// connection (5 s by default).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// How often the server pings an open WebSocket (every 20 s by default, as uvicorn);
    /// `None` sends no pings. A peer that sends nothing at all, not even the pong, within
    /// the [`ping_timeout`](Self::ping_timeout) is taken for gone: the WebSocket closes with
    /// 1011 (`keepalive ping timeout`), which the handler's `send` and `receive` report, and
    /// the connection ends. This is what frees a connection whose peer vanished without a
    /// word (a phone that lost its network, a cut cable).
    ///
    /// The pongs are not reported to the handler. While the handler is not receiving, the
    /// server reads ahead for it, up to 16 messages, to hear the pong; if what it reads ends
    /// the WebSocket (the peer closed, or left), the handler's next `send` or `receive` says
    /// so, and a handler still running a close timeout later is dropped. The test client's
    /// in-process WebSockets are not pinged.
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval.filter(|interval| !interval.is_zero());
        self
    }

    /// How long the peer has to answer a ping (20 s by default); see
    /// [`ping_interval`](Self::ping_interval).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }
}

impl Route {
    /// A WebSocket route on `path`: `handler` is an `async fn` taking a [`WebSocket`] and any
    /// other parameters (see the [module docs](crate::websocket)). It answers `GET` requests
    /// that open a WebSocket; a plain `GET` goes to the path's `GET` route when it has one,
    /// and gets `426 Upgrade Required` otherwise. It is left out of the OpenAPI document.
    ///
    /// # Panics
    ///
    /// If `path` is not a valid template (see [`Route::new`]).
    #[track_caller]
    pub fn websocket<H: Handler<M>, M: 'static>(path: impl Into<String>, handler: H) -> Self {
        let mut route =
            Route::new(Method::GET, path, route::WsRoute::new(handler)).include_in_schema(false);
        // Named after the handler function, as other routes are, for `url_for`.
        route.declare = Declare {
            describe: route.declare.describe,
            spec: route.declare.spec,
            ..Declare::of::<H, M>()
        };
        route.websocket = true;
        route
    }
}

impl Router {
    /// Adds a WebSocket route (see [`Route::websocket`]).
    ///
    /// # Panics
    ///
    /// If `path` is not a valid template (see [`Route::new`]).
    #[track_caller]
    pub fn websocket<H: Handler<M>, M: 'static>(self, path: impl Into<String>, handler: H) -> Self {
        self.route(Route::websocket(path, handler))
    }
}

impl App {
    /// Adds a WebSocket route (FastAPI's `@app.websocket`): `handler` is an `async fn` taking
    /// a [`WebSocket`] and any other parameters a path operation takes, extracted from the
    /// opening handshake. See the [module docs](crate::websocket) for how it behaves.
    ///
    /// # Panics
    ///
    /// If `path` is not a valid template (see [`Route::new`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, Path, Query};
    /// use portico_http::websocket::{WebSocket, WebSocketError};
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize, schemars::JsonSchema)]
    /// struct Who {
    ///     name: String,
    /// }
    ///
    /// async fn chat(
    ///     ws: WebSocket,
    ///     Path(room): Path<String>,
    ///     Query(who): Query<Who>,
    /// ) -> Result<(), WebSocketError> {
    ///     ws.accept().await?;
    ///     loop {
    ///         let text = ws.receive_text().await?;
    ///         ws.send_text(format!("[{room}] {}: {text}", who.name)).await?;
    ///     }
    /// }
    ///
    /// let client = portico::testing::blocking_client(App::new().websocket("/chat/{room}", chat));
    /// let ws = client.websocket_connect("/chat/lobby?name=ada").connect().unwrap();
    /// ws.send_text("hello").unwrap();
    /// assert_eq!(ws.receive_text().unwrap(), "[lobby] ada: hello");
    ///
    /// // Without `name`, the WebSocket closes with 1008 before it is accepted.
    /// let refused = client.websocket_connect("/chat/lobby").connect().unwrap_err();
    /// assert_eq!(refused.disconnect().unwrap().code, 1008);
    /// ```
    #[track_caller]
    pub fn websocket<H: Handler<M>, M: 'static>(self, path: impl Into<String>, handler: H) -> Self {
        self.route(Route::websocket(path, handler))
    }

    /// The settings of the application's WebSockets: the largest message accepted and how long
    /// a close waits for the peer's answer (see [`WebSocketConfig`]).
    pub fn websocket_config(self, config: WebSocketConfig) -> Self {
        // Kept with the application's state, where the handshake finds it.
        self.state(config)
    }
}
