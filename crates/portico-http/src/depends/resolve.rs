//! Producing a request's dependencies: every provider whose own dependencies are ready starts,
//! and the `async fn`s that do not need each other run at the same time. Plain `fn`s that
//! start together share one trip to the thread pool, one after the other (FastAPI, too,
//! produces a route's dependencies in turn), rather than a trip each.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use http::request::Parts;
use smallvec::SmallVec;

use super::RequestDeps;
use super::provider::{Produce, Produced};
use crate::error::ErrorItem;
use crate::extract::{Rejection, RequestContext};
use crate::response::Reply;
use crate::strategy::trip;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Running,
    Done,
    Failed,
}

/// Produces every cached dependency of the request's plan. Invalid inputs are added to
/// `errors` (a provider whose dependencies failed is not run, but its own parameters are still
/// checked, as FastAPI does); a provider's error, or a response one of its parameters answers
/// with, ends the request.
pub(crate) async fn resolve(
    parts: &mut Parts,
    ctx: &RequestContext,
    errors: &mut Vec<ErrorItem>,
) -> Result<(), Reply> {
    match Resolution::start(ctx) {
        Some(mut resolution) => resolution.run(parts, ctx, errors, Phase::All).await,
        None => Ok(()),
    }
}

/// Which providers a run of a [`Resolution`] produces.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// All of them.
    All,
    /// All but the deferrable ones (plain `fn`s only plain `fn`s depend on), which a
    /// plain-`fn` handler produces on its own trip to the thread pool.
    AllButDeferrable,
}

/// Providers being produced: one, or plain `fn`s on one trip to the thread pool.
enum Running {
    One(usize, Produce),
    Trip(ProduceMany),
}

/// Plain `fn`s produced on one trip, with where each sits in the plan.
type ProduceMany = Pin<Box<dyn Future<Output = Vec<(usize, Produced)>> + Send>>;

/// What a wait on the running providers gave: one provider's value, or a trip's.
enum Done {
    One(usize, Produced),
    Many(Vec<(usize, Produced)>),
}

/// Where the production of a request's dependencies stands: it may be done in two runs, the
/// second on another thread.
pub(crate) struct Resolution {
    /// One per node of the plan, inline for the usual number.
    status: SmallVec<[Status; 16]>,
}

impl Resolution {
    /// `None` when the route has no dependencies.
    pub(crate) fn start(ctx: &RequestContext) -> Option<Self> {
        let deps = ctx.deps.as_deref()?;
        let status = (deps.plan.nodes.iter())
            .map(|node| {
                if node.eager {
                    Status::Waiting
                } else {
                    Status::Done
                }
            })
            .collect();
        Some(Resolution { status })
    }

    /// Produces the providers of `phase` not produced yet.
    pub(crate) async fn run(
        &mut self,
        parts: &mut Parts,
        ctx: &RequestContext,
        errors: &mut Vec<ErrorItem>,
        phase: Phase,
    ) -> Result<(), Reply> {
        let Some(deps) = ctx.deps.as_deref() else {
            return Ok(());
        };
        let nodes = &deps.plan.nodes;
        let status = &mut self.status;
        // Usually one at a time (a chain), so inline.
        let mut running: SmallVec<[Running; 2]> = SmallVec::new();
        // Whether a provider can start: not produced, in this phase, and every provider it
        // waits for settled.
        let startable = |i: usize, status: &[Status]| {
            let node = &nodes[i];
            status[i] == Status::Waiting
                && !(phase == Phase::AllButDeferrable && node.deferrable)
                && !(node.waits.iter())
                    .any(|&w| matches!(status[w], Status::Waiting | Status::Running))
        };
        loop {
            // One provider to start and none running (a chain, the usual case): its
            // parameters and its production in one future, awaited here.
            if running.is_empty() {
                let mut ready = (0..nodes.len()).filter(|&i| startable(i, status));
                if let (Some(i), None) = (ready.next(), ready.next()) {
                    match nodes[i].provider.produce(parts, ctx).await {
                        Ok(result) => {
                            keep(deps, i, result, ctx)?;
                            status[i] = Status::Done;
                        }
                        Err(
                            Rejection::Invalid(found)
                            | Rejection::InvalidBody { errors: found, .. },
                        ) => {
                            errors.extend(found);
                            status[i] = Status::Failed;
                        }
                        Err(other) => return Err(other.into_reply()),
                    }
                    continue;
                }
            }
            // Start everything whose dependencies are settled (in plan order, so one pass
            // sees the failures of the ones before). Plain `fn`s started together take one
            // trip to the thread pool between them. (The first is kept apart: one plain `fn`
            // at a time, the usual case, allocates no list.)
            let mut plain: Option<(usize, Produce)> = None;
            let mut more_plain: Vec<(usize, Produce)> = Vec::new();
            for (i, node) in nodes.iter().enumerate() {
                if !startable(i, status) {
                    continue;
                }
                match node.provider.prepare(parts, ctx).await {
                    Ok(produce) => {
                        status[i] = Status::Running;
                        if !node.provider.blocking {
                            running.push(Running::One(i, produce));
                        } else if plain.is_none() {
                            plain = Some((i, produce));
                        } else {
                            more_plain.push((i, produce));
                        }
                    }
                    Err(
                        Rejection::Invalid(found) | Rejection::InvalidBody { errors: found, .. },
                    ) => {
                        errors.extend(found);
                        status[i] = Status::Failed;
                    }
                    Err(other) => return Err(other.into_reply()),
                }
            }
            match plain {
                Some(first) if !more_plain.is_empty() => {
                    running.push(Running::Trip(Box::pin(trip(
                        async move {
                            let mut produced = Vec::with_capacity(1 + more_plain.len());
                            for (i, produce) in std::iter::once(first).chain(more_plain) {
                                produced.push((i, produce.await));
                            }
                            produced
                        },
                        ctx.app.thread_limiter().clone(),
                    ))));
                }
                Some((i, produce)) => running.push(Running::One(i, produce)),
                None => {}
            }
            if running.is_empty() {
                return Ok(());
            }
            let produced = poll_fn(|cx| {
                for at in 0..running.len() {
                    let done = match &mut running[at] {
                        Running::One(i, produce) => match produce.as_mut().poll(cx) {
                            Poll::Ready(result) => Done::One(*i, result),
                            Poll::Pending => continue,
                        },
                        Running::Trip(trip) => match trip.as_mut().poll(cx) {
                            Poll::Ready(produced) => Done::Many(produced),
                            Poll::Pending => continue,
                        },
                    };
                    running.swap_remove(at);
                    return Poll::Ready(done);
                }
                Poll::Pending
            })
            .await;
            match produced {
                Done::One(i, result) => {
                    keep(deps, i, result, ctx)?;
                    status[i] = Status::Done;
                }
                Done::Many(produced) => {
                    for (i, result) in produced {
                        keep(deps, i, result, ctx)?;
                        status[i] = Status::Done;
                    }
                }
            }
        }
    }
}

/// Keeps a produced value in the request's cache, with its cleanup; or gives the error a
/// provider's failure ends the request with.
#[allow(
    clippy::result_large_err,
    reason = "a provider's failure is the reply the request ends with"
)]
fn keep(deps: &RequestDeps, i: usize, result: Produced, ctx: &RequestContext) -> Result<(), Reply> {
    let (value, permit) = result.map_err(|raised| Reply::Error(raised.0))?;
    deps.plan.nodes[i].provider.settle(&value, permit, ctx);
    // Set once: a node is produced once per request.
    let _ = deps.slots[i].set(value);
    Ok(())
}
