#![doc = include_str!("../ARCHITECTURE.md")]

mod app;
mod background;
mod body;
mod context;
mod depends;
mod error;
mod extract;
mod files;
mod handler;
mod lifespan;
pub mod middleware;
mod response;
mod routing;
mod running;
pub mod security;
mod server;
mod service;
#[cfg(feature = "settings")]
pub mod settings;
mod strategy;
mod teardown;
#[cfg(any(feature = "metrics", feature = "otel"))]
pub mod telemetry;
#[cfg(feature = "templates")]
mod templates;
mod testing;
mod timer;
mod validate;
#[cfg(feature = "websocket")]
pub mod websocket;

pub use app::{App, Callback, Route, Router, Webhook};
pub use background::{BackgroundTask, BackgroundTasks};
#[allow(deprecated, reason = "the old name stays available")]
pub use body::ResponseBody;
pub use body::{Body, BodyError, BodyTimedOut, BoxError};
pub use context::{
    ContentTypeCheck, DEFAULT_BODY_LIMIT, DEFAULT_CLEANUP_THREADS, FormLimits, RequestContext,
    RouteSpec,
};
pub use cookie;
pub use depends::{Depends, Fresh, IntoProvider, Provider, ProviderFn};
pub use error::{BuildError, ErrorItem, HttpError, LocPart, RequestHead, RequestValidationError};
pub use extract::{
    BodyStream, Cookie, Embed, Form, FromRequest, FromRequestParts, Header, Path, Query,
    RaisedError, Rejection, State,
};
#[cfg(feature = "multipart")]
pub use extract::{Multipart, MultipartField, UploadFile};
pub use files::{FileResponse, StaticFiles};
pub use handler::{Handler, HandlerDoc};
pub use http;
pub use lifespan::{Lifespan, StartupError};
#[cfg(feature = "templates")]
#[doc(no_inline)]
pub use minijinja;
pub use portico_openapi::{
    BodyDoc, Contact, License, OPENAPI_VERSION, OperationDoc, ParamDoc, ResponseDoc, ReturnDoc,
    SecurityDoc, Source, doc_schema_for, schema_for,
};
#[allow(deprecated, reason = "the old name stays available")]
pub use response::sse::Event;
pub use response::{
    EventStream, Html, IntoResponse, IntoResponseParts, Json, KeepAlive, Partial, Redirect,
    Response, ServerSentEvent, SetCookie, StreamBody, Text,
};
pub use routing::IntoMount;
/// One connection at a time over any byte stream, for fuzzing and tests that replay bytes.
#[doc(hidden)]
pub use server::StreamServer;
pub use server::{Server, ServerHandle, ShutdownReport};
#[cfg(feature = "tower")]
pub use service::ServiceFuture;
pub use service::{AppService, ResponseFuture, RouteRef};
pub use strategy::{Async, Blocking};
#[allow(deprecated, reason = "the old name stays available")]
pub use teardown::Scope;
pub use teardown::{CleanupScope, Outcome, TaskOutcome};
#[cfg(feature = "templates")]
pub use templates::{TemplateError, TemplateResponse, Templates};
pub use testing::{
    BlockingTestClient, BlockingTestRequest, MultipartForm, StreamingResponse, TestClient,
    TestRequest, TestResponse,
};
#[cfg(feature = "websocket")]
pub use testing::{
    BlockingWebSocketTestRequest, BlockingWebSocketTestSession, WebSocketConnectError,
    WebSocketTestRequest, WebSocketTestSession,
};
#[cfg(feature = "websocket")]
pub use websocket::{WebSocket, WebSocketDisconnect, WebSocketError};

/// Running behind a proxy: the client's address, forwarded headers from trusted proxies, and
/// the root path the application is served under.
///
/// A reverse proxy (nginx, a load balancer) connects to the application itself, so the
/// connection's peer is the proxy, the scheme is plain `http` even when the client used TLS,
/// and the `Host` may be the proxy's upstream name. The proxy says what the client used in
/// `Forwarded` (RFC 7239) or `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host`;
/// [`ProxyHeaders`](proxy::ProxyHeaders) believes them only from the proxies it is told to
/// trust, since any client can send them. With [`App::root_path`] an application reached under
/// a prefix (`/api`) builds its redirects, `url_for` links and OpenAPI `servers` with it.
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::proxy::{ClientAddr, ProxyHeaders};
///
/// async fn who(client: ClientAddr) -> String {
///     client.0.ip().to_string()
/// }
///
/// let app = App::new()
///     .root_path("/api")
///     .get("/who", who)
///     .add_middleware(ProxyHeaders::new(["127.0.0.1"]));
/// # drop(app);
/// ```
pub mod proxy {
    pub use crate::extract::ClientAddr;
    pub use crate::middleware::ProxyHeaders;
}

/// HTTPS, with rustls over either runtime (the `tls` feature): the server's certificate,
/// reloadable while it runs; HTTP/2 and HTTP/1.1 chosen by ALPN on one port; client
/// certificates (mutual TLS), which handlers read with [`TlsInfo`](tls::TlsInfo).
///
/// # Examples
///
/// ```no_run
/// use portico_http::App;
/// use portico_http::tls::{ClientAuth, TlsConfig, TlsInfo};
///
/// async fn hello(tls: TlsInfo) -> String {
///     let who = if tls.client_certificate().is_some() { "a known client" } else { "a stranger" };
///     format!("Hello, {who}")
/// }
///
/// # async fn example() -> std::io::Result<()> {
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?
///     .client_auth_pem_file("clients-ca.pem", ClientAuth::Optional)?;
/// App::new().get("/", hello).serve("0.0.0.0:8443").tls(tls).await?;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "tls")]
pub mod tls {
    pub use crate::server::tls::{ClientAuth, MutualTls, TlsConfig, TlsInfo};
    /// The TLS library underneath, for a ready [`ServerConfig`](rustls::ServerConfig) and
    /// the types [`TlsInfo`] hands out.
    pub use rustls;
}

#[doc(hidden)]
pub mod __private {
    pub use crate::handler::check;
    pub use crate::handler::type_id_of;
    pub use inventory;
}

/// An HTTP request, as handlers and extractors see it.
pub type Request = http::Request<Body>;
