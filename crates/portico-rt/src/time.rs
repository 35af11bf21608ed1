//! Timers: [`Sleep`], [`Timeout`] and [`Elapsed`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// An adapter's timer, as
/// [`Backend::sleep_until`](crate::adapter::Backend::sleep_until) returns it.
pub trait RawSleep: Future<Output = ()> + Send + Sync {
    /// Moves the deadline; a timer that already fired fires again at the new deadline.
    fn reset(self: Pin<&mut Self>, deadline: Instant);
}

/// A future that completes at a deadline, from [`Runtime::sleep`](crate::Runtime::sleep) or
/// [`Runtime::sleep_until`](crate::Runtime::sleep_until).
///
/// Dropping it cancels the timer. It can be reset to a new deadline and awaited again, which is
/// how a keep-alive or idle timer is built without allocating a new one each time.
///
/// # Cancel safety
///
/// Cancel-safe: dropping a `Sleep` loses nothing but the wait.
pub struct Sleep {
    inner: Pin<Box<dyn RawSleep>>,
    deadline: Instant,
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Sleep {
    /// Wraps an adapter's timer that fires at `deadline`.
    pub fn new(inner: Pin<Box<dyn RawSleep>>, deadline: Instant) -> Self {
        Sleep { inner, deadline }
    }

    /// When the timer fires.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline, earlier or later; the timer can be awaited again afterwards.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.inner.as_mut().reset(deadline);
    }

    /// Gives the adapter's timer, for code that needs the boxed form (hyper's `Timer`).
    pub fn into_inner(self) -> Pin<Box<dyn RawSleep>> {
        self.inner
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.as_mut().poll(cx)
    }
}

pin_project_lite::pin_project! {
    /// A future with a time limit, from [`Runtime::timeout`](crate::Runtime::timeout).
    ///
    /// Gives `Ok(output)` if the future finishes first, `Err(Elapsed)` otherwise; then the
    /// inner future is dropped with the `Timeout`.
    ///
    /// # Cancel safety
    ///
    /// As cancel-safe as the inner future: on time-out, the inner future is dropped exactly as
    /// if the caller had dropped it.
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        fut: F,
        sleep: Sleep,
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("fut", &self.fut)
            .field("sleep", &self.sleep)
            .finish()
    }
}

impl<F> Timeout<F> {
    pub(crate) fn new(fut: F, sleep: Sleep) -> Self {
        Timeout { fut, sleep }
    }

    /// When the time limit expires.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.fut
    }

    /// Gives the inner future back, without the limit.
    pub fn into_inner(self) -> F {
        self.fut
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.fut.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`Timeout`] whose time ran out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Debug for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Elapsed")
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> Self {
        std::io::ErrorKind::TimedOut.into()
    }
}
