//! [`TaskGroup::as_completed`](super::TaskGroup::as_completed): children's values in the
//! order they finish.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use event_listener::{Event, EventListener};
use futures_core::Stream;
use slab::Slab;

use super::TaskGroup;
use super::handle::{self, ChildCancel, HandleEnd, HandleState, TaskEnded};
use super::shared::{OnEnd, Outcome};
use crate::cancel::Listening;

/// Children of a task group whose values are handed out as they finish, from
/// [`TaskGroup::as_completed`](super::TaskGroup::as_completed) (AnyIO 4.16's `as_completed`,
/// tokio's `JoinSet::join_next`).
///
/// [`spawn`](Self::spawn) starts a child in the group; [`next`](Self::next) (or the
/// [`Stream`] impl) gives the value of whichever child finished first and has not been handed
/// out yet, and `None` once every child spawned here has been. A child's `Err` or panic fails
/// the group, as any child's does, so the body reading the values is cancelled with it;
/// `next` then says [`TaskEnded::Failed`] for that child if it is still asked.
///
/// Dropping the collector cancels the children it started that have not finished, as
/// AnyIO's `as_completed` does when its block exits, and tokio's `JoinSet` does when dropped.
/// Unlike a `JoinSet`, the children still belong to the group: the group waits for them to
/// end, and their failures are its failures, not values handed to the reader.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
/// use portico_tasks::task_group;
///
/// let first = task_group(|tg| async move {
///     let mut mirrors = tg.as_completed();
///     for (name, delay) in [("slow", 500), ("fast", 1)] {
///         mirrors.spawn(async move {
///             portico_rt::current()?.sleep(Duration::from_millis(delay)).await;
///             Ok(name)
///         });
///     }
///     // The first answer wins; dropping `mirrors` cancels the slow one.
///     Ok::<_, std::io::Error>(mirrors.next().await.expect("two children").expect("no failure"))
/// })
/// .await
/// .unwrap();
/// assert_eq!(first, "fast");
/// # }
/// ```
///
/// # Cancel safety
///
/// [`next`](Self::next) is cancel-safe: a value is taken only when it is returned.
#[must_use = "children spawned here are cancelled when this is dropped"]
pub struct AsCompleted<T, E> {
    group: TaskGroup<E>,
    queue: Arc<Queue<T>>,
    listener: Option<EventListener>,
}

struct Queue<T> {
    state: Mutex<QueueState<T>>,
    /// Notified when a child ends.
    ended: Event,
}

struct QueueState<T> {
    /// Children not handed out yet, finished or not.
    children: Slab<Arc<HandleState<T>>>,
    /// The keys of children that have ended, in the order they ended.
    ended: VecDeque<usize>,
}

impl<T> Queue<T> {
    fn lock(&self) -> MutexGuard<'_, QueueState<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Records a child's end in its handle's state, then puts it in the queue.
struct CollectEnd<T> {
    handle: HandleEnd<T>,
    queue: Arc<Queue<T>>,
    key: usize,
}

impl<T: Send, E> OnEnd<T, E> for CollectEnd<T> {
    fn on_end(self, outcome: Outcome<E, T>) -> Outcome<E> {
        let outcome = self.handle.on_end(outcome);
        self.queue.lock().ended.push_back(self.key);
        self.queue.ended.notify(usize::MAX);
        outcome
    }

    fn own_cancel(&mut self) -> Option<(&ChildCancel, &mut Listening)> {
        OnEnd::<T, E>::own_cancel(&mut self.handle)
    }
}

impl<T, E> fmt::Debug for AsCompleted<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.queue.lock();
        f.debug_struct("AsCompleted")
            .field("children", &state.children.len())
            .field("finished", &state.ended.len())
            .finish()
    }
}

impl<T: Send + 'static, E: Send + 'static> AsCompleted<T, E> {
    pub(super) fn new(group: TaskGroup<E>) -> Self {
        AsCompleted {
            group,
            queue: Arc::new(Queue {
                state: Mutex::new(QueueState {
                    children: Slab::new(),
                    ended: VecDeque::new(),
                }),
                ended: Event::new(),
            }),
            listener: None,
        }
    }

    /// Starts `fut` as a child of the group, its value to be handed out by
    /// [`next`](Self::next) once it finishes.
    ///
    /// If the group is already cancelled, `fut` is dropped without running, and `next` says
    /// [`TaskEnded::Cancelled`] for it.
    ///
    /// # Panics
    ///
    /// Panics if the group has already returned, as
    /// [`TaskGroup::start_soon`](super::TaskGroup::start_soon) does.
    pub fn spawn<F>(&mut self, fut: F)
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let (state, handle) = handle::state();
        let key = self.queue.lock().children.insert(state);
        let on_end = CollectEnd {
            handle,
            queue: self.queue.clone(),
            key,
        };
        if let Err(err) = self.group.shared.spawn(fut, on_end) {
            self.queue.lock().children.remove(key);
            panic!("AsCompleted::spawn: {err}");
        }
    }
}

impl<T, E> AsCompleted<T, E> {
    /// Waits for the next child to finish and gives its value, or how it ended without one;
    /// `None` once every child spawned here has been handed out.
    pub async fn next(&mut self) -> Option<Result<T, TaskEnded>> {
        std::future::poll_fn(|cx| self.poll_ended(cx)).await
    }

    /// The value of a child that has finished and was not handed out yet, if there is one,
    /// without waiting.
    pub fn try_next(&mut self) -> Option<Result<T, TaskEnded>> {
        self.pop().flatten()
    }

    /// Children spawned here and not handed out yet, finished or not.
    pub fn len(&self) -> usize {
        self.queue.lock().children.len()
    }

    /// Whether every child spawned here has been handed out.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cancels every child spawned here that has not finished; the group goes on. `next`
    /// then hands each out as [`TaskEnded::Cancelled`] (or with its value, if it finished
    /// first).
    pub fn cancel_remaining(&self) {
        for (_, child) in self.queue.lock().children.iter() {
            child.cancel();
        }
    }

    /// `Some(Some(..))`: a finished child; `Some(None)`: none yet; `None`: no child left.
    fn pop(&self) -> Option<Option<Result<T, TaskEnded>>> {
        let mut state = self.queue.lock();
        match state.ended.pop_front() {
            Some(key) => {
                let child = state.children.remove(key);
                drop(state);
                let value = child
                    .take_value()
                    .ok_or_else(|| child.ended_without_value().unwrap_or(TaskEnded::Cancelled));
                Some(Some(value))
            }
            None if state.children.is_empty() => None,
            None => Some(None),
        }
    }

    fn poll_ended(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, TaskEnded>>> {
        loop {
            match self.pop() {
                Some(Some(value)) => {
                    self.listener = None;
                    return Poll::Ready(Some(value));
                }
                None => {
                    self.listener = None;
                    return Poll::Ready(None);
                }
                Some(None) => {}
            }
            match &mut self.listener {
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    self.listener = None;
                }
                // Listen, then look again: an end in between is not missed.
                None => self.listener = Some(self.queue.ended.listen()),
            }
        }
    }
}

impl<T, E> Stream for AsCompleted<T, E> {
    type Item = Result<T, TaskEnded>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_ended(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.len();
        (len, Some(len))
    }
}

impl<T, E> Drop for AsCompleted<T, E> {
    fn drop(&mut self) {
        self.cancel_remaining();
    }
}
