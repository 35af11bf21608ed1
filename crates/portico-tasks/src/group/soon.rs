//! [`TaskGroup::soon`](super::TaskGroup::soon): a child's value, read after the group or
//! awaited.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use event_listener::EventListener;

use super::handle::{HandleState, TaskEnded};

/// The value of a child started with [`TaskGroup::soon`](super::TaskGroup::soon), readable
/// once the child has finished (Asyncer's `SoonValue`).
///
/// Read it after the group has returned ([`get`](Self::get), [`into_value`](Self::into_value)):
/// then it is there, unless the child was cancelled or failed. Reading it earlier is not a
/// panic but a [`PendingValue`] error. Or await it, from the group's body or a sibling:
/// [`wait`](Self::wait) by reference, `.await` on the value itself to take it.
///
/// The value needs to be `Send` only, not `Sync`: it moves from the child to this handle,
/// and is never shared between threads.
///
/// # Examples
///
/// Awaited inside the group, where Asyncer's must wait for the group's end:
///
/// ```
/// # async fn example() {
/// use std::cell::Cell;
/// use portico_tasks::task_group;
///
/// task_group(|tg| async move {
///     let count = tg.soon(async { Ok(Cell::new(2)) }); // `Cell` is not `Sync`
///     let count = count.await.expect("the child returned");
///     count.set(count.get() + 1);
///     assert_eq!(count.get(), 3);
///     Ok::<(), std::io::Error>(())
/// })
/// .await
/// .unwrap();
/// # }
/// ```
pub struct SoonValue<T> {
    state: Arc<HandleState<T>>,
    /// The value, once taken from the child's state.
    value: OnceLock<T>,
}

impl<T: fmt::Debug> fmt::Debug for SoonValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SoonValue").field(&self.get().ok()).finish()
    }
}

impl<T> SoonValue<T> {
    pub(super) fn new(state: Arc<HandleState<T>>) -> Self {
        SoonValue {
            state,
            value: OnceLock::new(),
        }
    }

    /// The value, if the child has ended with one; `Err` with how it ended otherwise; `None`
    /// while it runs.
    fn poll_value(&self) -> Option<Result<&T, TaskEnded>> {
        if let Some(value) = self.value.get() {
            return Some(Ok(value));
        }
        if !self.state.is_ended() {
            return None;
        }
        if let Some(ended) = self.state.ended_without_value() {
            return Some(Err(ended));
        }
        // Returned: the first reader moves the value here, and others wait for it.
        Some(Ok(self.value.get_or_init(|| {
            self.state.take_value().unwrap_or_else(taken)
        })))
    }

    /// Whether the child has ended with its value.
    pub fn is_ready(&self) -> bool {
        matches!(self.poll_value(), Some(Ok(_)))
    }

    /// The value, by reference.
    ///
    /// # Errors
    ///
    /// [`PendingValue`] if the child has not produced it: not yet, or never (it failed or was
    /// cancelled).
    pub fn get(&self) -> Result<&T, PendingValue> {
        match self.poll_value() {
            Some(Ok(value)) => Ok(value),
            _ => Err(PendingValue(())),
        }
    }

    /// The value, by value.
    ///
    /// # Errors
    ///
    /// [`PendingValue`] if the child has not produced it (yet), or is still finishing: call
    /// this after the group has returned, or [`wait`](Self::wait) first.
    pub fn into_value(self) -> Result<T, PendingValue> {
        if self.poll_value().is_some_and(|value| value.is_ok()) {
            return self.value.into_inner().ok_or(PendingValue(()));
        }
        Err(PendingValue(()))
    }

    /// Waits for the child to end and gives its value by reference.
    ///
    /// # Errors
    ///
    /// [`TaskEnded`] if the child failed (its failure goes to the group) or was cancelled.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: the value stays here until read.
    pub async fn wait(&self) -> Result<&T, TaskEnded> {
        let mut listener: Option<EventListener> = None;
        std::future::poll_fn(|cx| {
            loop {
                if let Some(value) = self.poll_value() {
                    return Poll::Ready(value.map(|_| ()));
                }
                match &mut listener {
                    Some(waiting) => {
                        if Pin::new(waiting).poll(cx).is_pending() {
                            return Poll::Pending;
                        }
                        listener = None;
                    }
                    // Listen, then look again: an end in between is not missed.
                    None => listener = Some(self.state.listen()),
                }
            }
        })
        .await?;
        self.poll_value().unwrap_or_else(|| unreachable!("ended"))
    }
}

fn taken<T>() -> T {
    unreachable!("only a SoonValue takes its child's value, and keeps it")
}

impl<T> IntoFuture for SoonValue<T> {
    type Output = Result<T, TaskEnded>;
    type IntoFuture = SoonFuture<T>;

    /// Waits for the child to end and gives its value.
    fn into_future(self) -> SoonFuture<T> {
        SoonFuture {
            value: Some(self),
            listener: None,
        }
    }
}

/// The future of awaiting a [`SoonValue`]: the child's value once it has ended, or
/// [`TaskEnded`] if it failed or was cancelled.
#[must_use = "futures do nothing unless awaited"]
pub struct SoonFuture<T> {
    value: Option<SoonValue<T>>,
    listener: Option<EventListener>,
}

// Nothing here is pinned in place: the value is only moved out, never borrowed across polls.
impl<T> Unpin for SoonFuture<T> {}

impl<T> fmt::Debug for SoonFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoonFuture").finish_non_exhaustive()
    }
}

impl<T> Future for SoonFuture<T> {
    type Output = Result<T, TaskEnded>;

    /// # Panics
    ///
    /// Panics if polled again after it gave its output.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let value = this
                .value
                .as_ref()
                .unwrap_or_else(|| panic!("SoonFuture polled after it gave its value"));
            match value.poll_value().map(|value| value.map(|_| ())) {
                Some(Ok(())) => {
                    this.listener = None;
                    let value = this.value.take().and_then(|v| v.value.into_inner());
                    return Poll::Ready(Ok(value.unwrap_or_else(taken)));
                }
                Some(Err(ended)) => {
                    this.listener = None;
                    this.value = None;
                    return Poll::Ready(Err(ended));
                }
                None => {}
            }
            match &mut this.listener {
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.listener = None;
                }
                None => this.listener = Some(value.state.listen()),
            }
        }
    }
}

/// The error of reading a [`SoonValue`] whose child has not finished with a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingValue(());

impl fmt::Display for PendingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the task has not produced its value yet: read a SoonValue after its task group has \
             returned, or await it",
        )
    }
}

impl std::error::Error for PendingValue {}
