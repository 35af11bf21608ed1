//! [`Handler`] for functions: one implementation per number of parameters, whatever kind of
//! function (the kind is a strategy, see `strategy`), all sharing one way to extract the
//! parameters and one way to finish the reply.

use std::future::Future;
use std::pin::Pin;

use http::request::Parts;

use portico_openapi::OperationDoc;

use super::Handler;
use crate::context::RouteSpec;
use crate::context::{AppShared, RequestContext};
use crate::error::{RequestHead, invalid};
use crate::extract::{Args, FromRequest, FromRequestParts, Rejection};
use crate::response::unfinished::{Conditions, Finished, Finishing, finish};
use crate::response::{IntoResponse, Reply, Response, Unfinished};
use crate::strategy::{Accepts, Runs};

/// What path operations accept as their functions' result: anything that is a response.
#[doc(hidden)]
#[derive(Debug)]
pub enum Respond {}

impl<R: IntoResponse> Accepts<R> for Respond {}

/// What finishing a route's reply may need of its request, kept before the request is taken
/// apart: its head, for an exception handler (only when the application has some), and its
/// conditional headers, for a file response.
///
/// Both are boxed: a route's future holds a `Kept` from start to end, and most requests need
/// neither.
pub(crate) struct Kept {
    head: Option<Box<RequestHead>>,
    conditions: Option<Box<Conditions>>,
}

impl Kept {
    pub(crate) fn of(request: &crate::Request, ctx: &RequestContext) -> Self {
        Kept {
            head: (!ctx.app.errors.is_empty()).then(|| {
                Box::new(RequestHead::of(
                    request,
                    Some(ctx.route.template.as_str().into()),
                ))
            }),
            conditions: Conditions::capture(request.method(), request.headers()),
        }
    }
}

/// The route's dependencies, then its head parameters `H`, then its last parameter `L` (which
/// may read the body); every invalid input of them all in one 422.
///
/// The request comes in parts that the route's future holds: a future keeps the room of
/// everything it captured, so a request moved in whole would be held twice. A failure comes
/// boxed: the result has room in the route's future while the extraction runs, and a reply is
/// as large as a response (the `/echo` route's future came to 1,160 bytes with it inline, past
/// the 1,032 that malloc serves from its per-thread cache).
pub(crate) async fn extract_all<H: Args, L: FromRequest<M>, M>(
    parts: &mut Parts,
    body: &mut Option<crate::Body>,
    ctx: &RequestContext,
) -> Result<(H, L), Box<Reply>> {
    let mut errors = Vec::new();
    if ctx.deps.is_some() {
        // Boxed: the state of a resolution would otherwise be room in every route's future,
        // dependencies or not (the future is boxed for every request, and a box past 1 KiB
        // takes malloc's slow way).
        Box::pin(crate::depends::resolve(parts, ctx, &mut errors)).await?;
    }
    let head = H::extract(parts, ctx, &mut errors).await?;
    let last = L::from_split(parts, body, ctx).await;
    merge(head, last, errors).map_err(Box::new)
}

/// The parameters, once all are extracted: the head's (`None` if one was invalid) and the last
/// one's, with the errors found so far; every invalid input in one 422.
#[allow(
    clippy::result_large_err,
    reason = "a route's own result: a failure is the response it answers with"
)]
pub(super) fn merge<H, L>(
    head: Option<H>,
    last: Result<L, Rejection>,
    mut errors: Vec<crate::error::ErrorItem>,
) -> Result<(H, L), Reply> {
    let mut received = None;
    let last = match last {
        Ok(value) => Some(value),
        Err(Rejection::Invalid(found)) => {
            errors.extend(found);
            None
        }
        Err(Rejection::InvalidBody {
            errors: found,
            body,
        }) => {
            errors.extend(found);
            received = Some(body);
            None
        }
        Err(other) => return Err(other.into_reply()),
    };
    match (head, last) {
        // A dependency of the route itself may have had invalid inputs too.
        (Some(head), Some(last)) if errors.is_empty() => Ok((head, last)),
        _ => Err(Reply::Response(invalid(errors, received))),
    }
}

