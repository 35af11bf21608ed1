//! Middleware: code that runs around every request of an application, a router or one route.
//!
//! A middleware is an `async fn(request, next) -> response` (FastAPI's
//! `@app.middleware("http")`), added with [`App::middleware`](crate::App::middleware), or a
//! type implementing [`Middleware`], added with
//! [`App::add_middleware`](crate::App::add_middleware) (Starlette's `app.add_middleware`). Both
//! exist on [`Router`] and [`Route`] too.
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
//! [`Cors`], [`Compression`], [`TrustedHost`], [`HttpsRedirect`], [`Timeout`],
//! [`SetRequestId`] and [`ProxyHeaders`](crate::proxy::ProxyHeaders), with Starlette's
//! defaults where it has them. With the `tower` feature, a tower `Layer` is a middleware too
//! (`App::layer`) and an [`AppService`](crate::AppService) is a tower
//! `Service`.
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

use crate::body::{Body, BodyError};
use crate::error::HttpError;
use crate::handler::BoxFuture;
use crate::response::{IntoResponse, Response};
use crate::{App, Request, Route, Router};

mod compress;
mod cors;
mod hosts;
mod request_id;
#[cfg(feature = "tower")]
mod tower;

pub use compress::{Compression, Encoding};
pub use cors::Cors;
pub use hosts::{HttpsRedirect, TrustedHost};
pub use request_id::{RequestId, SetRequestId, Timeout};
#[cfg(feature = "tower")]
pub use tower::{NextService, ServiceFuture};

/// The rest of the chain: the next middleware, or the handler. Call [`run`](Next::run) once
/// with the request to get its response.
#[derive(Clone)]
pub struct Next {
    inner: Arc<dyn Chain>,
    /// The matched route's context, inside a route's (or router's) middleware.
    ctx: Option<crate::extract::RequestContext>,
    /// The connection's peer, for the handler's [`ClientAddr`](crate::proxy::ClientAddr).
    peer: Option<crate::proxy::ClientAddr>,
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

impl Next {
    /// Passes the request on and resolves to the response of the rest of the chain. The
    /// response is complete: errors are rendered and exception handlers have run.
    pub fn run(self, request: Request) -> impl Future<Output = Response> + Send + 'static {
        self.inner.call(request, self.ctx, self.peer)
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
    /// Whether it reads the client's address from the request's extensions
    /// (`request.extensions().get::<ClientAddr>()`), as
    /// [`ProxyHeaders`](crate::proxy::ProxyHeaders) does. Off by default: requests then carry
    /// the address only to the handlers that take a [`ClientAddr`](crate::proxy::ClientAddr),
    /// which spares every other request an allocation. (Function middleware and tower layers
    /// always get it.)
    const READS_CLIENT_ADDR: bool = false;

    /// Answers `request`, usually by passing it to `next` and adjusting what comes back.
    fn call(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send;
}

/// The rest of a chain, type-erased.
pub(crate) trait Chain: Send + Sync + 'static {
    /// Answers `request`; `ctx` is the matched route's context inside a route's chain, `peer`
    /// the connection's.
    fn call(
        &self,
        request: Request,
        ctx: Option<crate::extract::RequestContext>,
        peer: Option<crate::proxy::ClientAddr>,
    ) -> BoxFuture;
}

/// One middleware added somewhere: it wraps the rest of a chain into a longer one. Kept as a
/// function so that one middleware serves every route of a router.
#[derive(Clone)]
pub(crate) struct Wrap {
    wrap: Arc<WrapFn>,
    /// Whether it reads the client's address from the request's extensions.
    pub(crate) reads_peer: bool,
}

/// What a [`Wrap`] does to the rest of a chain.
type WrapFn = dyn Fn(Arc<dyn Chain>) -> Arc<dyn Chain> + Send + Sync;

/// Wraps `inner` in `wraps`, the first added innermost.
pub(crate) fn wrap_all(inner: Arc<dyn Chain>, wraps: &[Wrap]) -> Arc<dyn Chain> {
    wraps.iter().fold(inner, |chain, wrap| (wrap.wrap)(chain))
}

impl Wrap {
    pub(crate) fn new(
        reads_peer: bool,
        wrap: impl Fn(Arc<dyn Chain>) -> Arc<dyn Chain> + Send + Sync + 'static,
    ) -> Self {
        Wrap {
            wrap: Arc::new(wrap),
            reads_peer,
        }
    }
}

/// The route's context on its way through a tower layer (which passes requests only) to the
/// handler.
#[cfg(feature = "tower")]
#[derive(Clone)]
pub(crate) struct RouteCall(pub(crate) crate::extract::RequestContext);

/// The end of a route's chain: its handler.
struct HandlerChain {
    handler: crate::handler::BoxedHandler,
}

impl Chain for HandlerChain {
    fn call(
        &self,
        request: Request,
        ctx: Option<crate::extract::RequestContext>,
        _peer: Option<crate::proxy::ClientAddr>,
    ) -> BoxFuture {
        match ctx {
            Some(ctx) => self.handler.call(request, ctx),
            None => Box::pin(async { crate::error::internal_error() }),
        }
    }
}

/// A route's handler inside its middleware.
pub(crate) fn route_chain(handler: crate::handler::BoxedHandler, wraps: &[Wrap]) -> Arc<dyn Chain> {
    wrap_all(Arc::new(HandlerChain { handler }), wraps)
}

/// A middleware around the rest of a chain.
struct Layered<M> {
    middleware: Arc<M>,
    next: Arc<dyn Chain>,
}

impl<M: Middleware> Chain for Layered<M> {
    fn call(
        &self,
        request: Request,
        ctx: Option<crate::extract::RequestContext>,
        peer: Option<crate::proxy::ClientAddr>,
    ) -> BoxFuture {
        let middleware = self.middleware.clone();
        let next = Next {
            inner: self.next.clone(),
            ctx,
            peer,
        };
        Box::pin(async move { middleware.call(request, next).await })
    }
}

pub(crate) fn wrap_middleware<M: Middleware>(middleware: M) -> Wrap {
    wrap_middleware_reading(M::READS_CLIENT_ADDR, middleware)
}

fn wrap_middleware_reading<M: Middleware>(reads_peer: bool, middleware: M) -> Wrap {
    let middleware = Arc::new(middleware);
    Wrap::new(reads_peer, move |next| {
        Arc::new(Layered {
            middleware: middleware.clone(),
            next,
        })
    })
}

/// An `async fn(request, next)` as a [`Middleware`].
struct FnMiddleware<F>(F);

impl<F, Fut, R> Middleware for FnMiddleware<F>
where
    F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(&self, request: Request, next: Next) -> impl Future<Output = Response> + Send {
        let fut = (self.0)(request, next);
        async move { fut.await.into_response() }
    }
}

