//! Type-erased tasks that travel through [`Backend`](crate::adapter::Backend) without an extra allocation.
//!
//! [`Runtime::spawn`](crate::Runtime::spawn) is generic, but adapters sit behind `dyn Backend`, so
//! the future must cross a non-generic boundary. Boxing it costs one more allocation per task,
//! which measured about 13% on async-executor's spawn-and-join of trivial tasks. Instead the future
//! is moved into a small word-aligned buffer carried by value ([`RawTask`]); the adapter spawns that
//! buffer as an ordinary future, so the future ends up inside the runtime's own task allocation.
//! A future too large or too aligned for the buffer is boxed and the box goes in the buffer.
//!
//! The output travels back the same way, in a [`Completed`] buffer, and the adapter's join handle
//! is stored inline in a [`RawJoin`]. Each buffer comes with a table of functions monomorphised
//! for the concrete type it holds; that table is the only thing that reads the bytes.
//!
//! Three size classes exist ([`SMALL`], [`MEDIUM`] and [`LARGE`] words) because every byte of
//! buffer is paid by every task in the class, boxed or not: a single class large enough for
//! ordinary futures made trivial tasks measurably slower.
//!
//! The pieces: [`task`] holds futures and closures, [`output`] the values they produce, [`join`]
//! the adapters' join handles.

use std::any::Any;
use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

mod join;
mod output;
mod task;
#[cfg(test)]
mod tests;

pub use join::{NativeJoin, RawJoin};
pub use output::Completed;
pub use task::{BlockingTask, RawTask};

/// The payload of a caught panic, as [`std::panic::catch_unwind`] returns it.
pub type Panic = Box<dyn Any + Send + 'static>;

/// Words of inline storage for the future in the small size class (16 bytes on 64-bit targets):
/// an `async` block that captures a pointer or two.
pub const SMALL: usize = 2;
/// Words of inline storage for the output in the small size class.
pub const SMALL_OUT: usize = 1;

/// Words of inline storage for the future in the medium size class (64 bytes on 64-bit
/// targets).
pub const MEDIUM: usize = 8;
/// Words of inline storage for the output in the medium size class.
pub const MEDIUM_OUT: usize = 4;

/// Words of inline storage for the future in the large size class (256 bytes on 64-bit
/// targets).
pub const LARGE: usize = 32;
/// Words of inline storage for the output in the large size class.
pub const LARGE_OUT: usize = 16;

// The classes grow by four and were picked by measuring spawn-and-join: every byte of a class is
// paid by every task in it, so trivial tasks need a class of their own. Outputs get half the
// words of futures because they are usually smaller, and because tokio's task cell crosses a
// cache line, and gets measurably slower, once a small task's output passes 16 bytes.

/// A task of the small size class.
pub type SmallTask = RawTask<SMALL, SMALL_OUT>;
/// A task of the medium size class.
pub type MediumTask = RawTask<MEDIUM, MEDIUM_OUT>;
/// A task of the large size class.
pub type LargeTask = RawTask<LARGE, LARGE_OUT>;

/// Words of inline storage for an adapter's join handle; both tokio's and async-task's are one.
const JOIN_WORDS: usize = 1;

type Words<const N: usize> = [MaybeUninit<usize>; N];

/// Whether a `T` can live in `N` words of word-aligned storage.
const fn fits<T, const N: usize>() -> bool {
    size_of::<T>() <= N * size_of::<usize>() && align_of::<T>() <= align_of::<usize>()
}

/// Moves `value` into a fresh buffer. The caller must have checked [`fits`].
fn store<T, const N: usize>(value: T) -> Words<N> {
    debug_assert!(fits::<T, N>());
    let mut buf = [MaybeUninit::uninit(); N];
    // SAFETY: the buffer is word-aligned and `fits::<T, N>()` holds (checked by every caller), so
    // it is large and aligned enough for a `T`.
    unsafe { buf.as_mut_ptr().cast::<T>().write(value) };
    buf
}

/// Drops a value in place, catching a panic from its destructor.
///
/// A future whose destructor panics while its task is being cancelled must not unwind into the
/// executor's worker loop; the panic hook has already printed the message.
///
/// # Safety
/// `ptr` points to a live `T` that is not used afterwards.
unsafe fn drop_quietly<T>(ptr: *mut T) {
    // SAFETY: forwarded from the caller.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe { ptr::drop_in_place(ptr) }));
}
