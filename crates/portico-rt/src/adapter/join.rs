//! Adapters' join handles, erased.

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::Completed;
use crate::Panic;

/// An adapter's join handle for a [`RawTask`](super::RawTask) or
/// [`BlockingTask`](super::BlockingTask).
///
/// # Contract
///
/// * Polling yields `Some(Ok(..))` with the task's [`Completed`] output, `Some(Err(payload))` if
///   polling the task (or running the closure) panicked, or `None` if the task was cancelled (by
///   dropping the handle or by runtime shutdown) before it finished.
/// * Dropping the handle cancels the task; a blocking closure that already started runs on.
/// * [`detach`](Self::detach) lets the task run to completion with nobody waiting for it.
pub trait NativeJoin:
    Future<Output = Option<Result<Completed, Panic>>> + Send + Sync + Unpin + 'static
{
    /// Lets the task run on without this handle.
    fn detach(self: Box<Self>);
}

/// An adapter's join handle, boxed; [`JoinHandle`](crate::JoinHandle) is its typed face.
///
/// Adapters build one with [`RawJoin::new`], or [`RawJoin::cancelled`] for a task that never
/// ran.
pub struct RawJoin {
    state: State,
}

enum State {
    Running(Box<dyn NativeJoin>),
    /// The task never ran (spawned after shutdown).
    Cancelled,
    /// The handle has returned its output.
    Done,
}

impl fmt::Debug for RawJoin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawJoin").finish_non_exhaustive()
    }
}

impl RawJoin {
    /// Erases an adapter's join handle.
    pub fn new(handle: impl NativeJoin) -> Self {
        RawJoin {
            state: State::Running(Box::new(handle)),
        }
    }

    /// Erases the handle of an [async-task](https://docs.rs/async-task) task (what
    /// async-executor's `spawn` returns), spawned with `propagate_panic` so that a panic in
    /// the task comes back through the handle. async-task's handle already cancels on drop.
    pub fn from_async_task(task: async_task::Task<Completed>) -> Self {
        RawJoin::new(AsyncTaskJoin(task.fallible()))
    }

    /// A handle whose task was cancelled before it ran, for adapters asked to spawn after
    /// shutdown.
    pub fn cancelled() -> Self {
        RawJoin {
            state: State::Cancelled,
        }
    }

    /// Polls the handle of a task whose output is `T`.
    ///
    /// `Ready(Some(..))` carries the task's value or panic payload; `Ready(None)` means the task
    /// was cancelled.
    pub(crate) fn poll_output<T: Send + 'static>(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<T, Panic>>> {
        let output = match &mut self.state {
            State::Running(handle) => ready!(Pin::new(&mut **handle).poll(cx)),
            State::Cancelled => None,
            State::Done => panic!("JoinHandle polled after completion"),
        };
        // Release the task's allocation as soon as its output is out.
        self.state = State::Done;
        Poll::Ready(output.map(|joined| joined.map(Completed::take)))
    }

    /// Lets the task run on without this handle.
    pub(crate) fn detach(self) {
        if let State::Running(handle) = self.state {
            handle.detach();
        }
    }
}

/// async-task's handle, which cancels on drop and yields `None` once cancelled.
struct AsyncTaskJoin(async_task::FallibleTask<Completed>);

impl Future for AsyncTaskJoin {
    type Output = Option<Result<Completed, Panic>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Spawned with `propagate_panic`: the task's panic is caught on its thread and resumed
        // here, in whoever polls the handle.
        match panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut self.0).poll(cx))) {
            Ok(poll) => poll.map(|done| done.map(Ok)),
            Err(payload) => Poll::Ready(Some(Err(payload))),
        }
    }
}

impl NativeJoin for AsyncTaskJoin {
    fn detach(self: Box<Self>) {
        self.0.detach();
    }
}
