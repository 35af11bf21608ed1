//! Middleware: code that runs around every request of an application, a router or one route.
//!
//! A middleware is an `async fn(request, next) -> response` (FastAPI's
//! `@app.middleware("http")`), added with [`App::middleware`](crate::App::middleware), or a
//! type implementing [`Middleware`], added with
//! [`App::add_middleware`](crate::App::add_middleware) (Starlette's `app.add_middleware`). Both
//! exist on [`Router`](crate::Router) and [`Route`](crate::Route) too.
//!
//! # Order
//!
//! The last middleware added is the outermost, as in Starlette: it sees the request first and
//! the response last. The application's middleware wraps everything, 404s and mounted services
//! included; a router's wraps its routes (and runs only for them), inside the application's; a
//! route's own middleware is the innermost.
//!
//! ```text
//! App::new().middleware(a).middleware(b)   request -> b -> a -> router's -> route's -> handler
//! ```
//!
//! # Reading the body
//!
//! A middleware owns the request, body included. One that reads the body must hand the
//! handler a request with the same bytes, or the handler finds it empty; [`read_body`] does
//! both, so reading the body in a middleware never hangs or starves the handler.
//!
//! # Built in
//!
//! [`Cors`], `Compression` (the `compression` feature), [`TrustedHost`], [`HttpsRedirect`], [`Timeout`],
//! [`SetRequestId`] and [`ProxyHeaders`], with Starlette's
//! defaults where it has them. With the `tower` feature, a tower `Layer` is a middleware too
//! (`App::layer`) and an [`AppService`](crate::AppService) is a tower
//! `Service`. Request metrics and traces are middleware too, in the `telemetry` module (the
//! `metrics` and `otel` features).
//!
//! # Examples
//!
//! ```
//! use portico_http::{App, Request, Response};
//! use portico_http::middleware::Next;
//!
//! async fn timing(request: Request, next: Next) -> Response {
//!     let start = std::time::Instant::now();
//!     let mut response = next.run(request).await;
//!     let took = format!("{}", start.elapsed().as_micros());
//!     response.headers_mut().insert("x-process-time-us", took.parse().unwrap());
//!     response
//! }
//!
//! let app = App::new().get("/", || async { "hello" }).middleware(timing);
//! let client = portico::testing::blocking_client(app);
//! assert!(client.get("/").send().header("x-process-time-us").is_some());
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;

use crate::Request;
use crate::context::Locals;
use crate::extract::ClientAddr;
use crate::response::Response;
use crate::{Body, BodyError};

#[allow(
    unsafe_code,
    reason = "a middleware's future borrows the middleware it was called on; the block says why it is sound"
)]
mod chain;
#[cfg(feature = "compression")]
mod compress;
mod cors;
mod hosts;
mod matched;
mod proxy;
mod request_id;
mod timeout;
#[cfg(feature = "tower")]
mod tower;

#[cfg(feature = "tower")]
pub(crate) use chain::RouteCall;
pub(crate) use chain::{Carry, Chain, Wrap, wrap_all, wrap_fn, wrap_middleware};
#[cfg(feature = "compression")]
pub use compress::{Compression, Encoding};
pub use cors::Cors;
pub use hosts::{HttpsRedirect, TrustedHost};
pub use matched::MatchedRoute;
pub use proxy::ProxyHeaders;
pub use request_id::{RequestId, SetRequestId};
pub use timeout::Timeout;
#[cfg(feature = "tower")]
pub use tower::NextService;
#[cfg(feature = "tower")]
pub(crate) use tower::{into_request, wrap_layer};

/// The rest of the chain: the next middleware, or the handler. Call [`run`](Next::run) once
/// with the request to get its response.
#[derive(Clone)]
pub struct Next {
    inner: Arc<dyn Chain>,
    /// What travels beside the request.
    carry: Carry,
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

impl Next {
    pub(crate) fn new(inner: Arc<dyn Chain>, carry: Carry) -> Self {
        Next { inner, carry }
    }

    /// Passes the request on and resolves to the response of the rest of the chain. The
    /// response is complete: errors are rendered and exception handlers have run.
    pub fn run(self, request: Request) -> impl Future<Output = Response> + Send + 'static {
        self.inner.call(request, self.carry)
    }

    /// The template of the route the request goes to (`/items/{item_id}`), when this runs
    /// after routing: in a router's or a route's middleware. `None` in the application's
    /// middleware, which runs before the request is routed: there the response tells, with a
    /// [`MatchedRoute`] (see [`Middleware::READS_ROUTE`]).
    pub fn route(&self) -> Option<&str> {
        match &self.carry {
            Carry::Route(ctx) => Some(ctx.route()),
            Carry::Entry(_) => None,
        }
    }

