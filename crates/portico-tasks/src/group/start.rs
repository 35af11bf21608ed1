//! [`TaskGroup::start`](super::TaskGroup::start): a child that reports readiness.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;

use event_listener::{Event, EventListener};

use super::GroupClosed;
use super::handle::ChildCancel;
use super::shared::{OnEnd, Outcome, Shared};
use crate::cancel::Listening;
use crate::cancel::tree::Busy;
use crate::failure::Failure;

pub(super) async fn start<V, E, F, Fut>(shared: &Arc<Shared<E>>, f: F) -> Result<V, StartError<E>>
where
    V: Send + 'static,
    E: Send + 'static,
    F: FnOnce(TaskStatus<V>) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
{
    let slot: Arc<StartSlot<V, E>> = Arc::new(StartSlot::default());
    let status = TaskStatus { slot: slot.clone() };
    let on_end = StartEnd {
        slot: slot.clone(),
        listener: Listening::default(),
    };
    if let Err(GroupClosed(())) = shared.spawn(f(status), on_end) {
        return Err(StartError::Cancelled);
    }
    // Until the child reports, the caller's waiting and the child go together.
    let unless_reported = CancelUnlessReported { slot: slot.clone() };
    // A canceller around this call waits for it: once cancelled, it cancels the child and
    // waits for the child to end, as AnyIO's `start` does.
    let busy = Busy::enter();
    let mut cancelling = false;
    let mut listener: Option<EventListener> = None;
    let mut watch = Vec::new();
    let outcome = std::future::poll_fn(|cx| {
        if !cancelling && busy.poll_cancel_requested(&mut watch, cx) {
            cancelling = true;
            slot.cancel.cancel();
        }
        loop {
            // Listen before looking, so that a `started` in between is not missed.
            let waiting = listener.get_or_insert_with(|| slot.event.listen());
            if let Some(outcome) = slot.take_outcome() {
                return Poll::Ready(outcome);
            }
            if Pin::new(waiting).poll(cx).is_pending() {
                return Poll::Pending;
            }
            listener = None;
        }
    })
    .await;
    match outcome {
        Ok(value) => Ok(value),
        Err(_) if cancelling => {
            // The child has ended. Like AnyIO's `start`, which raises the cancellation, this
            // gives nothing back: the canceller, no longer waiting, drops it.
            drop((busy, unless_reported));
            std::future::pending().await
        }
        Err(err) => Err(err),
    }
}

/// Cancels a child that has not reported yet when its `start` stops waiting for it.
struct CancelUnlessReported<V, E> {
    slot: Arc<StartSlot<V, E>>,
}

impl<V, E> Drop for CancelUnlessReported<V, E> {
    fn drop(&mut self) {
        if matches!(*self.slot.lock(), StartState::Waiting) {
            self.slot.cancel.cancel();
        }
    }
}

enum StartState<V, E> {
    Waiting,
    Started(V),
    Ended(StartError<E>),
    Taken,
}

struct StartSlot<V, E> {
    state: Mutex<StartState<V, E>>,
    event: Event,
    /// The child's own cancellation, until it reports.
    cancel: ChildCancel,
}

/// Before `started`, how the child ended is the caller's business, not the group's.
struct StartEnd<V, E> {
    slot: Arc<StartSlot<V, E>>,
    /// Registered once the child waits, so that cancelling it alone wakes it.
    listener: Listening,
}

impl<V: Send, E: Send> OnEnd<(), E> for StartEnd<V, E> {
    fn on_end(self, outcome: Outcome<E>) -> Outcome<E> {
        let mut state = self.slot.lock();
        if !matches!(*state, StartState::Waiting) {
            return outcome;
        }
        *state = StartState::Ended(match outcome {
            Outcome::Done(()) => StartError::NotStarted,
            Outcome::Failed(failure) => StartError::Failed(failure),
            Outcome::Cancelled => StartError::Cancelled,
        });
        drop(state);
        self.slot.event.notify(usize::MAX);
        Outcome::Done(())
    }

    fn own_cancel(&mut self) -> Option<(&ChildCancel, &mut Listening)> {
        Some((&self.slot.cancel, &mut self.listener))
    }
}

impl<V, E> Default for StartSlot<V, E> {
    fn default() -> Self {
        StartSlot {
            state: Mutex::new(StartState::Waiting),
            event: Event::new(),
            cancel: ChildCancel::default(),
        }
    }
}

impl<V, E> StartSlot<V, E> {
    fn lock(&self) -> MutexGuard<'_, StartState<V, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The child's report or end, once there is one; taken once.
    fn take_outcome(&self) -> Option<Result<V, StartError<E>>> {
        let mut state = self.lock();
        if matches!(*state, StartState::Waiting) {
            return None;
        }
        match std::mem::replace(&mut *state, StartState::Taken) {
            StartState::Started(value) => Some(Ok(value)),
            StartState::Ended(err) => Some(Err(err)),
            StartState::Waiting | StartState::Taken => {
                unreachable!("start() takes the outcome once")
            }
        }
    }
}

/// Given to a child started with [`TaskGroup::start`](super::TaskGroup::start), to report that it is ready.
pub struct TaskStatus<V> {
    slot: Arc<dyn Started<V>>,
}

/// Where [`TaskStatus::started`] delivers its value.
pub(crate) trait Started<V>: Send + Sync {
    fn started(&self, value: V);
}

impl<V: Send, E: Send> Started<V> for StartSlot<V, E> {
    fn started(&self, value: V) {
        let mut state = self.lock();
        if matches!(*state, StartState::Waiting) {
            *state = StartState::Started(value);
            drop(state);
            self.event.notify(usize::MAX);
        }
    }
}

impl<V> fmt::Debug for TaskStatus<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskStatus").finish_non_exhaustive()
    }
}

impl<V> TaskStatus<V> {
    pub(crate) fn new(slot: Arc<dyn Started<V>>) -> Self {
        TaskStatus { slot }
    }

    /// Reports that the child is ready, handing `value` to the caller of
    /// [`TaskGroup::start`](super::TaskGroup::start).
    pub fn started(self, value: V) {
        self.slot.started(value);
    }
}

/// Why [`TaskGroup::start`](super::TaskGroup::start) gave no value.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError<E> {
    /// The child ended without calling [`TaskStatus::started`].
    NotStarted,
    /// The child failed (or panicked) before calling it.
    Failed(Failure<E>),
    /// The group was cancelled before the child called it.
    Cancelled,
}

impl<E: fmt::Display> fmt::Display for StartError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NotStarted => {
                f.write_str("the child ended without calling TaskStatus::started")
            }
            StartError::Failed(failure) => write!(f, "the child failed before starting: {failure}"),
            StartError::Cancelled => {
                f.write_str("the group was cancelled before the child started")
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for StartError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Failed(Failure::Error(err)) => Some(err),
            StartError::Failed(Failure::Panic(panic)) => Some(panic),
            _ => None,
        }
    }
}
