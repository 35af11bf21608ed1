//! Portico: a web framework for Rust in the spirit of FastAPI, that runs the same application on
//! tokio or on smol.
//!
//! ```no_run
//! use portico::prelude::*;
//!
//! async fn read_item(Path(item_id): Path<u64>) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({ "item_id": item_id }))
//! }
//!
//! fn main() {
//!     let app = App::new().get("/items/{item_id}", read_item);
//!     // Serves until Ctrl-C or SIGTERM, then drains; tokio unless PORTICO_RUNTIME says smol.
//!     portico::run(app.serve("127.0.0.1:8000")).expect("the server ran");
//! }
//! ```
//!
//! What is here:
//!
//! * the HTTP layer ([`App`], [`Router`], [`Route`], the extractors such as [`Path`],
//!   [`Query`] and [`Json`], [`HttpError`], the responses, the [`Server`]), dependencies
//!   ([`Depends`], [`Provider`], [`App::provide`]), the [`Lifespan`] and [`BackgroundTasks`],
//!   re-exported from `portico-http`; [`prelude`] holds the common names;
//! * [`testing`]: the test clients;
//! * [`handler`]: single named parameters (`#[query] q: Option<String>`), and compile errors
//!   that name the parameter or return type at fault; [`provider`]: the same errors for a
//!   dependency's provider;
//! * [`tasks`]: structured concurrency (task groups, cancel scopes, `to_thread`);
//! * [`rt`]: the runtime layer, and the choice of runtime ([`run`], [`Builder`]);
//! * [`test`]: one test per runtime;
//! * `settings` (the `settings` feature): typed settings from the environment and `.env`
//!   files, FastAPI's "Settings and Environment Variables": a serde struct, every missing or
//!   invalid variable named in one error at start-up, handed to path operations as
//!   `Depends<Settings>` and replaced in tests like any dependency;
//! * `telemetry` (the `metrics` and `otel` features): request metrics served in Prometheus's
//!   text format, and OpenTelemetry traces exported over OTLP.
//!
//! # Running an async `main`
//!
//! In `main`:
//!
//! ```
//! let name = portico::run(async {
//!     let rt = portico::rt::current().expect("inside portico::run");
//!     rt.spawn(async { "spawned" }).await.unwrap();
//!     rt.name()
//! });
//! println!("ran on {name}");
//! ```
//!
//! # Picking a runtime
//!
//! The features `tokio` (on by default) and `smol` are additive. With one of them on, it is
//! used. With both, the application picks at start: [`Builder::runtime`] if the code says so,
//! otherwise the environment variable `PORTICO_RUNTIME` (`tokio` or `smol`), otherwise tokio.
//! An unknown name, or a runtime that is not compiled in, stops [`run`] at start with a message
//! naming the valid choices.
//!
//! A library written on Portico names neither: it uses [`rt::current`].
//!
//! # Features
//!
//! Every feature is additive. The defaults are what a FastAPI user expects out of the box;
//! `default-features = false, features = ["tokio"]` builds a lean API server (JSON, forms,
//! dependencies, OpenAPI with the docs pages loading their scripts from a CDN).
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `tokio` | yes | the tokio adapter, `portico-tokio` |
//! | `smol` | no | the smol adapter, `portico-smol` (async-executor, async-io, blocking) |
//! | `websocket` | yes | WebSocket routes (`App::websocket`) and test sessions, with async-tungstenite |
//! | `multipart` | yes | `multipart/form-data`: `Multipart`, `UploadFile` fields in [`Form`], with multer |
//! | `docs-ui` | yes | Swagger UI and ReDoc embedded (0.8 MB, gzip-compressed), so `/docs` and `/redoc` work offline |
//! | `templates` | no | Jinja templates (`Templates`), with minijinja |
//! | `compression` | no | the `Compression` middleware: gzip, brotli, zstd (zstd builds C code) |
//! | `tower` | no | tower layers as middleware, an application as a tower `Service` |
//! | `http2` | no | HTTP/2 by prior knowledge (`h2c`) beside HTTP/1.1 on the same port |
//! | `tls` | no | HTTPS with rustls (`Server::tls`, the `tls` module): HTTP/2 by ALPN with `http2`, reloadable certificates, client certificates |
//! | `settings` | no | typed settings from the environment and `.env` files (`portico::settings`), with dotenvy |
//! | `metrics` | no | request counts, durations and gauges in Prometheus's text format (`telemetry::Metrics`), with prometheus-client |
//! | `otel` | no | OpenTelemetry traces (`telemetry::OpenTelemetry`): a server span per request, `traceparent` continued, OTLP export over HTTP |
//! | `full` | no | all of the above but the runtimes |

