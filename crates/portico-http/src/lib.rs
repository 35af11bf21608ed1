//! Portico's HTTP core: the server on hyper 1.x (on any runtime `portico-rt` supports), the
//! router, path operations with typed parameters, dependencies ([`Depends`], [`Provider`]),
//! routers and mounts, the application's [`Lifespan`], background tasks, FastAPI-shaped
//! errors, responses and the test client.
//!
//! Most users reach it through the `portico` crate; everything here is re-exported there.
//!
//! ```
//! use portico_http::{App, Json, Path, Query, TestClient};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Paging {
//!     #[serde(default)]
//!     verbose: bool,
//! }
//!
//! async fn read_user(Path(id): Path<u64>, Query(paging): Query<Paging>) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({ "id": id, "verbose": paging.verbose }))
//! }
//!
//! let app = App::new().get("/users/{id}", read_user);
//! # let _ = TestClient::new(app);
//! ```

mod app;
mod background;
mod body;
mod client;
mod depends;
mod error;
mod extract;
mod handler;
mod lifespan;
pub mod middleware;
mod openapi;
pub mod proxy;
mod response;
mod router;
pub mod security;
mod server;
mod service;
mod staticfiles;
mod templates;
mod validate;
pub mod websocket;

pub use app::{
    App, BuildError, DEFAULT_BODY_LIMIT, DEFAULT_CLEANUP_THREADS, FormLimits, IntoMount,
    RequestHead, Route, Router,
};
pub use background::{BackgroundTask, BackgroundTasks, TaskOutcome};
pub use body::{Body, BodyError, BoxError, ResponseBody};
pub use client::{
    BlockingTestClient, BlockingTestRequest, BlockingWebSocketTestRequest,
    BlockingWebSocketTestSession, MultipartForm, StreamingResponse, TestClient, TestRequest,
    TestResponse, WebSocketConnectError, WebSocketTestRequest, WebSocketTestSession,
};
pub use cookie;
pub use depends::{Depends, Fresh, IntoProvider, Outcome, Provider, ProviderFn, Scope};
pub use error::{ErrorItem, HttpError, LocPart, RequestValidationError, Source};
pub use extract::{
    BodyDoc, BodyStream, Cookie, Form, FromRequest, FromRequestParts, Header, Multipart,
    MultipartField, OperationDoc, ParamDoc, Path, Query, Rejection, RequestContext, ResponseDoc,
    ReturnDoc, SecurityDoc, State, UploadFile,
};
pub use handler::{Async, Blocking, Handler};
pub use http;
pub use lifespan::{Lifespan, StartupError};
#[doc(no_inline)]
pub use minijinja;
pub use openapi::{Contact, HandlerDoc, License, OPENAPI_VERSION};
pub use response::{
    Event, EventStream, FileResponse, Html, IntoResponse, IntoResponseParts, Json, KeepAlive,
    Redirect, Response, SetCookie, StreamBody, Text,
};
pub use server::{Server, ServerHandle, ShutdownReport};
pub use service::{AppService, ResponseFuture, RouteRef};
pub use staticfiles::StaticFiles;
pub use templates::{TemplateError, TemplateResponse, Templates};
pub use validate::{doc_schema_for, schema_for};
pub use websocket::{WebSocket, WebSocketDisconnect, WebSocketError};

#[doc(hidden)]
pub mod __private {
    pub use inventory;
}

/// An HTTP request, as handlers and extractors see it.
pub type Request = http::Request<Body>;
