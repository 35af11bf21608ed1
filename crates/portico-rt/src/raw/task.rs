//! Futures and blocking closures in fixed-size buffers.

use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll, Waker};

use super::{Completed, MEDIUM_OUT, MediumTask, Words, drop_quietly, fits, store};
use crate::{EnterGuard, Runtime};

/// What the owner of a task buffer may do with the value inside.
struct TaskVTable<const M: usize> {
    /// Polls the future; on completion drops it in place and returns its output.
    poll: unsafe fn(*mut (), &mut Context<'_>) -> Poll<Completed<M>>,
    /// Drops the future in place.
    drop: unsafe fn(*mut ()),
}

/// A spawned future, erased to a fixed-size buffer, ready to be spawned by an adapter.
///
/// Adapters receive one from [`Backend::spawn_small`](crate::adapter::Backend::spawn_small) and its
/// siblings and spawn it as an ordinary future. Its output, a [`Completed`], must be handed back
/// through the join handle given to [`RawJoin::new`](super::RawJoin::new).
///
/// A panic while polling unwinds out of `poll` like any future's; the adapter must catch it and
/// report its payload through the join handle (tokio and async-task do this natively). Dropping
/// a `RawTask` drops the user's future; a panic in that drop is caught and discarded, so that
/// cancelling a task never unwinds into the executor.
#[must_use = "a RawTask does nothing unless spawned"]
pub struct RawTask<const N: usize, const M: usize> {
    buf: Words<N>,
    /// [`Finished::VTABLE`] once the future has completed and been dropped.
    vtable: &'static TaskVTable<M>,
    // The future may be self-referential once polled, and it lives inside `buf`.
    _pinned: PhantomPinned,
}

// SAFETY: `RawTask::new` only accepts `Send` futures with `Send` outputs, and the buffer is only
// touched through `&mut self` or by value.
unsafe impl<const N: usize, const M: usize> Send for RawTask<N, M> {}

impl<const N: usize, const M: usize> fmt::Debug for RawTask<N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawTask").finish_non_exhaustive()
    }
}

struct Inline<F, const M: usize>(F);
struct Boxed<F, const M: usize>(F);

/// The vtable of a task whose future has completed; the buffer holds nothing.
struct Finished<const N: usize>;

impl<const N: usize> Finished<N> {
    const VTABLE: TaskVTable<N> = TaskVTable {
        poll: |_, _| panic!("RawTask polled after completion"),
        drop: |_| {},
    };
}

impl<F, const M: usize> Inline<F, M>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    const VTABLE: TaskVTable<M> = TaskVTable {
        poll: Self::poll,
        drop: Self::drop,
    };

    /// # Safety
    /// `ptr` points to a live, pinned `F`; once this returns `Ready`, the `F` is gone.
    unsafe fn poll(ptr: *mut (), cx: &mut Context<'_>) -> Poll<Completed<M>> {
        let fut = ptr.cast::<F>();
        // SAFETY: the caller guarantees `fut` is live and never moves until dropped.
        let output = match unsafe { Pin::new_unchecked(&mut *fut) }.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(output) => output,
        };
        // SAFETY: `fut` is live; the caller treats it as gone from now on.
        unsafe { ptr::drop_in_place(fut) };
        Poll::Ready(Completed::new(output))
    }

    /// # Safety
    /// `ptr` points to a live `F` that is not used afterwards.
    unsafe fn drop(ptr: *mut ()) {
        // SAFETY: forwarded from the caller.
        unsafe { drop_quietly(ptr.cast::<F>()) }
    }
}

impl<F, const M: usize> Boxed<F, M>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    const VTABLE: TaskVTable<M> = TaskVTable {
        poll: Self::poll,
        drop: Self::drop,
    };

    /// # Safety
    /// `ptr` points to a live `Box<F>`; once this returns `Ready`, the box is gone.
    unsafe fn poll(ptr: *mut (), cx: &mut Context<'_>) -> Poll<Completed<M>> {
        // SAFETY: the caller guarantees a live `Box<F>`; the heap value never moves.
        let fut = unsafe { &mut **ptr.cast::<Box<F>>() } as *mut F;
        // SAFETY: `fut` is live and pinned on the heap.
        let poll = unsafe { Inline::<F, M>::poll(fut.cast(), cx) };
        if poll.is_ready() {
            // `Inline::poll` dropped the future in place; free the allocation without dropping
            // it again.
            // SAFETY: the box is live and its contents were already dropped.
            unsafe { drop(ptr.cast::<Box<ManuallyDrop<F>>>().read()) };
        }
        poll
    }

    /// # Safety
    /// `ptr` points to a live `Box<F>` that is not used afterwards.
    unsafe fn drop(ptr: *mut ()) {
        // SAFETY: forwarded from the caller.
        unsafe { drop_quietly(ptr.cast::<Box<F>>()) }
    }
}

