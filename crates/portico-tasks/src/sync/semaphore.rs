//! [`Semaphore`]: async-lock's semaphore, counted so that it can report its statistics.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Waiting;

/// A permit of a [`Semaphore`], given back when dropped (async-lock's).
pub use async_lock::SemaphoreGuard;

/// An async counting semaphore (AnyIO's `Semaphore`); one task may hold several permits.
///
/// It is [`async_lock::Semaphore`], with a count of waiters kept beside it for
/// [`statistics`](Self::statistics); the methods are the same.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use portico_tasks::Semaphore;
///
/// let slots = Semaphore::new(2);
/// let first = slots.acquire().await;
/// let second = slots.try_acquire().expect("a second permit");
/// assert!(slots.try_acquire().is_none());
/// assert_eq!(slots.statistics().available_permits, 0);
/// # drop((first, second));
/// # }
/// ```
///
/// # Cancel safety
///
/// `acquire` and `acquire_arc` are cancel-safe: a dropped call holds nothing.
pub struct Semaphore {
    waiting: AtomicUsize,
    inner: async_lock::Semaphore,
}

/// What a [`Semaphore`] is doing, from [`Semaphore::statistics`] (AnyIO's
/// `SemaphoreStatistics`, with the free permits too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SemaphoreStatistics {
    /// Tasks (and threads, in the `_blocking` calls) waiting for a permit.
    pub tasks_waiting: usize,
    /// Permits free now.
    pub available_permits: usize,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .field("tasks_waiting", &self.waiting.load(Ordering::Acquire))
            .finish()
    }
}

impl Semaphore {
    /// A semaphore with `n` permits.
    pub const fn new(n: usize) -> Self {
        Semaphore {
            waiting: AtomicUsize::new(0),
            inner: async_lock::Semaphore::new(n),
        }
    }

    /// Takes a permit if one is free.
    pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
        self.inner.try_acquire()
    }

    /// Waits for a permit and takes it.
    pub async fn acquire(&self) -> SemaphoreGuard<'_> {
        if let Some(guard) = self.inner.try_acquire() {
            return guard;
        }
        let _waiting = Waiting::new(&self.waiting);
        self.inner.acquire().await
    }

    /// Blocks the calling thread until it takes a permit. Never call it from async code.
    pub fn acquire_blocking(&self) -> SemaphoreGuard<'_> {
        if let Some(guard) = self.inner.try_acquire() {
            return guard;
        }
        let _waiting = Waiting::new(&self.waiting);
        self.inner.acquire_blocking()
    }

    /// Takes a permit held through an `Arc`, if one is free.
    pub fn try_acquire_arc(self: &Arc<Self>) -> Option<SemaphoreGuardArc> {
        let guard = self.inner.try_acquire()?;
        Some(SemaphoreGuardArc::new(self, guard))
    }

    /// Waits for a permit held through an `Arc`, so that it can move into another task or
    /// structure. The future holds its own clone of the `Arc`.
    pub fn acquire_arc(self: &Arc<Self>) -> impl Future<Output = SemaphoreGuardArc> + 'static {
        let this = self.clone();
        async move {
            let guard = this.acquire().await;
            SemaphoreGuardArc::new(&this, guard)
        }
    }

    /// Blocks the calling thread until it takes a permit held through an `Arc`.
    pub fn acquire_arc_blocking(self: &Arc<Self>) -> SemaphoreGuardArc {
        let guard = self.acquire_blocking();
        SemaphoreGuardArc::new(self, guard)
    }

    /// Adds `n` permits, waking as many waiters.
    pub fn add_permits(&self, n: usize) {
        self.inner.add_permits(n);
    }

    /// Permits free now.
    pub fn available_permits(&self) -> usize {
        self.inner.available_permits()
    }

    /// How many wait for a permit, and how many are free (AnyIO's
    /// `Semaphore.statistics()`).
    pub fn statistics(&self) -> SemaphoreStatistics {
        SemaphoreStatistics {
            tasks_waiting: self.waiting.load(Ordering::Acquire),
            available_permits: self.available_permits(),
        }
    }
}

/// A permit of a [`Semaphore`] held through an `Arc` (from [`Semaphore::acquire_arc`]), so
/// that it can move into another task or structure; given back when dropped.
#[clippy::has_significant_drop]
pub struct SemaphoreGuardArc {
    /// `None` once forgotten.
    semaphore: Option<Arc<Semaphore>>,
}

impl SemaphoreGuardArc {
    fn new(semaphore: &Arc<Semaphore>, guard: SemaphoreGuard<'_>) -> Self {
        // The permit is given back by this guard's drop from now on.
        guard.forget();
        SemaphoreGuardArc {
            semaphore: Some(semaphore.clone()),
        }
    }

    /// Drops the guard without giving its permit back.
    pub fn forget(mut self) {
        self.semaphore = None;
    }
}

impl fmt::Debug for SemaphoreGuardArc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuardArc").finish_non_exhaustive()
    }
}

impl Drop for SemaphoreGuardArc {
    fn drop(&mut self) {
        if let Some(semaphore) = self.semaphore.take() {
            semaphore.inner.add_permits(1);
        }
    }
}
