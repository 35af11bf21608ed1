//! Adapters' join handles, type-erased.

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};

use super::{Completed, JOIN_WORDS, Panic, Words, fits, store};

/// An adapter's join handle for a [`RawTask`](super::RawTask) or [`BlockingTask`](super::BlockingTask).
///
/// # Contract
///
/// * Polling yields `Some(Ok(..))` with the task's [`Completed`] output, `Some(Err(payload))` if
///   polling the task (or running the closure) panicked, or `None` if the task was cancelled (by
///   dropping the handle or by runtime shutdown) before it finished.
/// * Dropping the handle cancels the task; a blocking closure that already started runs on.
/// * [`detach`](Self::detach) lets the task run to completion with nobody waiting for it.
pub trait NativeJoin<const N: usize>:
    Future<Output = Option<Result<Completed<N>, Panic>>> + Send + Unpin + 'static
{
    /// Lets the task run on without this handle.
    fn detach(self);
}

/// How a join handle finished.
enum Joined {
    /// The output was written.
    Value,
    /// The task panicked.
    Panicked(Panic),
    /// The task was cancelled before it finished.
    Cancelled,
}

struct JoinVTable {
    /// Polls the handle; when ready, the handle has been dropped and the buffer holds nothing.
    poll: unsafe fn(*mut (), &mut Context<'_>, *mut (), TypeId) -> Poll<Joined>,
    detach: unsafe fn(*mut ()),
    drop: unsafe fn(*mut ()),
}

/// A type-erased adapter join handle, stored without allocation when it is small.
///
/// Adapters build one with [`RawJoin::new`]; [`JoinHandle`](crate::JoinHandle) is its typed face.
pub struct RawJoin {
    buf: Words<JOIN_WORDS>,
    vtable: &'static JoinVTable,
}

// SAFETY: only `Send` handles are stored (`NativeJoin: Send`).
unsafe impl Send for RawJoin {}
// SAFETY: no method reads the stored handle through `&self`.
unsafe impl Sync for RawJoin {}

impl fmt::Debug for RawJoin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawJoin").finish_non_exhaustive()
    }
}

struct InlineJoin<H, const N: usize>(H);
struct BoxedJoin<H, const N: usize>(H);

impl<H: NativeJoin<N>, const N: usize> InlineJoin<H, N> {
    const VTABLE: JoinVTable = JoinVTable {
        poll: Self::poll,
        detach: Self::detach,
        drop: Self::drop,
    };

    /// # Safety
    /// `ptr` points to a live `H`, gone once this returns `Ready`; `out` and `ty` as in
    /// [`Completed::take_into`].
    unsafe fn poll(ptr: *mut (), cx: &mut Context<'_>, out: *mut (), ty: TypeId) -> Poll<Joined> {
        // SAFETY: the caller guarantees a live `H`, which is `Unpin`.
        let handle = unsafe { &mut *ptr.cast::<H>() };
        let output = match Pin::new(handle).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(output) => output,
        };
        // Release the task's allocation as soon as its output is out.
        // SAFETY: the handle is live; the caller treats the buffer as empty from now on.
        unsafe { ptr::drop_in_place(ptr.cast::<H>()) };
        Poll::Ready(match output {
            None => Joined::Cancelled,
            Some(Err(payload)) => Joined::Panicked(payload),
            Some(Ok(done)) => {
                // SAFETY: forwarded from the caller.
                unsafe { done.take_into(out, ty) };
                Joined::Value
            }
        })
    }

    /// # Safety
    /// `ptr` points to a live `H` that is not used afterwards.
    unsafe fn detach(ptr: *mut ()) {
        // SAFETY: forwarded from the caller.
        unsafe { ptr.cast::<H>().read() }.detach();
    }

    /// # Safety
    /// `ptr` points to a live `H` that is not used afterwards.
    unsafe fn drop(ptr: *mut ()) {
        // SAFETY: forwarded from the caller.
        unsafe { ptr::drop_in_place(ptr.cast::<H>()) }
    }
}

impl<H: NativeJoin<N>, const N: usize> BoxedJoin<H, N> {
    const VTABLE: JoinVTable = JoinVTable {
        poll: Self::poll,
        detach: Self::detach,
        drop: Self::drop,
    };

