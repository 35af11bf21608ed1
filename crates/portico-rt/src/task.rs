//! Join handles and join errors, the same on every adapter.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::adapter::RawJoin;

/// The payload of a caught panic, as [`std::panic::catch_unwind`] returns it.
pub type Panic = Box<dyn std::any::Any + Send + 'static>;

/// An owned permission to join a task: awaiting it gives the task's output.
///
/// Returned by [`Runtime::spawn`](crate::Runtime::spawn) and
/// [`Runtime::spawn_blocking`](crate::Runtime::spawn_blocking), with the same behaviour on every
/// adapter:
///
/// * **Dropping the handle cancels the task.** The runtime drops the task's future soon after (on
///   one of its own threads, not inside `drop`). A blocking closure that has already started
///   cannot be interrupted and runs to its end; one still queued never starts.
/// * [`detach`](Self::detach) lets the task run to completion with nobody waiting for it.
/// * Awaiting gives `Ok(value)`, or a [`JoinError`] that tells a panic (with its payload) from a
///   cancellation (the runtime shut down before the task finished).
///
/// # Cancel safety
///
/// Awaiting a `JoinHandle` is cancel-safe in the sense that matters: dropping the `.await` before
/// it completes drops the handle, which cancels the task.
///
/// # Examples
///
/// ```
/// # async fn example(rt: portico_rt::Runtime) {
/// let handle = rt.spawn(async { 40 + 2 });
/// assert_eq!(handle.await.unwrap(), 42);
///
/// // Keep a task running on its own:
/// rt.spawn(async { /* background work */ }).detach();
/// # }
/// ```
#[must_use = "dropping a JoinHandle cancels its task; call `.detach()` to let it run in the background"]
pub struct JoinHandle<T> {
    raw: RawJoin,
    _output: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

impl<T: Send + 'static> JoinHandle<T> {
    /// Wraps the handle an adapter returned for a task whose output is `T`.
    pub(crate) fn from_raw(raw: RawJoin) -> Self {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }
}

impl<T> JoinHandle<T> {
    /// Lets the task run on to completion without anyone waiting for it.
    ///
    /// A detached task that panics reports nothing but the panic hook's message; it never brings
    /// down the thread it ran on.
    pub fn detach(self) {
        self.raw.detach();
    }
}

impl<T: Send + 'static> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let output = match self.raw.poll_output::<T>(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(output) => output,
        };
        Poll::Ready(match output {
            Some(Ok(value)) => Ok(value),
            Some(Err(payload)) => Err(JoinError {
                repr: Repr::Panicked(payload),
            }),
            None => Err(JoinError {
                repr: Repr::Cancelled,
            }),
        })
    }
}

/// Why a task gave no value: it panicked, or it was cancelled.
///
/// # Examples
///
/// ```
/// # async fn example(rt: portico_rt::Runtime) {
/// let err = rt.spawn(async { panic!("boom") }).await.unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.panic_message(), Some("boom"));
/// # }
/// ```
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panicked(Panic),
}

impl JoinError {
    /// Whether the task was cancelled before it finished (the runtime shut down).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked(_))
    }

    /// The panic message, when the task panicked with a string (as `panic!` does).
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked(payload) => panic_message(payload.as_ref()),
            Repr::Cancelled => None,
        }
    }

    /// The panic payload, to inspect or to re-raise with [`std::panic::resume_unwind`].
    ///
    /// # Errors
    ///
    /// Gives the error back if the task was cancelled rather than panicking.
    pub fn try_into_panic(self) -> Result<Panic, JoinError> {
        match self.repr {
            Repr::Panicked(payload) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }
}

/// The message of a panic payload, if it is a string.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::Panicked(_) => f
                .debug_tuple("JoinError::Panicked")
                .field(&self.panic_message())
                .finish(),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("task was cancelled"),
            (Repr::Panicked(_), Some(msg)) => write!(f, "task panicked: {msg}"),
            (Repr::Panicked(_), None) => f.write_str("task panicked"),
        }
    }
}

impl std::error::Error for JoinError {}
