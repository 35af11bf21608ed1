//! [`ResponseFuture`]: one request on its way to a response, and what happens once the
//! handler has answered (exception handlers, files, cleanups, the request's log line).

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::StatusCode;
use http::header::{CONTENT_LENGTH, HeaderValue};
use http_body::Body as _;
use tracing::Span;

use super::AppInner;
use crate::app::{RequestHead, RouteInfo};
use crate::background::{AfterBody, AfterHandle, AfterResponse};
use crate::body::ResponseBody;
use crate::depends::Outcome;
use crate::error::{Carried, internal_error};
use crate::handler::BoxFuture;
use crate::response::Response;
use crate::response::file::{Conditions, PendingFile};

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
    /// The handler (extraction included).
    Running(BoxFuture),
    /// An exception handler or a file being opened.
    After(BoxFuture),
    /// Cleanups of function scope, before the response goes out.
    Cleanup(BoxFuture<()>, Option<Box<Response>>),
    /// An answer known at once (404, 405, a redirect), boxed so that the usual future, a
    /// handler's, stays small.
    Ready(Option<Box<Response>>),
}

/// What is needed once the handler has answered.
pub(super) struct Finish {
    /// The application, when it has exception handlers.
    pub(super) app: Option<Arc<AppInner>>,
    pub(super) request_head: Option<Box<RequestHead>>,
    pub(super) is_head: bool,
    pub(super) conditions: Option<Box<Conditions>>,
    pub(super) route: Option<Arc<RouteInfo>>,
    pub(super) start: Option<Instant>,
    /// The request's background tasks and cleanups, started once the response body is done
    /// with.
    pub(super) after: Option<Arc<AfterResponse>>,
    /// Whether the handler or a dependency answered with an error.
    pub(super) failed: bool,
}

impl Drop for Finish {
    /// A request dropped before its response was ready (the client went away): its cleanups
    /// still run, its background tasks do not.
    fn drop(&mut self) {
        if let Some(after) = self.after.take() {
            after.fail(Outcome::Disconnected);
            after.start();
        }
    }
}

enum Next {
    Done(Response),
    More(BoxFuture),
}

impl Finish {
    /// What the application's middleware needs: errors rendered, the request logged.
    pub(super) fn outer(start: Option<Instant>) -> Self {
        Finish {
            app: None,
            request_head: None,
            is_head: false,
            conditions: None,
            route: None,
            start,
            after: None,
            failed: false,
        }
    }

    pub(super) fn start_after(mut self, response: Response, span: Span) -> ResponseFuture {
        let state = match self.after(response) {
            Next::Done(response) => State::Ready(Some(Box::new(response))),
            Next::More(fut) => State::After(fut),
        };
        ResponseFuture {
            state,
            finish: self,
            span,
        }
    }

    /// Routes an error to its exception handler and opens a file response; most responses
    /// need neither and are done at once.
    fn after(&mut self, mut response: Response) -> Next {
        if response.status() == StatusCode::OK
            && let Some(status) = self.route.as_ref().and_then(|route| route.doc.status)
            && response.extensions().get::<Carried>().is_none()
        {
            // The route's `status_code`, for a handler that answered plain 200.
            *response.status_mut() = status;
        }
        if let Some(carried) = response.extensions_mut().remove::<Carried>() {
            // A request that ended in an error runs no background tasks, as in FastAPI; its
            // cleanups see the failure (with the status of the response it gets).
            self.failed = true;
            let handler = self.app.as_ref().and_then(|app| {
                app.handlers
                    .iter()
                    .find(|(id, _, _)| *id == carried.type_id)
                    .map(|(_, _, h)| h.clone())
            });
            match (handler, carried.take_any(), self.request_head.take()) {
                (Some(handler), Some(error), Some(head)) => match handler(error, *head) {
                    Ok(fut) => {
                        let conditions = self.conditions.take().unwrap_or_default();
                        return Next::More(Box::pin(async move {
                            let response = fut.await;
                            settle(response, &conditions).await
                        }));
                    }
                    Err(error) => response = carried.render_boxed(error),
                },
                (_, Some(error), _) => response = carried.render_boxed(error),
                (_, None, _) => response = internal_error(),
            }
        }
        if response.extensions().get::<PendingFile>().is_some() {
            let conditions = self.conditions.take().unwrap_or_default();
            return Next::More(Box::pin(async move {
                crate::response::file::finish(response, &conditions).await
            }));
        }
        Next::Done(response)
    }