/// The route's dependencies, for a handler without parameters.
async fn extract_none(parts: &mut Parts, ctx: &RequestContext) -> Result<(), Reply> {
    if ctx.deps.is_none() {
        return Ok(());
    }
    let mut errors = Vec::new();
    // Boxed, as in `extract_all`.
    Box::pin(crate::depends::resolve(parts, ctx, &mut errors)).await?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Reply::Response(invalid(errors, None)))
    }
}

/// Finishes a route's reply into its response: an error goes to the application's exception
/// handler for its type (or answers on its own) and marks the request failed for its
/// cleanups; deferred work is done; a plain success gets the route's `status_code`.
///
/// A WebSocket route's reply is left for the WebSocket to settle (an invalid parameter
/// closes it with 1008 rather than answering 422).
///
/// The usual reply, a finished response, is answered at once; anything else goes the slow
/// way, in a boxed future, so that every route's future stays small (it is moved into a box
/// for every request, and the slow way's state is large).
#[inline]
pub(crate) fn respond(
    reply: Reply,
    kept: Kept,
    ctx: &RequestContext,
) -> Result<Response, Slow<'_>> {
    if ctx.route.websocket {
        return Ok(match reply {
            Reply::Response(response) => response,
            Reply::Error(caught) => caught.into_response(),
        });
    }
    match reply {
        Reply::Response(mut response) if !Unfinished::is_on(&response) => {
            route_status(&mut response, ctx);
            Ok(response)
        }
        reply => Err(Box::pin(finish_slow(reply, kept, ctx))),
    }
}

/// The slow way of [`respond`], boxed.
pub(crate) type Slow<'a> = Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

async fn finish_slow(reply: Reply, kept: Kept, ctx: &RequestContext) -> Response {
    // The providers that catch the error's type see it first (`Provider::catch`).
    let reply = match &ctx.teardown {
        Some(teardown) => teardown.catch(reply),
        None => reply,
    };
    let finished = settle(reply, kept, &ctx.app).await;
    let mut response = finished.response;
    if finished.failed {
        // A request that ended in an error runs no background tasks, as in FastAPI; its
        // cleanups see the failure (with the status of the response it gets).
        if let Some(teardown) = &ctx.teardown {
            teardown.failed(response.status());
        }
    } else {
        route_status(&mut response, ctx);
    }
    response
}

/// Gives a handler's 200 the route's status (FastAPI's `status_code`). A status that allows no
/// body (204, 304, 1xx) drops the one the handler gave (a `()`'s `null`), as FastAPI does. A
/// route that keeps some fields of its answers only has them filtered here.
fn route_status(response: &mut Response, ctx: &RequestContext) {
    if let Some(fields) = &ctx.route.response_fields {
        fields.apply(response);
    }
    if let Some(status) = ctx.route.status
        && response.status() == http::StatusCode::OK
    {
        *response.status_mut() = status;
        if crate::error::forbids_body(status) {
            *response.body_mut() = crate::Body::empty();
            response.headers_mut().remove(http::header::CONTENT_TYPE);
            response.headers_mut().remove(http::header::CONTENT_LENGTH);
        }
    }
}

/// Resolves a reply with the application's exception handlers and the request's conditions.
pub(crate) async fn settle(reply: Reply, kept: Kept, app: &AppShared) -> Finished {
    let handle = |caught| app.errors.handle(caught, kept.head.as_deref());
    let cx = Finishing {
        conditions: kept.conditions.as_deref(),
        draining: Some(app.running.draining()),
        handle: &handle,
    };
    finish(reply, &cx).await
}

