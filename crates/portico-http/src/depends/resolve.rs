//! Producing a request's dependencies: every provider whose own dependencies are ready starts,
//! and those that do not need each other run at the same time.

use std::future::poll_fn;
use std::task::Poll;

use http::request::Parts;

use super::provider::Produce;
use crate::error::ErrorItem;
use crate::extract::{Rejection, RequestContext};
use crate::response::Response;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Running,
    Done,
    Failed,
}

/// Produces every cached dependency of the request's plan. Invalid inputs are added to
/// `errors` (a provider whose dependencies failed is not run, but its own parameters are still
/// checked, as FastAPI does); a provider answering with a response ends the request with it.
pub(crate) async fn resolve(
    parts: &mut Parts,
    ctx: &RequestContext,
    errors: &mut Vec<ErrorItem>,
) -> Result<(), Response> {
    let Some(deps) = ctx.deps.as_deref() else {
        return Ok(());
    };
    let nodes = &deps.plan.nodes;
    let mut status: Vec<Status> = nodes
        .iter()
        .map(|node| {
            if node.eager {
                Status::Waiting
            } else {
                Status::Done
            }
        })
        .collect();
    let mut running: Vec<(usize, Produce)> = Vec::new();
    loop {
        // Start everything whose dependencies are settled (in plan order, so one pass sees
        // the failures of the ones before).
        for (i, node) in nodes.iter().enumerate() {
            if status[i] != Status::Waiting
                || node
                    .waits
                    .iter()
                    .any(|&w| matches!(status[w], Status::Waiting | Status::Running))
            {
                continue;
            }
            match node.provider.prepare(parts, ctx).await {
                Ok(produce) => {
                    status[i] = Status::Running;
                    running.push((i, produce));
                }
                Err(Rejection::Invalid(found) | Rejection::InvalidBody { errors: found, .. }) => {
                    errors.extend(found);
                    status[i] = Status::Failed;
                }
                Err(Rejection::Response(response)) => return Err(response),
            }
        }
        if running.is_empty() {
            return Ok(());
        }
        let (i, result) = poll_fn(|cx| {
            for at in 0..running.len() {
                if let Poll::Ready(result) = running[at].1.as_mut().poll(cx) {
                    let (i, _) = running.swap_remove(at);
                    return Poll::Ready((i, result));
                }
            }
            Poll::Pending
        })
        .await;
        let (value, permit) = result?;
        let provider = &nodes[i].provider;
        provider.settle(&value, permit, ctx);
        // Set once: a node is produced once per request.
        let _ = deps.slots[i].set(value);
        status[i] = Status::Done;
    }
}
