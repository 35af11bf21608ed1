//! [`ResponseFuture`]: one request on its way to a response, and what follows once it has one:
//! a panic turned into a 500, cleanups of function scope, no body for `HEAD`, the request's
//! teardown handed to the response body, and the request's log line.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::header::{CONTENT_LENGTH, HeaderValue};
use http_body::Body as _;
use tracing::Span;

use crate::context::RouteSpec;
use crate::response::unfinished::{Finishing, finish, no_handlers};
use crate::response::{BoxFuture, Reply, Response, Unfinished, internal_error};
use crate::teardown::{AfterBody, Outcome, Teardown, Watch};

/// The future of one response, from [`AppService::call`](super::AppService::call).
#[must_use = "futures do nothing unless polled"]
pub struct ResponseFuture {
    pub(super) state: State,
    pub(super) finish: Finish,
    pub(super) span: Span,
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

pub(super) enum State {
    /// The endpoint (extraction included), a mounted service, or the middleware.
    Running(BoxFuture),
    /// What middleware left unfinished, being finished.
    Finishing(BoxFuture),
    /// Cleanups of function scope, before the response goes out.
    Cleanup(BoxFuture<()>, Option<Box<Response>>),
    /// An answer known at once (a redirect, a 404 nobody replaces), boxed so that the usual
    /// future, a handler's, stays small.
    Ready(Option<Box<Response>>),
}

/// What is needed once the request has its response.
pub(super) struct Finish {
    pub(super) is_head: bool,
    /// The route that matched, for the log line of a panic.
    pub(super) route: Option<Arc<RouteSpec>>,
    start: Option<Instant>,
    /// The request's background tasks and cleanups, started once the response body is done
    /// with.
    pub(super) teardown: Option<Arc<Teardown>>,
    /// Whether middleware (the application's, or the route's) made the response: it may have
    /// left it unfinished.
    pub(super) chained: bool,
    /// Told of the request's teardown, for a caller that waits for it.
    pub(super) watch: Option<Watch>,
    /// The template of the route that matched, for the response's extensions, when a
    /// middleware of the application reads it.
    pub(super) matched: Option<Arc<str>>,
}

/// The mark of a response that stands for a panic (in the response's extensions): the panic's
/// message, for the tracing middleware to record.
#[cfg(feature = "otel")]
#[derive(Debug, Clone)]
pub(crate) struct Panicked(pub(crate) Arc<str>);

impl Drop for Finish {
    /// A request dropped before its response was ready (the client went away): its cleanups
    /// still run, its background tasks do not.
    fn drop(&mut self) {
        if let Some(teardown) = self.teardown.take() {
            teardown.fail(Outcome::Disconnected);
            teardown.start();
        }
    }
}

impl Finish {
    pub(super) fn new(start: Option<Instant>, chained: bool) -> Self {
        Finish {
            is_head: false,
            route: None,
            start,
            teardown: None,
            chained,
            watch: None,
            matched: None,
        }
    }

    /// A response known at once.
    pub(super) fn ready(self, response: Response, span: Span) -> ResponseFuture {
        ResponseFuture {
            state: State::Ready(Some(Box::new(response))),
            finish: self,
            span,
        }
    }

    /// The last touches: no body for `HEAD`, the teardown handed to the body, and the
    /// request's span closed with its status.
    fn done(&mut self, span: &Span, mut response: Response) -> Response {
        debug_assert!(
            !Unfinished::is_on(&response),
            "a response left the application unfinished: its error or deferred work was never resolved"
        );
        if self.is_head {
            let body = std::mem::take(response.body_mut());
            if let Some(len) = body.size_hint().exact()
                && !response.headers().contains_key(CONTENT_LENGTH)
            {
                response
                    .headers_mut()
                    .insert(CONTENT_LENGTH, HeaderValue::from(len));
            }
        }
        if let Some(route) = self.matched.take() {
            response
                .extensions_mut()
                .insert(crate::middleware::MatchedRoute(route));
        }
        if let Some(teardown) = self.teardown.take() {
            let body = std::mem::take(response.body_mut());
            *response.body_mut() = AfterBody::wrap(body, teardown.clone());
            if let Some(watch) = &self.watch {
                watch.set(&teardown);
            }
        }
        if let Some(start) = self.start {
            let latency = start.elapsed().as_micros() as u64;
            let status = response.status().as_u16();
            span.record("status", status);
            span.record("latency_us", latency);
            tracing::info!(parent: span, status, latency_us = latency, "answered");
        }
        response
    }

    /// Starts the request's cleanups of function scope, if it has some: they run before the
    /// response is sent.
    fn before_done(&mut self) -> Option<BoxFuture<()>> {
        let teardown = self.teardown.as_ref()?;
        teardown
            .run_function_scope()
            .map(|wait| Box::pin(wait) as BoxFuture<()>)
    }

    fn panicked(&mut self, payload: &(dyn std::any::Any + Send)) -> Response {
        if let Some(teardown) = &self.teardown {
            teardown.fail(Outcome::Panicked);
        }
        let message = portico_rt::panic_message(payload).unwrap_or("(no message)");
        match &self.route {
            Some(route) => {
                tracing::error!(method = %route.method, route = %route.template, "a handler panicked: {message}")
            }
            None => tracing::error!("a middleware or exception handler panicked: {message}"),
        }
        #[cfg_attr(
            not(feature = "otel"),
            expect(unused_mut, reason = "marked for traces only")
        )]
        let mut response = internal_error();
        #[cfg(feature = "otel")]
        response
            .extensions_mut()
            .insert(Panicked(Arc::from(message)));
        response
    }
}

/// Finishes what middleware left unfinished: the application's exception handlers do not see
/// errors from middleware (as in Starlette, where they sit inside it), so an error keeps its
/// own response; deferred work is done without the request's conditions.
fn finish_chained(response: Response) -> BoxFuture {
    Box::pin(async move {
        let cx = Finishing {
            conditions: None,
            draining: None,
            handle: &no_handlers,
        };
        finish(Reply::Response(response), &cx).await.response
    })
}

impl Future for ResponseFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        loop {
            let response = match &mut this.state {
                State::Running(fut) => {
                    let response = match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(response)) => response,
                        Err(payload) => this.finish.panicked(payload.as_ref()),
                    };
                    if this.finish.chained && Unfinished::is_on(&response) {
                        this.state = State::Finishing(finish_chained(response));
                        continue;
                    }
                    response
                }
                State::Finishing(fut) => {
                    match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(response)) => response,
                        Err(payload) => {
                            this.finish.route = None;
                            this.finish.panicked(payload.as_ref())
                        }
                    }
                }
                State::Cleanup(wait, response) => {
                    if wait.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let response = response.take().map_or_else(internal_error, |r| *r);
                    this.state = State::Ready(None);
                    return Poll::Ready(this.finish.done(&this.span, response));
                }
                State::Ready(response) => {
                    let response = response.take().map_or_else(internal_error, |r| *r);
                    return Poll::Ready(this.finish.done(&this.span, response));
                }
            };
            if let Some(wait) = this.finish.before_done() {
                this.state = State::Cleanup(wait, Some(Box::new(response)));
                continue;
            }
            this.state = State::Ready(None);
            return Poll::Ready(this.finish.done(&this.span, response));
        }
    }
}