impl<F, R, S> Handler<(S,)> for F
where
    F: Fn() -> R + Clone + Send + Sync + 'static,
    R: Runs<S, Respond>,
    R::Output: IntoResponse,
    S: 'static,
{
    fn call(
        &self,
        request: crate::Request,
        mut ctx: RequestContext,
    ) -> impl Future<Output = Response> + Send + 'static {
        let f = self.clone();
        let kept = Kept::of(&request, &ctx);
        let (mut parts, body) = request.into_parts();
        drop(body);
        async move {
            // A plain fn with dependencies takes them along on its trip (boxed: the other
            // routes' futures stay as small as they were); without any, its own trip is all.
            // The context comes back from the trip into the place it left, so that the future
            // keeps room for one.
            let reply = if R::BLOCKING && ctx.deps.is_some() {
                let (reply, back) = Box::pin(super::trip::run_bare::<S, R>(parts, ctx, f)).await;
                ctx = back;
                reply
            } else {
                let extracted = extract_none(&mut parts, &ctx).await;
                drop(parts);
                match extracted {
                    Ok(()) => R::run(f, ctx.app.thread_limiter()).await.into_reply(),
                    Err(reply) => reply,
                }
            };
            // Only the slow way's box is kept across its await, not the whole result.
            let slow = match respond(reply, kept, &ctx) {
                Ok(response) => return response,
                Err(slow) => slow,
            };
            slow.await
        }
    }

    fn describe(doc: &mut OperationDoc) {
        R::Output::describe_response(doc);
    }

    fn is_blocking() -> bool {
        R::BLOCKING
    }
}

macro_rules! handlers {
    ($($head:ident),* ; $last:ident) => {
        impl<F, R, S, M, $($head,)* $last> Handler<(S, M, $($head,)* $last,)> for F
        where
            F: Fn($($head,)* $last) -> R + Clone + Send + Sync + 'static,
            R: Runs<S, Respond>,
            R::Output: IntoResponse,
            S: 'static,
            M: 'static,
            ($($head,)*): Args,
            $($head: FromRequestParts + 'static,)*
            $last: FromRequest<M> + 'static,
        {
            #[allow(non_snake_case, reason = "the type names double as bindings")]
            fn call(
                &self,
                request: crate::Request,
                mut ctx: RequestContext,
            ) -> impl Future<Output = Response> + Send + 'static {
                let f = self.clone();
                let kept = Kept::of(&request, &ctx);
                let (mut parts, body) = request.into_parts();
                let mut body = Some(body);
                async move {
                    // A plain fn with dependencies takes them along on its trip (boxed: the
                    // other routes' futures stay as small as they were); without any, the
                    // trip of its own below is all it takes. The context comes back from the
                    // trip into the place it left, so that the future keeps room for one.
                    let reply = if R::BLOCKING && ctx.deps.is_some() {
                        let call = move |($($head,)*), $last| f($($head,)* $last);
                        let (reply, back) =
                            Box::pin(super::trip::run::<($($head,)*), $last, M, S, R>(
                                parts, body, ctx, call,
                            ))
                            .await;
                        ctx = back;
                        reply
                    } else {
                        let extracted =
                            extract_all::<($($head,)*), $last, M>(&mut parts, &mut body, &ctx)
                                .await;
                        // What the parameters left of the request goes before the handler runs.
                        drop((parts, body));
                        match extracted {
                            Ok((($($head,)*), $last)) => {
                                R::run(move || f($($head,)* $last), ctx.app.thread_limiter())
                                    .await
                                    .into_reply()
                            }
                            Err(reply) => *reply,
                        }
                    };
                    // Only the slow way's box is kept across its await, not the whole result.
                    let slow = match respond(reply, kept, &ctx) {
                        Ok(response) => return response,
                        Err(slow) => slow,
                    };
                    slow.await
                }
            }

            fn describe(doc: &mut OperationDoc) {
                <($($head,)*)>::describe(doc);
                <$last as FromRequest<M>>::describe(doc);
                R::Output::describe_response(doc);
            }

            fn spec(spec: &mut RouteSpec) {
                <($($head,)*)>::spec(spec);
                <$last as FromRequest<M>>::spec(spec);
            }

            fn is_blocking() -> bool {
                R::BLOCKING
            }
        }
    };
}

handlers!(; T1);
handlers!(T1; T2);
handlers!(T1, T2; T3);
handlers!(T1, T2, T3; T4);
handlers!(T1, T2, T3, T4; T5);
handlers!(T1, T2, T3, T4, T5; T6);
handlers!(T1, T2, T3, T4, T5, T6; T7);
handlers!(T1, T2, T3, T4, T5, T6, T7; T8);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8; T9);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9; T10);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10; T11);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11; T12);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12; T13);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13; T14);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14; T15);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15; T16);