    /// The route the request goes to, when this runs after routing.
    #[cfg_attr(
        not(any(feature = "metrics", feature = "otel")),
        expect(dead_code, reason = "read by the telemetry only")
    )]
    pub(crate) fn route_spec(&self) -> Option<&Arc<crate::RouteSpec>> {
        match &self.carry {
            Carry::Route(ctx) => Some(&ctx.route),
            Carry::Entry(_) => None,
        }
    }

    /// What travels beside the request.
    pub(crate) fn locals_mut(&mut self) -> &mut Locals {
        self.carry.locals_mut()
    }
}

/// Moves what travels beside the request into its extensions, for code that reads them there:
/// the client's address as a [`ClientAddr`], the id as a [`RequestId`].
pub(crate) fn move_locals(locals: &mut Locals, extensions: &mut http::Extensions) {
    if let Some(peer) = locals.peer.take() {
        extensions.insert(ClientAddr(peer));
    }
    if let Some(id) = locals.request_id.take() {
        extensions.insert(RequestId(id));
    }
}

/// A middleware as a type, for one that has settings (the built-in ones are). Added with
/// [`App::add_middleware`](crate::App::add_middleware).
///
/// # Examples
///
/// ```
/// use portico_http::middleware::{Middleware, Next};
/// use portico_http::{App, Request, Response};
///
/// struct Header(&'static str);
///
/// impl Middleware for Header {
///     async fn call(&self, request: Request, next: Next) -> Response {
///         let mut response = next.run(request).await;
///         response.headers_mut().insert("x-served-by", self.0.parse().unwrap());
///         response
///     }
/// }
///
/// let app = App::new().get("/", || async { "hi" }).add_middleware(Header("portico"));
/// let client = portico::testing::blocking_client(app);
/// assert_eq!(client.get("/").send().header("x-served-by"), Some("portico"));
/// ```
pub trait Middleware: Send + Sync + 'static {
    /// Whether it reads what Portico carries beside the request from the request's
    /// extensions: the client's address (`request.extensions().get::<ClientAddr>()`, as
    /// [`ProxyHeaders`] does) and the [`RequestId`]. When set,
    /// they are moved into the extensions before the middleware runs, and stay there for the
    /// rest of the chain. Off by default: they then reach the handlers that take a
    /// [`ClientAddr`] or a [`RequestId`] without the extensions,
    /// whose map costs every request allocations. (Function middleware, tower layers and
    /// mounted services always get them there.)
    const READS_EXTENSIONS: bool = false;

    /// Whether it reads the [`MatchedRoute`] from the response's extensions. When a
    /// middleware of the application sets it, the application puts the template of the route
    /// that answered there (which costs each such response an allocation or two). Off by
    /// default. A router's or a route's middleware has no need of it: it runs after routing,
    /// and [`Next::route`] tells.
    const READS_ROUTE: bool = false;

    /// Answers `request`, usually by passing it to `next` and adjusting what comes back.
    fn call(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send;
}

/// Reads the whole request body (at most `limit` bytes) and gives back the request with the
/// same bytes as its body, for the handler to read again: how a middleware looks at a body.
///
/// # Errors
///
/// [`BodyError`]: answer with it (`413 Content Too Large` past `limit`, 400 if the body broke
/// off), the same answers a handler's parameters give.
///
/// # Examples
///
/// ```
/// use portico_http::middleware::{Next, read_body};
/// use portico_http::{App, BodyError, Request, Response};
///
/// async fn body_size(request: Request, next: Next) -> Result<Response, BodyError> {
///     let (request, body) = read_body(request, 1024 * 1024).await?;
///     let size = body.len().to_string();
///     let mut response = next.run(request).await;
///     response.headers_mut().insert("x-body-size", size.parse().unwrap());
///     Ok(response)
/// }
///
/// async fn echo(body: String) -> String {
///     body
/// }
///
/// let app = App::new().post("/", echo).middleware(body_size);
/// let client = portico::testing::blocking_client(app);
/// let response = client.post("/").body("hello").send();
/// assert_eq!(response.text(), "hello");
/// assert_eq!(response.header("x-body-size"), Some("5"));
/// ```
pub async fn read_body(request: Request, limit: usize) -> Result<(Request, Bytes), BodyError> {
    let (parts, body) = request.into_parts();
    let bytes = body.collect_limited(limit).await?;
    Ok((
        Request::from_parts(parts, Body::from_bytes(bytes.clone())),
        bytes,
    ))
}

/// Adds `value` to the `Vary` header unless it is listed already (or `*` is), as one more
/// `Vary` line (which HTTP reads as one comma-separated list), so that nothing is copied.
pub(crate) fn add_vary(headers: &mut http::HeaderMap, value: &'static str) {
    let listed = headers.get_all(http::header::VARY).iter().any(|line| {
        line.to_str().is_ok_and(|line| {
            line.split(',').any(|item| {
                let item = item.trim();
                item == "*" || item.eq_ignore_ascii_case(value)
            })
        })
    });
    if !listed {
        headers.append(http::header::VARY, http::HeaderValue::from_static(value));
    }
}
