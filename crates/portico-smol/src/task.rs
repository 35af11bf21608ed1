//! Spawning onto async-executor and the runtime's blocking pool.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use async_executor::{Executor, FallibleTask};
use portico_rt::Panic;
use portico_rt::adapter::{BlockingTask, Completed, NativeJoin, RawJoin, RawTask};

use crate::runtime::Shared;

/// async-task's handle, which already cancels on drop and yields `None` once cancelled.
struct Join(FallibleTask<Completed>);

impl Future for Join {
    type Output = Option<Result<Completed, Panic>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // async-executor and the blocking pool spawn with `propagate_panic`: the task's panic
        // is caught on its thread and resumed here, in whoever polls the handle.
        match panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut self.0).poll(cx))) {
            Ok(poll) => poll.map(|done| done.map(Ok)),
            Err(payload) => Poll::Ready(Some(Err(payload))),
        }
    }
}

impl NativeJoin for Join {
    fn detach(self: Box<Self>) {
        self.0.detach();
    }
}

pub(crate) fn spawn(executor: &Executor<'static>, task: RawTask) -> RawJoin {
    RawJoin::new(Join(executor.spawn(task).fallible()))
}

/// async-task's handle, detached at once: no [`Join`] to box.
pub(crate) fn spawn_detached(executor: &Executor<'static>, task: RawTask) {
    executor.spawn(task).detach();
}

/// The closure as an async-task task, scheduled once, on the runtime's pool.
pub(crate) fn spawn_blocking(shared: &Shared, task: BlockingTask) -> RawJoin {
    let pool = shared.pool.clone();
    let (runnable, closure) = async_task::Builder::new().propagate_panic(true).spawn(
        move |()| async move { task.run() },
        move |runnable| {
            pool.schedule(runnable);
        },
    );
    runnable.schedule();
    RawJoin::new(Join(closure.fallible()))
}
