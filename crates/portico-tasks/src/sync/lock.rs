//! [`Lock`]: async-lock's mutex, counted so that it can report its statistics.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::Waiting;

/// An async mutual-exclusion lock guarding a value (AnyIO's `Lock`, with the data inside, as
/// Rust has it). Only the holder of the guard can release it, by dropping the guard.
///
/// It is [`async_lock::Mutex`], with counts kept beside it for
/// [`statistics`](Self::statistics); the methods are the same, except `lock_arc`, which is
/// left out.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// let counter = portico_tasks::Lock::new(0);
/// *counter.lock().await += 1;
/// assert_eq!(*counter.lock().await, 1);
/// # }
/// ```
///
/// # Cancel safety
///
/// [`lock`](Self::lock) is cancel-safe: a dropped call holds nothing.
pub struct Lock<T: ?Sized> {
    locked: AtomicBool,
    waiting: AtomicUsize,
    inner: async_lock::Mutex<T>,
}

/// What a [`Lock`] is doing, from [`Lock::statistics`] (AnyIO's `LockStatistics`, without the
/// owner: a guard may move between tasks, so the lock does not know one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockStatistics {
    /// Whether a guard is held.
    pub locked: bool,
    /// Tasks (and threads, in [`Lock::lock_blocking`]) waiting for the lock.
    pub tasks_waiting: usize,
}

impl<T> Lock<T> {
    /// A lock guarding `value`, not held.
    pub const fn new(value: T) -> Self {
        Lock {
            locked: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            inner: async_lock::Mutex::new(value),
        }
    }

    /// The value, taking the lock apart.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T> From<T> for Lock<T> {
    fn from(value: T) -> Self {
        Lock::new(value)
    }
}

impl<T: ?Sized> Lock<T> {
    fn guard<'a>(&'a self, guard: async_lock::MutexGuard<'a, T>) -> LockGuard<'a, T> {
        self.locked.store(true, Ordering::Release);
        LockGuard { lock: self, guard }
    }

    /// Waits for the lock and takes it.
    pub async fn lock(&self) -> LockGuard<'_, T> {
        if let Some(guard) = self.try_lock() {
            return guard;
        }
        let _waiting = Waiting::new(&self.waiting);
        let guard = self.inner.lock().await;
        self.guard(guard)
    }

    /// Blocks the calling thread until it takes the lock. Never call it from async code.
    pub fn lock_blocking(&self) -> LockGuard<'_, T> {
        if let Some(guard) = self.try_lock() {
            return guard;
        }
        let _waiting = Waiting::new(&self.waiting);
        let guard = self.inner.lock_blocking();
        self.guard(guard)
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        self.inner.try_lock().map(|guard| self.guard(guard))
    }

    /// The value, through a unique borrow of the lock (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Whether it is held and how many wait for it (AnyIO's `Lock.statistics()`).
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn example() {
    /// let lock = portico_tasks::Lock::new(());
    /// let guard = lock.lock().await;
    /// assert!(lock.statistics().locked);
    /// drop(guard);
    /// assert!(!lock.statistics().locked);
    /// assert_eq!(lock.statistics().tasks_waiting, 0);
    /// # }
    /// ```
    pub fn statistics(&self) -> LockStatistics {
        LockStatistics {
            locked: self.locked.load(Ordering::Acquire),
            tasks_waiting: self.waiting.load(Ordering::Acquire),
        }
    }
}

impl<T: fmt::Debug + ?Sized> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The guard of a [`Lock`]: the lock is held until it is dropped.
#[clippy::has_significant_drop]
pub struct LockGuard<'a, T: ?Sized> {
    lock: &'a Lock<T>,
    guard: async_lock::MutexGuard<'a, T>,
}

impl<'a, T: ?Sized> LockGuard<'a, T> {
    /// The lock this guard holds.
    pub fn source(guard: &Self) -> &'a Lock<T> {
        guard.lock
    }
}

impl<T: ?Sized> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        // Before the inner guard lets the next holder in, which sets it again.
        self.lock.locked.store(false, Ordering::Release);
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: fmt::Debug + ?Sized> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display + ?Sized> fmt::Display for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