pub(crate) fn wrap_fn<F, Fut, R>(f: F) -> Wrap
where
    F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    // A function may read anything from the request: it gets the client's address.
    wrap_middleware_reading(true, FnMiddleware(f))
}

/// Reads the whole request body (at most `limit` bytes) and gives back the request with the
/// same bytes as its body, for the handler to read again: how a middleware looks at a body.
///
/// # Errors
///
/// 413 past `limit`, 400 if the body broke off: return it as the response.
///
/// # Examples
///
/// ```
/// use portico_http::middleware::{Next, read_body};
/// use portico_http::{App, HttpError, Request, Response};
///
/// async fn body_size(request: Request, next: Next) -> Result<Response, HttpError> {
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
pub async fn read_body(request: Request, limit: usize) -> Result<(Request, Bytes), HttpError> {
    let (parts, body) = request.into_parts();
    match body.collect_limited(limit).await {
        Ok(bytes) => Ok((
            Request::from_parts(parts, Body::from_bytes(bytes.clone())),
            bytes,
        )),
        Err(BodyError::TooLarge { .. }) => Err(HttpError::new(http::StatusCode::PAYLOAD_TOO_LARGE)),
        Err(err) => Err(HttpError::new(http::StatusCode::BAD_REQUEST).detail(err.to_string())),
    }
}

/// Adds the middleware methods to `App`, `Router` and `Route`.
macro_rules! middleware_methods {
    ($ty:ident, $what:literal, $($field:ident).+) => {
        impl $ty {
            #[doc = concat!("Runs `f`, an `async fn(request, next) -> response`, around ", $what, ":")]
            /// FastAPI's `@app.middleware("http")`. The last one added is the outermost (see
            /// the [`middleware`](crate::middleware) module for the order and an example).
            pub fn middleware<F, Fut, R>(mut self, f: F) -> Self
            where
                F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
                Fut: Future<Output = R> + Send + 'static,
                R: IntoResponse,
            {
                self.$($field).+.push(wrap_fn(f));
                self
            }

            #[doc = concat!("Runs a [`Middleware`] around ", $what, ", such as [`Cors`] or")]
            /// [`Compression`]: Starlette's `add_middleware`. The last one added is the
            /// outermost.
            pub fn add_middleware<M: Middleware>(mut self, middleware: M) -> Self {
                self.$($field).+.push(wrap_middleware(middleware));
                self
            }
        }
    };
}

middleware_methods!(App, "every request", middleware);
middleware_methods!(Router, "the routes of this router", middleware);
middleware_methods!(Route, "this route", middleware);

/// Whether a request header holds `token` in a comma-separated list, ignoring case.
pub(crate) fn header_has_token(
    headers: &http::HeaderMap,
    name: http::HeaderName,
    token: &str,
) -> bool {
    headers.get_all(name).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value
                .split(',')
                .any(|item| item.trim().eq_ignore_ascii_case(token))
        })
    })
}

/// Adds `value` to the `Vary` header unless it is listed already, as one more `Vary` line
/// (which HTTP reads as one comma-separated list), so that nothing is copied.
pub(crate) fn add_vary(headers: &mut http::HeaderMap, value: &'static str) {
    let vary = http::header::VARY;
    if header_has_token(headers, vary.clone(), value)
        || header_has_token(headers, vary.clone(), "*")
    {
        return;
    }
    headers.append(vary, http::HeaderValue::from_static(value));
}