    /// The last touches: no body for `HEAD`, and the request's span closed with its status.
    fn done(&mut self, span: &Span, mut response: Response) -> Response {
        if self.is_head {
            let body = std::mem::take(response.body_mut());
            if let Some(len) = body.size_hint().exact()
                && !response.headers().contains_key(CONTENT_LENGTH)
            {
                response
                    .headers_mut()
                    .insert(CONTENT_LENGTH, HeaderValue::from(len));
            }
            *response.body_mut() = ResponseBody::empty();
        }
        if let Some(after) = self.after.take() {
            let body = std::mem::take(response.body_mut());
            *response.body_mut() = AfterBody::wrap(body, after.clone());
            response.extensions_mut().insert(AfterHandle(after));
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

    /// Records how the request went, and starts its cleanups of
    /// [`Scope::Function`](crate::Scope::Function) if it has some: they run before the response
    /// is sent.
    fn before_done(&mut self, response: &Response) -> Option<BoxFuture<()>> {
        let after = self.after.as_ref()?;
        if self.failed {
            after.fail(Outcome::Error(response.status()));
        }
        after
            .run_function_scope()
            .map(|wait| Box::pin(wait) as BoxFuture<()>)
    }

    fn panicked(&mut self, payload: &(dyn std::any::Any + Send)) -> Response {
        if let Some(after) = &self.after {
            after.fail(Outcome::Panicked);
        }
        let message = portico_rt::panic_message(payload).unwrap_or("(no message)");
        match &self.route {
            Some(route) => {
                tracing::error!(method = %route.method, route = %route.template, "a handler panicked: {message}")
            }
            None => tracing::error!("a middleware or exception handler panicked: {message}"),
        }
        internal_error()
    }
}

/// Renders what an exception handler answered: its own errors get their default response,
/// files are opened.
async fn settle(mut response: Response, conditions: &Conditions) -> Response {
    if let Some(carried) = response.extensions_mut().remove::<Carried>() {
        response = carried.render().unwrap_or_else(internal_error);
    }
    if response.extensions().get::<PendingFile>().is_some() {
        response = crate::response::file::finish(response, conditions).await;
    }
    response
}

impl Future for ResponseFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        loop {
            match &mut this.state {
                State::Running(fut) => {
                    let response = match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(response)) => response,
                        Err(payload) => this.finish.panicked(payload.as_ref()),
                    };
                    match this.finish.after(response) {
                        Next::Done(response) => {
                            if let Some(wait) = this.finish.before_done(&response) {
                                this.state = State::Cleanup(wait, Some(Box::new(response)));
                                continue;
                            }
                            this.state = State::Ready(None);
                            return Poll::Ready(this.finish.done(&this.span, response));
                        }
                        Next::More(fut) => this.state = State::After(fut),
                    }
                }
                State::After(fut) => {
                    let response = match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(response)) => response,
                        Err(payload) => {
                            this.finish.route = None;
                            this.finish.panicked(payload.as_ref())
                        }
                    };
                    if let Some(wait) = this.finish.before_done(&response) {
                        this.state = State::Cleanup(wait, Some(Box::new(response)));
                        continue;
                    }
                    this.state = State::Ready(None);
                    return Poll::Ready(this.finish.done(&this.span, response));
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
            }
        }
    }
}