    /// # Safety
    /// As [`InlineJoin::poll`], with the handle boxed.
    unsafe fn poll(ptr: *mut (), cx: &mut Context<'_>, out: *mut (), ty: TypeId) -> Poll<Joined> {
        // SAFETY: the caller guarantees a live `Box<H>`; the heap value never moves.
        let handle: *mut H = unsafe { &mut **ptr.cast::<Box<H>>() };
        // SAFETY: forwarded from the caller.
        let poll = unsafe { InlineJoin::<H, N>::poll(handle.cast(), cx, out, ty) };
        if poll.is_ready() {
            // The handle was dropped in place; free its allocation without dropping it again.
            // SAFETY: the box is live and its contents were already dropped.
            unsafe { drop(ptr.cast::<Box<ManuallyDrop<H>>>().read()) };
        }
        poll
    }

    /// # Safety
    /// As [`InlineJoin::detach`], with the handle boxed.
    unsafe fn detach(ptr: *mut ()) {
        // SAFETY: forwarded from the caller.
        unsafe { ptr.cast::<Box<H>>().read() }.detach();
    }

    /// # Safety
    /// As [`InlineJoin::drop`], with the handle boxed.
    unsafe fn drop(ptr: *mut ()) {
        // SAFETY: forwarded from the caller.
        unsafe { ptr::drop_in_place(ptr.cast::<Box<H>>()) }
    }
}

/// The join handle of a task that never ran.
struct Never;

impl Never {
    const VTABLE: JoinVTable = JoinVTable {
        poll: |_, _, _, _| Poll::Ready(Joined::Cancelled),
        detach: |_| {},
        drop: |_| {},
    };
}

/// A join handle that has returned its output; the buffer holds nothing.
struct Done;

impl Done {
    const VTABLE: JoinVTable = JoinVTable {
        poll: |_, _, _, _| panic!("JoinHandle polled after completion"),
        detach: |_| {},
        drop: |_| {},
    };
}

impl RawJoin {
    /// Erases an adapter's join handle for a task of size class `N`.
    pub fn new<H: NativeJoin<N>, const N: usize>(handle: H) -> Self {
        if fits::<H, JOIN_WORDS>() {
            RawJoin {
                buf: store::<H, JOIN_WORDS>(handle),
                vtable: &InlineJoin::<H, N>::VTABLE,
            }
        } else {
            let boxed = Box::new(handle);
            RawJoin {
                buf: store::<Box<H>, JOIN_WORDS>(boxed),
                vtable: &BoxedJoin::<H, N>::VTABLE,
            }
        }
    }

    /// A handle whose task was cancelled before it ran, for adapters asked to spawn after
    /// shutdown.
    pub fn cancelled() -> Self {
        RawJoin {
            buf: [MaybeUninit::uninit(); JOIN_WORDS],
            vtable: &Never::VTABLE,
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
        let mut out: Option<T> = None;
        let ty = TypeId::of::<T>();
        // SAFETY: the buffer holds the live handle this vtable was built for; `out` is an
        // `Option<T>` and `ty` names exactly that `T`, as `take_into` checks.
        let poll = unsafe {
            (self.vtable.poll)(self.buf.as_mut_ptr().cast(), cx, (&raw mut out).cast(), ty)
        };
        let joined = match poll {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(joined) => joined,
        };
        self.vtable = &Done::VTABLE;
        Poll::Ready(match joined {
            Joined::Value => out.map(Ok),
            Joined::Panicked(payload) => Some(Err(payload)),
            Joined::Cancelled => None,
        })
    }

    /// Lets the task run on without this handle.
    pub(crate) fn detach(self) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: the handle is live and `this` is never dropped.
        unsafe { (this.vtable.detach)(this.buf.as_mut_ptr().cast()) }
    }
}

impl Drop for RawJoin {
    fn drop(&mut self) {
        // SAFETY: the handle is live (or the buffer is empty and the vtable ignores it); `detach`
        // never lets a detached handle reach this drop.
        unsafe { (self.vtable.drop)(self.buf.as_mut_ptr().cast()) }
    }
}
