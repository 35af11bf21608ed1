//! Synchronization primitives that work on any runtime: [`Event`], [`Lock`], [`Semaphore`] and
//! [`Condition`]. ([`CapacityLimiter`](crate::CapacityLimiter) has its own module.)
//!
//! `Lock` and `Semaphore` are async-lock's, which are runtime-neutral already, under AnyIO's
//! names and with counts kept beside them for their statistics.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use event_listener::IntoNotification;

mod lock;
mod semaphore;

pub use lock::{Lock, LockGuard, LockStatistics};
pub use semaphore::{Semaphore, SemaphoreGuard, SemaphoreGuardArc, SemaphoreStatistics};

/// Counts a waiter until it stops waiting, however it stops.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A flag that tasks wait on until it is set; once set, it stays set (AnyIO's `Event`, which
/// is not reusable either: make a new one).
///
/// Setting it is a plain method that works from any thread, async or not.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::sync::Arc;
/// use portico_tasks::Event;
///
/// let ready = Arc::new(Event::new());
/// let rt = portico_rt::current().unwrap();
/// rt.spawn({
///     let ready = ready.clone();
///     async move { ready.set() }
/// })
/// .detach();
/// ready.wait().await;
/// assert!(ready.is_set());
/// # }
/// ```
///
/// # Cancel safety
///
/// Cancel-safe: a dropped `wait` misses nothing.
#[derive(Default)]
pub struct Event {
    set: AtomicBool,
    event: event_listener::Event,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

impl Event {
    /// An event that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the event and wakes every waiter.
    pub fn set(&self) {
        if !self.set.swap(true, Ordering::AcqRel) {
            self.event.notify(usize::MAX);
        }
    }

    /// Whether the event is set.
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// How many tasks wait for it now (AnyIO's `Event.statistics()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let ready = portico_tasks::Event::new();
    /// assert_eq!(ready.statistics().tasks_waiting, 0);
    /// ```
    pub fn statistics(&self) -> EventStatistics {
        EventStatistics {
            tasks_waiting: self.event.total_listeners(),
        }
    }

    /// Waits until the event is set (at once if it is).
    pub async fn wait(&self) {
        loop {
            if self.is_set() {
                return;
            }
            let listener = self.event.listen();
            if self.is_set() {
                return;
            }
            listener.await;
        }
    }
}

/// Lets tasks wait, while holding a [`Lock`], until another task tells them that something
/// changed (AnyIO's `Condition`; a condition variable).
///
/// [`wait`](Self::wait) gives the lock up while waiting and takes it back before returning. As
/// with every condition variable, check the condition in a loop: a wake-up says that something
/// changed, not that what you wait for is true.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::sync::Arc;
/// use portico_tasks::{Condition, Lock};
///
/// let queue = Arc::new((Lock::new(Vec::<u32>::new()), Condition::new()));
/// let rt = portico_rt::current().unwrap();
/// rt.spawn({
///     let queue = queue.clone();
///     async move {
///         queue.0.lock().await.push(7);
///         queue.1.notify(1);
///     }
/// })
/// .detach();
///
/// let (lock, ready) = &*queue;
/// let mut items = lock.lock().await;
/// while items.is_empty() {
///     items = ready.wait(items).await;
/// }
/// assert_eq!(items.pop(), Some(7));
/// # }
/// ```
///
/// # Cancel safety
///
/// If `wait` is dropped while waiting, the guard it was given has been released already; a
/// notification meant for it goes on to another waiter, as AnyIO's does.
#[derive(Default)]
pub struct Condition {
    event: event_listener::Event,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").finish_non_exhaustive()
    }
}

impl Condition {
    /// A condition with no waiters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Releases `guard`, waits for a notification, and takes the lock back.
    pub async fn wait<'a, T>(&self, guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        let lock = LockGuard::source(&guard);
        // Listen before releasing the lock, so that a notification sent right after is seen.
        let listener = self.event.listen();
        drop(guard);
        listener.await;
        // Notified: if this wait is cancelled before it has the lock back, the notification
        // goes on to another waiter instead of being lost (as AnyIO's does). (A listener
        // dropped before it saw its notification passes it on by itself.)
        let pass_on = PassOn(Some(&self.event));
        let guard = lock.lock().await;
        pass_on.disarm();
        guard
    }

    /// Wakes up to `n` waiters, beyond those woken already: two calls of `notify(1)` in a row
    /// wake two waiters, as AnyIO's do.
    pub fn notify(&self, n: usize) {
        self.event.notify(n.additional());
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.event.notify(usize::MAX);
    }

    /// How many tasks wait for a notification now (AnyIO's `Condition.statistics()`, without
    /// the lock's, which is not the condition's here).
    pub fn statistics(&self) -> ConditionStatistics {
        ConditionStatistics {
            tasks_waiting: self.event.total_listeners(),
        }
    }
}

/// Hands a notification on to another waiter of a condition when dropped armed.
struct PassOn<'a>(Option<&'a event_listener::Event>);

impl PassOn<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if let Some(event) = self.0 {
            event.notify(1.additional());
        }
    }
}

/// What [`Event::statistics`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventStatistics {
    /// Tasks waiting for the event to be set.
    pub tasks_waiting: usize,
}

/// What [`Condition::statistics`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConditionStatistics {
    /// Tasks waiting for a notification.
    pub tasks_waiting: usize,
}
