//! Spawned futures and blocking closures, boxed so that they cross the object-safe
//! [`Backend`](super::Backend), and the outputs they produce.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use crate::Runtime;

/// A spawned future, boxed and erased, ready to be spawned by an adapter.
///
/// Adapters receive one from [`Backend::spawn`](super::Backend::spawn) and spawn it as an
/// ordinary future. Its output, a [`Completed`], must be handed back through the join handle
/// given to [`RawJoin::new`](super::RawJoin::new).
///
/// A panic while polling unwinds out of `poll` like any future's; the adapter must catch it and
/// report its payload through the join handle (tokio and async-task do this natively). Dropping
/// a `RawTask` drops the user's future; a panic in that drop is caught and discarded, so that
/// cancelling a task never unwinds into the executor.
#[must_use = "a RawTask does nothing unless spawned"]
pub struct RawTask {
    /// `None` once the future has completed; it is dropped before its output is returned.
    fut: Option<Pin<Box<dyn Future<Output = Completed> + Send>>>,
}

impl fmt::Debug for RawTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawTask").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// A future whose output is erased into a [`Completed`].
    struct Erased<F> {
        #[pin]
        fut: F,
    }
}

impl<F> Future for Erased<F>
where
    F: Future,
    F::Output: Send + 'static,
{
    type Output = Completed;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Completed> {
        self.project().fut.poll(cx).map(Completed::new)
    }
}

impl RawTask {
    /// Boxes `fut`, whose output will be boxed in turn when it completes.
    pub(crate) fn new<F>(fut: F) -> Self
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        RawTask {
            fut: Some(Box::pin(Erased { fut })),
        }
    }
}

impl Future for RawTask {
    type Output = Completed;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Completed> {
        let fut = self.fut.as_mut().expect("RawTask polled after completion");
        let polling = crate::current::PollGuard::new();
        let done = ready!(fut.as_mut().poll(cx));
        drop(polling);
        // A finished task holds nothing: its future goes before its output is handed over.
        self.fut = None;
        Poll::Ready(done)
    }
}

impl Drop for RawTask {
    fn drop(&mut self) {
        drop_quietly(self.fut.take());
    }
}

/// A blocking closure, boxed, to be run once on a blocking thread.
///
/// Adapters receive one from [`Backend::spawn_blocking`](super::Backend::spawn_blocking) and
/// call [`run`](Self::run) on their blocking pool. While it runs, [`current`](crate::current)
/// answers with the runtime that spawned it. A panic in the closure unwinds out of `run`; the
/// pool must catch it and report it through the join handle. Dropping a `BlockingTask` that never
/// ran drops the closure, catching a panic from its captures' destructors.
///
/// The closure and its output share one allocation, made by the spawning thread and freed by
/// the joining one: a blocking hop allocates once, and not across threads, which is what
/// malloc's per-thread caches serve fastest.
#[must_use = "a BlockingTask does nothing unless run"]
pub struct BlockingTask {
    /// `None` only while `run` runs it.
    cell: Option<Box<dyn RunCell>>,
    runtime: Runtime,
}

/// A blocking closure and, once it has run, its output, in one box.
struct Cell<F, T> {
    f: Option<F>,
    out: Option<T>,
}

/// A [`Cell`] of any closure: run it, or find its output.
trait RunCell: Send {
    /// Runs the closure, keeps its output in the cell, and hands the cell over as the output.
    fn run(self: Box<Self>) -> Completed;
    /// The output's slot, an `Option<T>`.
    fn out(&mut self) -> &mut dyn Any;
}

impl<F, T> RunCell for Cell<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(mut self: Box<Self>) -> Completed {
        let f = self.f.take().expect("a blocking closure runs once");
        self.out = Some(f());
        Completed {
            value: Some(Output::Cell(self)),
        }
    }

    fn out(&mut self) -> &mut dyn Any {
        &mut self.out
    }
}

impl fmt::Debug for BlockingTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingTask")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

impl BlockingTask {
    pub(crate) fn new<F, T>(runtime: Runtime, f: F) -> Self
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        BlockingTask {
            cell: Some(Box::new(Cell {
                f: Some(f),
                out: None,
            })),
            runtime,
        }
    }

    /// Runs the closure on the calling thread and returns its output.
    ///
    /// Call this on a thread of the blocking pool, never on an executor thread.
    pub fn run(mut self) -> Completed {
        let cell = self.cell.take().expect("a BlockingTask holds its closure");
        let _enter = self.runtime.enter();
        cell.run()
    }
}

impl Drop for BlockingTask {
    fn drop(&mut self) {
        drop_quietly(self.cell.take());
    }
}

/// The output of a finished [`RawTask`] or [`BlockingTask`], boxed.
///
/// Adapters only move it from their task back to their join handle. Dropping one that nobody
/// read (the task was detached) catches a panic from the value's destructor.
pub struct Completed {
    /// `None` only once [`take`](Self::take) has moved the value out.
    value: Option<Output>,
}

/// Where a finished task's value is.
enum Output {
    /// A spawned future's value, boxed on its own.
    Boxed(Box<dyn Any + Send>),
    /// A blocking closure's value, in the closure's own box.
    Cell(Box<dyn RunCell>),
}

impl fmt::Debug for Completed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completed").finish_non_exhaustive()
    }
}

impl Completed {
    /// Boxes `value`; a value of no size, such as `()`, costs no allocation.
    fn new<T: Send + 'static>(value: T) -> Self {
        Completed {
            value: Some(Output::Boxed(Box::new(value))),
        }
    }

    /// The value, which must be a `T`.
    ///
    /// # Panics
    ///
    /// If it is not: the adapter handed back the output of another task.
    pub(crate) fn take<T: 'static>(mut self) -> T {
        let value = match self.value.take() {
            Some(Output::Boxed(value)) => value.downcast::<T>().map(|value| *value).ok(),
            Some(Output::Cell(mut cell)) => cell
                .out()
                .downcast_mut::<Option<T>>()
                .and_then(Option::take),
            None => unreachable!("a Completed holds its value until taken"),
        };
        value.unwrap_or_else(|| {
            panic!("portico-rt: an adapter returned the output of a different task")
        })
    }
}

impl Drop for Completed {
    fn drop(&mut self) {
        drop_quietly(self.value.take());
    }
}

/// Drops a value, catching a panic from its destructor.
///
/// A future whose destructor panics while its task is being cancelled must not unwind into the
/// executor's worker loop; the panic hook has already printed the message.
fn drop_quietly<T>(value: T) {
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(value)));
}