#![forbid(unsafe_code)]

mod runtime;
mod test_runner;

#[cfg(feature = "settings")]
pub use portico_http::settings;
#[cfg(any(feature = "metrics", feature = "otel"))]
pub use portico_http::telemetry;
#[cfg(feature = "tls")]
pub use portico_http::tls;
pub use portico_http::{
    App, AppService, Async, BackgroundTask, BackgroundTasks, Blocking, Body, BodyDoc, BodyError,
    BodyStream, BodyTimedOut, BoxError, BuildError, Callback, CleanupScope, Contact,
    ContentTypeCheck, Cookie, DEFAULT_BODY_LIMIT, DEFAULT_CLEANUP_THREADS, Depends, Embed,
    ErrorItem, EventStream, FileResponse, Form, FormLimits, Fresh, FromRequest, FromRequestParts,
    Handler, Header, Html, HttpError, IntoMount, IntoProvider, IntoResponse, IntoResponseParts,
    Json, KeepAlive, License, Lifespan, LocPart, OPENAPI_VERSION, OperationDoc, Outcome, ParamDoc,
    Partial, Path, Provider, ProviderFn, Query, RaisedError, Redirect, Rejection, Request,
    RequestContext, RequestHead, RequestValidationError, Response, ResponseDoc, ResponseFuture,
    ReturnDoc, Route, RouteRef, RouteSpec, Router, SecurityDoc, Server, ServerHandle,
    ServerSentEvent, SetCookie, ShutdownReport, Source, StartupError, State, StaticFiles,
    StreamBody, TaskOutcome, Text, Webhook, cookie, doc_schema_for, http, middleware, proxy,
    schema_for, security,
};
#[allow(deprecated, reason = "the old names stay available")]
pub use portico_http::{Event, ResponseBody, Scope};
#[cfg(feature = "multipart")]
pub use portico_http::{Multipart, MultipartField, UploadFile};
#[cfg(feature = "templates")]
pub use portico_http::{TemplateError, TemplateResponse, Templates, minijinja};
#[cfg(feature = "websocket")]
pub use portico_http::{WebSocket, WebSocketDisconnect, WebSocketError, websocket};
pub use portico_macros::{handler, provider, test};
/// The OpenAPI model: what the document is built from (see `portico-openapi`).
pub use portico_openapi as openapi;
pub use portico_rt as rt;
pub use portico_tasks as tasks;
pub use runtime::{
    Builder, ConfigError, OwnedRuntime, RUNTIME_ENV, RuntimeKind, run, start_blocking_portal,
};

/// The names most applications use, in one import: `use portico::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "multipart")]
    pub use portico_http::UploadFile;
    pub use portico_http::http::StatusCode;
    pub use portico_http::{
        App, BackgroundTasks, Cookie, Depends, Form, Header, Html, HttpError, IntoResponse, Json,
        Lifespan, Outcome, Path, Provider, Query, Redirect, Response, Route, Router, State, Text,
    };
    #[cfg(feature = "websocket")]
    pub use portico_http::{WebSocket, WebSocketDisconnect, WebSocketError};
}

/// Testing an application without a socket: the async [`TestClient`](testing::TestClient) for
/// `#[portico::test]` functions and the [`BlockingTestClient`](testing::BlockingTestClient) for
/// plain tests.
pub mod testing {
    pub use portico_http::{
        BlockingTestClient, BlockingTestRequest, MultipartForm, StreamingResponse, TestClient,
        TestRequest, TestResponse,
    };
    #[cfg(feature = "websocket")]
    pub use portico_http::{
        BlockingWebSocketTestRequest, BlockingWebSocketTestSession, WebSocketConnectError,
        WebSocketTestRequest, WebSocketTestSession,
    };

