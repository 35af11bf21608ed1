//! The values that finished tasks produce, in fixed-size buffers.

use std::any::TypeId;
use std::fmt;
use std::mem::ManuallyDrop;

use super::{Words, drop_quietly, fits, store};

/// What the holder of a finished task's output may do with it.
struct OutputVTable {
    /// Moves the value into `*out`, an `Option<T>`, if `TypeId::of::<T>()` is the given id;
    /// returns whether it did.
    take: unsafe fn(*mut (), *mut (), TypeId) -> bool,
    /// Drops the value in place.
    drop: unsafe fn(*mut ()),
}

/// The output of a finished [`RawTask`](super::RawTask) or [`BlockingTask`](super::BlockingTask).
///
/// Adapters only move it from their task back to their join handle.
pub struct Completed<const N: usize> {
    buf: Words<N>,
    vtable: &'static OutputVTable,
}

// SAFETY: only `Send` outputs are stored.
unsafe impl<const N: usize> Send for Completed<N> {}

impl<const N: usize> fmt::Debug for Completed<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completed").finish_non_exhaustive()
    }
}

struct InlineOut<T>(T);
struct BoxedOut<T>(T);

impl<T: Send + 'static> InlineOut<T> {
    const VTABLE: OutputVTable = OutputVTable {
        take: Self::take,
        drop: Self::drop,
    };

    /// # Safety
    /// `src` holds a live `T`, not used afterwards if this returns `true`; `out` points to a
    /// valid `Option<U>` where `ty` is `TypeId::of::<U>()`.
    unsafe fn take(src: *mut (), out: *mut (), ty: TypeId) -> bool {
        if ty != TypeId::of::<T>() {
            return false;
        }
        // SAFETY: forwarded from the caller; `U` is `T`.
        unsafe { *out.cast::<Option<T>>() = Some(src.cast::<T>().read()) };
        true
    }

    /// # Safety
    /// `src` holds a live `T` that is not used afterwards.
    unsafe fn drop(src: *mut ()) {
        // SAFETY: forwarded from the caller.
        unsafe { drop_quietly(src.cast::<T>()) }
    }
}

impl<T: Send + 'static> BoxedOut<T> {
    const VTABLE: OutputVTable = OutputVTable {
        take: Self::take,
        drop: Self::drop,
    };

    /// # Safety
    /// As [`InlineOut::take`], with the value boxed.
    unsafe fn take(src: *mut (), out: *mut (), ty: TypeId) -> bool {
        if ty != TypeId::of::<T>() {
            return false;
        }
        // SAFETY: forwarded from the caller; `U` is `T`.
        unsafe { *out.cast::<Option<T>>() = Some(*src.cast::<Box<T>>().read()) };
        true
    }

    /// # Safety
    /// As [`InlineOut::drop`], with the value boxed.
    unsafe fn drop(src: *mut ()) {
        // SAFETY: forwarded from the caller.
        unsafe { drop_quietly(src.cast::<Box<T>>()) }
    }
}

impl<const N: usize> Completed<N> {
    pub(super) fn new<T: Send + 'static>(value: T) -> Self {
        if fits::<T, N>() {
            Completed {
                buf: store::<_, N>(value),
                vtable: &InlineOut::<T>::VTABLE,
            }
        } else {
            Completed {
                buf: store::<_, N>(Box::new(value)),
                vtable: &BoxedOut::<T>::VTABLE,
            }
        }
    }

    /// Moves the value into `out` if it is a `T` for the `T` that `ty` names.
    ///
    /// # Safety
    /// `out` points to a valid `Option<T>` where `ty` is `TypeId::of::<T>()`.
    pub(super) unsafe fn take_into(self, out: *mut (), ty: TypeId) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: the value is live; `out` and `ty` are forwarded from the caller.
        let taken = unsafe { (this.vtable.take)(this.buf.as_mut_ptr().cast(), out, ty) };
        if !taken {
            // An adapter that hands back the output of another task is a bug in the adapter;
            // the bytes are not reinterpreted. Drop the value normally before reporting it.
            ManuallyDrop::into_inner(this);
            panic!("portico-rt: an adapter returned the output of a different task");
        }
    }
}

impl<const N: usize> Drop for Completed<N> {
    fn drop(&mut self) {
        // SAFETY: the value is live; `take_into` never lets a taken value reach this drop.
        unsafe { (self.vtable.drop)(self.buf.as_mut_ptr().cast()) }
    }
}
