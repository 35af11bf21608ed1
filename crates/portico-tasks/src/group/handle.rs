//! [`TaskGroup::spawn`](super::TaskGroup::spawn): a child with a handle of its own.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;
use event_listener::{Event, EventListener};

use super::shared::{OnEnd, Outcome};
use crate::cancel::Listening;

/// A cancellation of one child alone: by its [`TaskHandle`], or by a [`start`] whose caller
/// stopped waiting before the child reported.
///
/// [`start`]: super::TaskGroup::start
#[derive(Default)]
pub(super) struct ChildCancel {
    cancelled: AtomicBool,
    event: Event,
}

impl ChildCancel {
    pub(super) fn cancel(&self) {
        if !self.cancelled.swap(true, Ordering::AcqRel) {
            self.event.notify(usize::MAX);
        }
    }

    pub(super) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    pub(super) fn listen(&self) -> EventListener {
        self.event.listen()
    }

    /// Whether this child is cancelled; if not, `cx` hears when it is.
    pub(super) fn poll(&self, listening: &mut Listening, cx: &mut Context<'_>) -> bool {
        listening
            .poll(|| self.listen(), || self.is_cancelled(), cx)
            .is_ready()
    }
}

/// A handle, and what tells it how its child ended.
pub(super) fn handle<T>() -> (TaskHandle<T>, HandleEnd<T>) {
    let (state, on_end) = state();
    (TaskHandle { state }, on_end)
}

/// The state a child shares with whoever reads its value, and what fills it when the child
/// ends.
pub(super) fn state<T>() -> (Arc<HandleState<T>>, HandleEnd<T>) {
    // One allocation per child: its handle's state, its own cancellation and its value.
    let state = Arc::new(HandleState {
        cancel: ChildCancel::default(),
        slot: Mutex::new(Slot::Running),
        ended: AtomicBool::new(false),
        handle: AtomicWaker::new(),
        listened: AtomicBool::new(false),
        done: Event::new(),
    });
    let on_end = HandleEnd {
        state: state.clone(),
        listener: Listening::default(),
    };
    (state, on_end)
}

/// What a child with a handle shares with it: its value or how it ended, and when.
pub(super) struct HandleState<T> {
    cancel: ChildCancel,
    slot: Mutex<Slot<T>>,
    /// Set once the child's future is dropped and its end recorded.
    ///
    /// `ended` and `listened` are accessed with `SeqCst`: a reader marks itself before it
    /// looks at `ended`, and the child looks at `listened` after it set `ended`, so one of the
    /// two always sees the other. `done` is notified only if someone listened: an event
    /// allocates its list on its first notification, which most children never need.
    ended: AtomicBool,
    /// The [`TaskHandle`]'s waker, its one reader: registered without an allocation, where
    /// listening to `done` makes two (a handle awaited before its child ends, as a `JoinSet`
    /// user awaits, waits once per child).
    handle: AtomicWaker,
    /// For the other readers, which may be many ([`SoonValue::wait`](super::SoonValue::wait)).
    listened: AtomicBool,
    done: Event,
}

impl<T> HandleState<T> {
    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the child's future has been dropped and its end recorded.
    pub(super) fn is_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Cancels this child alone.
    pub(super) fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Listens for the child's end; look at [`is_ended`](Self::is_ended) again after.
    pub(super) fn listen(&self) -> EventListener {
        self.listened.store(true, Ordering::SeqCst);
        self.done.listen()
    }

    /// Records that the child has ended, and wakes whoever listens.
    fn set_ended(&self) {
        self.ended.store(true, Ordering::SeqCst);
        self.handle.wake();
        if self.listened.load(Ordering::SeqCst) {
            self.done.notify(usize::MAX);
        }
    }

