//! Spawning onto tokio, with Portico's join-handle semantics.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use portico_rt::Panic;
use portico_rt::adapter::{BlockingTask, Completed, MEDIUM_OUT, NativeJoin, RawJoin, RawTask};
use tokio::runtime::Handle;

/// tokio's join handle, made to cancel on drop as Portico's contract requires (tokio's own
/// detaches).
struct Join<const N: usize>(Option<tokio::task::JoinHandle<Completed<N>>>);

impl<const N: usize> Future for Join<N> {
    type Output = Option<Result<Completed<N>, Panic>>;

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

impl<const N: usize> Drop for Join<N> {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.abort();
        }
    }
}

impl<const N: usize> NativeJoin<N> for Join<N> {
    fn detach(mut self) {
        // Dropping tokio's handle without aborting lets the task run on.
        drop(self.0.take());
    }
}

pub(crate) fn spawn<const N: usize, const M: usize>(
    handle: &Handle,
    task: RawTask<N, M>,
) -> RawJoin {
    RawJoin::new(Join(Some(handle.spawn(task))))
}

pub(crate) fn spawn_blocking(handle: &Handle, task: BlockingTask) -> RawJoin {
    RawJoin::new::<_, MEDIUM_OUT>(Join(Some(handle.spawn_blocking(move || task.run()))))
}
