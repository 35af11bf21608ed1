//! The chain a request goes through: each middleware wraps the rest of the chain, which ends
//! in the application's routes (for the application's middleware) or in a handler (for a
//! route's).

use std::future::Future;
use std::sync::Arc;

use super::{Middleware, Next, move_locals};
use crate::context::{Locals, RequestContext};
use crate::response::{BoxFuture, IntoResponse};
use crate::{Request, Response};

/// What travels beside a request through a chain.
#[derive(Clone)]
pub(crate) enum Carry {
    /// Before routing (in the application's middleware): the locals.
    Entry(Locals),
    /// In a route's (or router's) middleware: the matched route's context, which holds the
    /// locals.
    Route(RequestContext),
}

impl Carry {
    pub(crate) fn locals_mut(&mut self) -> &mut Locals {
        match self {
            Carry::Entry(locals) => locals,
            Carry::Route(ctx) => &mut ctx.locals,
        }
    }

    pub(crate) fn into_locals(self) -> Locals {
        match self {
            Carry::Entry(locals) => locals,
            Carry::Route(ctx) => ctx.locals,
        }
    }
}

/// The rest of a chain, type-erased.
pub(crate) trait Chain: Send + Sync + 'static {
    /// Answers `request`, with what travels beside it.
    fn call(&self, request: Request, carry: Carry) -> BoxFuture;
}

/// One middleware added somewhere: it wraps the rest of a chain into a longer one. Kept as a
/// function so that one middleware serves every route of a router.
#[derive(Clone)]
pub(crate) struct Wrap {
    wrap: Arc<WrapFn>,
    /// Whether the middleware reads the [`MatchedRoute`](super::MatchedRoute) of responses.
    reads_route: bool,
}

/// What a [`Wrap`] does to the rest of a chain.
type WrapFn = dyn Fn(Arc<dyn Chain>) -> Arc<dyn Chain> + Send + Sync;

/// Wraps `inner` in `wraps`, the first added innermost.
pub(crate) fn wrap_all(inner: Arc<dyn Chain>, wraps: &[Wrap]) -> Arc<dyn Chain> {
    wraps.iter().fold(inner, |chain, wrap| (wrap.wrap)(chain))
}

impl Wrap {
    pub(crate) fn new(
        wrap: impl Fn(Arc<dyn Chain>) -> Arc<dyn Chain> + Send + Sync + 'static,
    ) -> Self {
        Wrap {
            wrap: Arc::new(wrap),
            reads_route: false,
        }
    }

    /// Whether the middleware reads the [`MatchedRoute`](super::MatchedRoute) of responses.
    pub(crate) fn reads_route(&self) -> bool {
        self.reads_route
    }
}

/// The route's context on its way through a tower layer (which passes requests only) to the
/// handler.
#[cfg(feature = "tower")]
#[derive(Clone)]
pub(crate) struct RouteCall(pub(crate) RequestContext);

/// A middleware around the rest of a chain.
struct Layered<M> {
    middleware: Arc<M>,
    next: Arc<dyn Chain>,
    /// Whether the middleware reads the locals from the request's extensions.
    reads_extensions: bool,
}

impl<M: Middleware> Chain for Layered<M> {
    fn call(&self, mut request: Request, mut carry: Carry) -> BoxFuture {
        if self.reads_extensions {
            move_locals(carry.locals_mut(), request.extensions_mut());
        }
        let next = Next::new(self.next.clone(), carry);
        let middleware = Arc::clone(&self.middleware);
        // SAFETY: the reference points into the `Arc`'s allocation, which `Held` keeps alive
        // (and in place) for as long as the future that borrows it: the future is `Held`'s
        // first field, so it is dropped before the `Arc`, and it never leaves `Held`. Calling
        // the middleware at once, rather than in an `async` block that owns the `Arc`, keeps
        // the request and `next` out of the boxed future: they are moved once, not three
        // times. `call` is written for any lifetime of `&self`, so it cannot make use of the
        // `'static` given here beyond the future's own life.
        let borrowed: &'static M = unsafe { &*Arc::as_ptr(&middleware) };
        Box::pin(Held {
            future: borrowed.call(request, next),
            _middleware: middleware,
        })
    }
}

pin_project_lite::pin_project! {
    /// A middleware's future, with the middleware it borrows from. Fields drop in order: the
    /// future first.
    struct Held<F, M> {
        #[pin]
        future: F,
        _middleware: Arc<M>,
    }
}

impl<F: Future, M> Future for Held<F, M> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

pub(crate) fn wrap_middleware<M: Middleware>(middleware: M) -> Wrap {
    let mut wrap = wrap_middleware_reading(M::READS_EXTENSIONS, middleware);
    wrap.reads_route = M::READS_ROUTE;
    wrap
}

fn wrap_middleware_reading<M: Middleware>(reads_extensions: bool, middleware: M) -> Wrap {
    let middleware = Arc::new(middleware);
    Wrap::new(move |next| {
        Arc::new(Layered {
            middleware: middleware.clone(),
            next,
            reads_extensions,
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
    // A function may read anything from the request: it gets the locals in its extensions.
    wrap_middleware_reading(true, FnMiddleware(f))
}