    /// Takes the child's value, if it returned one and nobody took it yet.
    pub(super) fn take_value(&self) -> Option<T> {
        let mut slot = self.lock();
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Returned(value) => Some(value),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// How the child ended without a value, once it has.
    pub(super) fn ended_without_value(&self) -> Option<TaskEnded> {
        match *self.lock() {
            Slot::Ended(ended) => Some(ended),
            _ => None,
        }
    }
}

enum Slot<T> {
    Running,
    Returned(T),
    Ended(TaskEnded),
    /// Returned, and the value handed to whoever awaited the handle.
    Taken,
}

/// Gives the handle its child's value, or how it ended without one, once the child's future
/// is dropped.
pub(super) struct HandleEnd<T> {
    state: Arc<HandleState<T>>,
    /// Registered once the child waits, so that cancelling it alone wakes it.
    listener: Listening,
}

impl<T: Send, E> OnEnd<T, E> for HandleEnd<T> {
    fn on_end(self, outcome: Outcome<E, T>) -> Outcome<E> {
        let (slot, outcome) = match outcome {
            Outcome::Done(value) => (Slot::Returned(value), Outcome::Done(())),
            Outcome::Failed(failure) => (Slot::Ended(TaskEnded::Failed), Outcome::Failed(failure)),
            Outcome::Cancelled => (Slot::Ended(TaskEnded::Cancelled), Outcome::Cancelled),
        };
        *self.state.lock() = slot;
        self.state.set_ended();
        outcome
    }

    fn own_cancel(&mut self) -> Option<(&ChildCancel, &mut Listening)> {
        Some((&self.state.cancel, &mut self.listener))
    }
}

/// A handle to one child of a task group, from [`TaskGroup::spawn`](super::TaskGroup::spawn)
/// (AnyIO's `TaskHandle`; tokio's `JoinHandle` and `AbortHandle` in one).
///
/// Await it for the child's value, [`cancel`](Self::cancel) the child alone, or ask whether
/// it has [`finished`](Self::is_finished). The child belongs to its group, not to the handle:
/// **dropping the handle leaves the child running**, and the group still waits for it. A
/// child's failure goes to its group (which fails, as for any child); the handle only says
/// that the child failed.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use portico_tasks::{TaskEnded, task_group};
///
/// task_group(|tg| async move {
///     let answer = tg.spawn(async { Ok(42) });
///     let stuck = tg.spawn(std::future::pending::<Result<(), std::io::Error>>());
///     assert_eq!(answer.await, Ok(42));
///     stuck.cancel(); // this child alone; the group goes on
///     assert_eq!(stuck.await, Err(TaskEnded::Cancelled));
///     Ok::<(), std::io::Error>(())
/// })
/// .await
/// .unwrap();
/// # }
/// ```
#[must_use = "a TaskHandle does nothing unless awaited; dropping it leaves the child running"]
pub struct TaskHandle<T> {
    state: Arc<HandleState<T>>,
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

impl<T> TaskHandle<T> {
    /// Cancels this child alone: its future is dropped at its next wait, and the group goes
    /// on (a cancelled child is not a failure). Awaiting the handle then gives
    /// [`TaskEnded::Cancelled`], unless the child had returned already.
    pub fn cancel(&self) {
        self.state.cancel();
    }

    /// Whether the child has ended (returned, failed or been cancelled) and its future has
    /// been dropped.
    pub fn is_finished(&self) -> bool {
        self.state.is_ended()
    }
}

impl<T> Future for TaskHandle<T> {
    type Output = Result<T, TaskEnded>;

    /// Waits for the child to end and gives its value.
    ///
    /// # Panics
    ///
    /// Panics if polled again after it gave the value.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.is_finished() {
            // Register, then look again: an end in between is not missed (the child sets
            // `ended` before it wakes).
            self.state.handle.register(cx.waker());
            if !self.is_finished() {
                return Poll::Pending;
            }
        }
        let mut slot = self.state.lock();
        Poll::Ready(match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Returned(value) => Ok(value),
            Slot::Ended(ended) => {
                *slot = Slot::Ended(ended);
                Err(ended)
            }
            Slot::Running | Slot::Taken => panic!("TaskHandle polled after it gave its value"),
        })
    }
}

/// How a child ended without a value, as its [`TaskHandle`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskEnded {
    /// The child returned an error or panicked; the failure went to its group.
    Failed,
    /// The child was cancelled (by its handle, or with its group) before it returned.
    Cancelled,
}

impl fmt::Display for TaskEnded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskEnded::Failed => "the task failed; its error went to its task group",
            TaskEnded::Cancelled => "the task was cancelled before it returned",
        })
    }
}

impl std::error::Error for TaskEnded {}
