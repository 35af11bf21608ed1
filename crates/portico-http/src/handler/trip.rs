//! A plain-`fn` handler's request in one trip to the thread pool: the plain-`fn` dependencies
//! that only plain `fn`s need, then the handler's parameters and the handler itself, on one
//! thread, in dependency order, instead of one trip each.
//!
//! What must happen on the event loop happens there first: the dependencies `async fn`s need
//! (and the `async fn`s themselves), then a last parameter that reads the body (a thread is
//! not held while a client uploads; it reads a copy of the request's head, which the other
//! parameters still need). Errors join the one 422 in the same order as
//! on the event loop: the dependencies', the head parameters', the body's.

use std::future::Future;

use http::request::Parts;

use super::impls::{Respond, merge};
use crate::context::RequestContext;
use crate::depends::{Phase, Resolution};
use crate::error::ErrorItem;
use crate::extract::{Args, FromRequest, Rejection};
use crate::response::{IntoResponse, Reply};
use crate::strategy::{Runs, trip};

/// Runs a plain-`fn` handler's request (see the module docs); gives back the context, for
/// finishing the reply.
///
/// Written as an `async` block rather than an `async fn`: an `async fn` keeps room for its
/// arguments beside the locals they are moved into (the head, the context and the body, about
/// 480 bytes), and this future is boxed for every request. With a head-only last parameter,
/// it and the work it sends to the thread stay under 1 KiB, the largest size the allocator
/// serves from its per-thread cache (the work's box comes back and is freed here); a last
/// parameter that reads the body leaves the work a little above it.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would keep its arguments twice in its future (see above)"
)]
pub(super) fn run<H, L, M, S, R>(
    mut parts: Parts,
    mut body: Option<crate::Body>,
    mut ctx: RequestContext,
    call: impl FnOnce(H, L) -> R + Send + 'static,
) -> impl Future<Output = (Reply, RequestContext)> + Send
where
    H: Args,
    L: FromRequest<M> + 'static,
    R: Runs<S, Respond>,
    R::Output: IntoResponse,
{
    async move {
        let mut errors = Vec::new();
        let mut resolution = match on_event_loop(&mut parts, &ctx, &mut errors).await {
            Ok(resolution) => resolution,
            Err(reply) => return (reply, ctx),
        };
        // A last parameter that reads the body reads it here, from a copy of the head (it
        // takes what it is given); a head-only one is read on the thread, with the others.
        // Its read and its result are boxed: most are head-only, and the request's future and
        // the work's stay small (a JSON body's read holds a whole request).
        let mut read = if L::TAKES_REQUEST {
            let early = Box::pin(read_early::<L, M>(parts.clone(), body.take(), &ctx));
            Some(Box::new(early.await))
        } else {
            None
        };
        drop(body);
        let threads = ctx.app.thread_limiter().clone();
        let mut back = Back::new();
        let work = async move {
            // The inner future borrows what it needs rather than holding a second copy.
            let (read, errors) = (&mut read, &mut errors);
            // A failure comes boxed, as from `extract_all`: the result has room in the work's
            // future while the extraction runs.
            let extracted: Result<(H, L), Box<Reply>> = async {
                if let Some(resolution) = &mut resolution {
                    resolution.run(&mut parts, &ctx, errors, Phase::All).await?;
                }
                let head = H::extract(&mut parts, &ctx, errors).await?;
                let last = match read.take() {
                    Some(read) => *read,
                    None => L::from_split(&mut parts, &mut None, &ctx).await,
                };
                merge(head, last, std::mem::take(errors)).map_err(Box::new)
            }
            .await;
            drop(parts);
            let reply = match extracted {
                // On the trip already: the handler is called here, not sent on one of its own.
                Ok((head, last)) => R::run(move || call(head, last), ctx.app.thread_limiter())
                    .await
                    .into_reply(),
                Err(reply) => *reply,
            };
            release_deferred(&mut ctx);
            back.fill(reply, ctx);
            back
        };
        trip(work, threads).await.take()
    }
}

/// Drops, on the trip's thread, the values of the dependencies produced there (see
/// [`RequestDeps::release_deferred`](crate::depends::RequestDeps::release_deferred)).
fn release_deferred(ctx: &mut RequestContext) {
    if let Some(deps) = ctx.deps.as_mut().and_then(std::sync::Arc::get_mut) {
        deps.release_deferred();
    }
}

/// Produces the dependencies that must be produced on the event loop (those `async fn`s
/// need); gives back where the resolution stands, for the rest on the thread.
async fn on_event_loop(
    parts: &mut Parts,
    ctx: &RequestContext,
    errors: &mut Vec<ErrorItem>,
) -> Result<Option<Resolution>, Reply> {
    let mut resolution = Resolution::start(ctx);
    if let Some(resolution) = &mut resolution {
        (resolution)
            .run(parts, ctx, errors, Phase::AllButDeferrable)
            .await?;
    }
    Ok(resolution)
}

/// Reads a last parameter that takes the request, from a copy of its head.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would keep its arguments twice in its future (see `run`)"
)]
fn read_early<L: FromRequest<M>, M>(
    mut head: Parts,
    mut body: Option<crate::Body>,
    ctx: &RequestContext,
) -> impl Future<Output = Result<L, Rejection>> + Send + '_ {
    async move { L::from_split(&mut head, &mut body, ctx).await }
}

/// As [`run`], for a handler without parameters.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would keep its arguments twice in its future (see `run`)"
)]
pub(super) fn run_bare<S, R>(
    mut parts: Parts,
    mut ctx: RequestContext,
    call: impl FnOnce() -> R + Send + 'static,
) -> impl Future<Output = (Reply, RequestContext)> + Send
where
    R: Runs<S, Respond>,
    R::Output: IntoResponse,
{
    async move {
        let mut errors = Vec::new();
        let mut resolution = match on_event_loop(&mut parts, &ctx, &mut errors).await {
            Ok(resolution) => resolution,
            Err(reply) => return (reply, ctx),
        };
        let threads = ctx.app.thread_limiter().clone();
        let mut back = Back::new();
        let work = async move {
            let extracted = match &mut resolution {
                Some(resolution) => {
                    (resolution)
                        .run(&mut parts, &ctx, &mut errors, Phase::All)
                        .await
                }
                None => Ok(()),
            };
            drop(parts);
            let reply = match extracted {
                Ok(()) if errors.is_empty() => {
                    R::run(call, ctx.app.thread_limiter()).await.into_reply()
                }
                Ok(()) => Reply::Response(crate::error::invalid(errors, None)),
                Err(reply) => reply,
            };
            release_deferred(&mut ctx);
            back.fill(reply, ctx);
            back
        };
        trip(work, threads).await.take()
    }
}

/// The reply and the context coming back from a trip, in a box made on the event loop before
/// it: on its way back through the layers of the trip it is moved as a pointer, not as the
/// few hundred bytes it holds, and it is freed on the thread that made it.
struct Back(Box<Option<(Reply, RequestContext)>>);

impl Back {
    fn new() -> Self {
        Back(Box::new(None))
    }

    fn fill(&mut self, reply: Reply, ctx: RequestContext) {
        *self.0 = Some((reply, ctx));
    }

    fn take(mut self) -> (Reply, RequestContext) {
        match self.0.take() {
            Some(back) => back,
            None => unreachable!("a trip fills its answer before it returns"),
        }
    }
}