impl<const N: usize, const M: usize> RawTask<N, M> {
    /// Erases `fut`, inline if it fits in `N` words, boxed otherwise; its output will be inline
    /// if it fits in `M` words.
    pub(crate) fn new<F>(fut: F) -> Self
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (buf, vtable) = if fits::<F, N>() {
            (store::<F, N>(fut), &Inline::<F, M>::VTABLE)
        } else {
            (store::<Box<F>, N>(Box::new(fut)), &Boxed::<F, M>::VTABLE)
        };
        RawTask {
            buf,
            vtable,
            _pinned: PhantomPinned,
        }
    }

    /// Whether a future of type `F`, and its output, are stored without a box in this class.
    pub(crate) const fn holds<F: Future>() -> bool {
        fits::<F, N>() && fits::<F::Output, M>()
    }

    /// Whether a future of type `F` is stored without a box in this class.
    pub(crate) const fn holds_future<F>() -> bool {
        fits::<F, N>()
    }
}

impl<const N: usize, const M: usize> Future for RawTask<N, M> {
    type Output = Completed<M>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Completed<M>> {
        // SAFETY: nothing is moved out of `this`; the buffer stays where the pin put it.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: the buffer holds the live, pinned value this vtable was built for (or nothing,
        // for the finished vtable, which does not read it).
        let poll = unsafe { (this.vtable.poll)(this.buf.as_mut_ptr().cast(), cx) };
        if poll.is_ready() {
            // The future was dropped by the poll that completed it.
            this.vtable = &Finished::<M>::VTABLE;
        }
        poll
    }
}

impl<const N: usize, const M: usize> Drop for RawTask<N, M> {
    fn drop(&mut self) {
        // SAFETY: the buffer holds the value this vtable was built for (nothing once finished),
        // and is never touched again.
        unsafe { (self.vtable.drop)(self.buf.as_mut_ptr().cast()) }
    }
}

/// A blocking closure, erased like a [`RawTask`], to be run once on a blocking thread.
///
/// Adapters receive one from [`Backend::spawn_blocking`](crate::adapter::Backend::spawn_blocking) and call
/// [`run`](Self::run) on their blocking pool. While it runs, [`current`](crate::current) answers
/// with the runtime that spawned it. A panic in the closure unwinds out of `run`; the pool must
/// catch it and report it through the join handle.
#[must_use = "a BlockingTask does nothing unless run"]
pub struct BlockingTask {
    task: MediumTask,
    runtime: Runtime,
}

impl fmt::Debug for BlockingTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingTask")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

/// A future that calls a closure on its first poll.
struct CallOnce<F>(Option<F>);

impl<F> Unpin for CallOnce<F> {}

impl<F: FnOnce() -> T, T> Future for CallOnce<F> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        let f = self.0.take().expect("CallOnce polled after completion");
        Poll::Ready(f())
    }
}

impl BlockingTask {
    pub(crate) fn new<F, T>(runtime: Runtime, f: F) -> Self
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        BlockingTask {
            task: RawTask::new(CallOnce(Some(f))),
            runtime,
        }
    }

    /// Runs the closure on the calling thread and returns its output.
    ///
    /// Call this on a thread of the blocking pool, never on an executor thread.
    pub fn run(self) -> Completed<MEDIUM_OUT> {
        let BlockingTask { task, runtime } = self;
        let _enter: EnterGuard = runtime.enter();
        let mut task = std::pin::pin!(task);
        let mut cx = Context::from_waker(Waker::noop());
        match task.as_mut().poll(&mut cx) {
            Poll::Ready(done) => done,
            // A `CallOnce` is always ready on its first poll.
            Poll::Pending => unreachable!("a blocking closure is ready on its first poll"),
        }
    }
}
