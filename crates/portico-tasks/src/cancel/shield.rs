//! [`shield`]: work that the cancellation of the code around it does not cut short.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{CancelScope, Scoped};

/// Runs `fut` so that cancelling the code around it does not cut it short: AnyIO's
/// `with CancelScope(shield=True): await cleanup()`, for cleanup that must finish.
///
/// `fut` runs in the caller's task, and may borrow. While it runs:
///
/// * no enclosing deadline applies to it ([`current_effective_deadline`] is `None` inside;
///   give it one of its own with [`move_on_after`] inside the shield, or with a
///   [`CancelScope`] that has a deadline and is [shielded](CancelScope::set_shield));
/// * an enclosing [`CancelScope`], timeout or task group that is cancelled waits for it: it
///   drops its future only once the shield has ended, so the cleanup is done before the
///   scope returns.
///
/// Rust has no async `finally`: await the shield where the cleanup belongs, after the work,
/// as in the example. If the whole task is dropped from outside (its join handle dropped, a
/// request future dropped by the server), nothing can wait, and the shield is dropped with
/// it; cleanup that must survive that belongs in a [`TaskTracker`](crate::TaskTracker).
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use portico_tasks::{move_on_after, shield};
///
/// let flushed = AtomicBool::new(false);
/// let flush_logs = async {
///     portico_rt::current().unwrap().sleep(Duration::from_millis(20)).await;
///     flushed.store(true, Ordering::SeqCst);
/// };
/// move_on_after(Duration::from_millis(1), async {
///     // The outer time runs out during the flush; the flush completes (within its own
///     // second), and only then does `move_on_after` return.
///     shield(move_on_after(Duration::from_secs(1), flush_logs)).await;
/// })
/// .await;
/// assert!(flushed.load(Ordering::SeqCst), "the scope waited for its shield");
/// # }
/// ```
///
/// [`current_effective_deadline`]: crate::current_effective_deadline
/// [`move_on_after`]: crate::move_on_after
pub fn shield<F: IntoFuture>(fut: F) -> Shielded<F::IntoFuture> {
    let scope = CancelScope::new();
    scope.set_shield(true);
    Shielded {
        scoped: scope.run(fut),
    }
}

pin_project_lite::pin_project! {
    /// Work shielded from the cancellation around it, from [`shield`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Shielded<F: Future> {
        #[pin]
        scoped: Scoped<F>,
    }
}

impl<F: Future> fmt::Debug for Shielded<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shielded").finish_non_exhaustive()
    }
}

impl<F: Future> Future for Shielded<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project().scoped.poll(cx) {
            Poll::Ready(Some(output)) => Poll::Ready(output),
            Poll::Ready(None) => unreachable!("a shield's own scope is never cancelled"),
            Poll::Pending => Poll::Pending,
        }
    }
}
