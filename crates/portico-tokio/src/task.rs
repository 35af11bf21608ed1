//! Spawning onto tokio, with Portico's join-handle semantics.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use portico_rt::Panic;
use portico_rt::adapter::{BlockingTask, Completed, NativeJoin, RawJoin, RawTask};
use tokio::runtime::Handle;

/// tokio's join handle, made to cancel on drop as Portico's contract requires (tokio's own
/// detaches).
struct Join(Option<tokio::task::JoinHandle<Completed>>);

impl Future for Join {
    type Output = Option<Result<Completed, Panic>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(handle) = self.0.as_mut() else {
            return Poll::Ready(None);
        };
        let joined = match Pin::new(handle).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(joined) => joined,
        };
        // Finished: nothing left to abort when this is dropped.
        self.0 = None;
        // tokio catches a panic in the task and hands its payload to the join handle.
        Poll::Ready(match joined {
            Ok(done) => Some(Ok(done)),
            Err(err) => err.try_into_panic().ok().map(Err),
        })
    }
}

impl Drop for Join {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.abort();
        }
    }
}

impl NativeJoin for Join {
    fn detach(mut self: Box<Self>) {
        // Dropping tokio's handle without aborting lets the task run on.
        drop(self.0.take());
    }
}

pub(crate) fn spawn(handle: &Handle, task: RawTask) -> RawJoin {
    RawJoin::new(Join(Some(handle.spawn(task))))
}

/// tokio's join handle detaches when dropped: dropped at once, it is never boxed.
pub(crate) fn spawn_detached(handle: &Handle, task: RawTask) {
    drop(handle.spawn(task));
}

pub(crate) fn spawn_blocking(handle: &Handle, task: BlockingTask) -> RawJoin {
    RawJoin::new(Join(Some(handle.spawn_blocking(move || task.run()))))
}