    /// A [`BlockingTestClient`] for `app` on a runtime of its own, picked as
    /// [`run`](crate::run) picks one (`PORTICO_RUNTIME`, tokio by default). Dropping the last
    /// clone of the client shuts that runtime down.
    ///
    /// # Panics
    ///
    /// If the runtime cannot start, the application has mistakes, or this is called from async
    /// code.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico::App;
    ///
    /// async fn hello() -> &'static str {
    ///     "Hello, World!"
    /// }
    ///
    /// let client = portico::testing::blocking_client(App::new().get("/", hello));
    /// let response = client.get("/").send();
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.text(), "Hello, World!");
    /// ```
    #[track_caller]
    pub fn blocking_client(app: crate::App) -> BlockingTestClient {
        crate::Builder::new().blocking_test_client(app)
    }

    /// As [`blocking_client`], on the runtime `kind` (what a synchronous `#[portico::test]`
    /// is handed).
    ///
    /// # Panics
    ///
    /// As [`blocking_client`].
    #[track_caller]
    pub fn blocking_client_on(kind: crate::RuntimeKind, app: crate::App) -> BlockingTestClient {
        crate::Builder::new()
            .runtime(kind)
            .blocking_test_client(app)
    }
}

#[doc(hidden)]
pub mod __private {
    pub use crate::test_runner::{TestConfig, run_sync_test, run_test};
    pub use portico_http::__private::{check, inventory, type_id_of};
    pub use portico_http::HandlerDoc;
    pub use {schemars, serde};
}

/// Expands one synchronous `#[portico::test]` into one `#[test]` per compiled-in runtime.
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_sync_tests {
    ($name:ident, $ret:ty, $config:expr, [$(#[$attr:meta])*]) => {
        $crate::__runtime_sync_test_tokio!($name, $ret, $config, [$(#[$attr])*]);
        $crate::__runtime_sync_test_smol!($name, $ret, $config, [$(#[$attr])*]);
    };
}

#[cfg(feature = "tokio")]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_sync_test_tokio {
    ($name:ident, $ret:ty, $config:expr, [$(#[$attr:meta])*]) => {
        #[test]
        $(#[$attr])*
        fn tokio() -> $ret {
            $crate::__private::run_sync_test(
                $crate::RuntimeKind::Tokio,
                ::core::concat!(::core::module_path!(), "::tokio"),
                $config,
                $name,
            )
        }
    };
}

#[cfg(not(feature = "tokio"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_sync_test_tokio {
    ($($ignored:tt)*) => {};
}

#[cfg(feature = "smol")]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_sync_test_smol {
    ($name:ident, $ret:ty, $config:expr, [$(#[$attr:meta])*]) => {
        #[test]
        $(#[$attr])*
        fn smol() -> $ret {
            $crate::__private::run_sync_test(
                $crate::RuntimeKind::Smol,
                ::core::concat!(::core::module_path!(), "::smol"),
                $config,
                $name,
            )
        }
    };
}

#[cfg(not(feature = "smol"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_sync_test_smol {
    ($($ignored:tt)*) => {};
}

/// Expands one `#[portico::test]` into one `#[test]` per compiled-in runtime.
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_tests {
    ($name:ident, $ret:ty, $config:expr, [$(#[$attr:meta])*]) => {
        $crate::__runtime_test_tokio!($name, $ret, $config, [$(#[$attr])*]);
        $crate::__runtime_test_smol!($name, $ret, $config, [$(#[$attr])*]);
    };
}

#[cfg(feature = "tokio")]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_test_tokio {
    ($name:ident, $ret:ty, $config:expr, [$(#[$attr:meta])*]) => {
        #[test]
        $(#[$attr])*
        fn tokio() -> $ret {
            $crate::__private::run_test(
                $crate::RuntimeKind::Tokio,
                ::core::concat!(::core::module_path!(), "::tokio"),
                $config,
                $name(),
            )
        }
    };
}

#[cfg(not(feature = "tokio"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_test_tokio {
    ($($ignored:tt)*) => {};
}

#[cfg(feature = "smol")]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_test_smol {
    ($name:ident, $ret:ty, $config:expr, [$(#[$attr:meta])*]) => {
        #[test]
        $(#[$attr])*
        fn smol() -> $ret {
            $crate::__private::run_test(
                $crate::RuntimeKind::Smol,
                ::core::concat!(::core::module_path!(), "::smol"),
                $config,
                $name(),
            )
        }
    };
}

#[cfg(not(feature = "smol"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_test_smol {
    ($($ignored:tt)*) => {};
}

/// The README's examples, compiled and run as doctests so they stay true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
