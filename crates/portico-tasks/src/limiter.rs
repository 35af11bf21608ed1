//! [`CapacityLimiter`]: at most N borrowers at once, one token each.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use event_listener::Event;

/// Limits how many borrowers use a resource at once, one token per borrower (AnyIO's
/// `CapacityLimiter`): the thread pool of [`to_thread`](crate::to_thread), a pool of database
/// connections, a rate of outgoing calls.
///
/// Unlike a semaphore, a borrower holds at most one token: acquiring a second one on behalf of
/// the same borrower is an error, not a deadlock waiting to happen. The total can change at run
/// time; raising it lets waiters in at once, lowering it lets current borrowers finish.
/// Clones share the limiter.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use portico_tasks::CapacityLimiter;
///
/// let limiter = CapacityLimiter::new(2);
/// let a = limiter.acquire().await;
/// let b = limiter.acquire().await;
/// assert!(limiter.try_acquire().is_err(), "both tokens are borrowed");
/// drop(a);
/// let c = limiter.try_acquire().expect("a token came back");
/// assert_eq!(limiter.statistics().borrowed_tokens, 2);
/// # drop((b, c));
/// # }
/// ```
///
/// # Cancel safety
///
/// Cancel-safe: a dropped `acquire` holds nothing, and a dropped [`LimiterPermit`] gives its
/// token back.
#[derive(Clone)]
pub struct CapacityLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    released: Event,
}

struct State {
    total: usize,
    borrowers: HashSet<Borrower>,
    waiting: usize,
}

/// Who holds a token: a value of the caller's choosing, or a fresh one per plain `acquire`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Borrower(u64);

impl Borrower {
    /// A borrower no other call of this function returns.
    pub fn unique() -> Self {
        // Explicit borrowers come from `From<u64>` with the top bit clear; these have it set.
        static NEXT: AtomicU64 = AtomicU64::new(1 << 63);
        Borrower(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl From<u64> for Borrower {
    /// A borrower named by the caller (the top bit is cleared, so that it never collides with
    /// [`Borrower::unique`]).
    fn from(id: u64) -> Self {
        Borrower(id & !(1 << 63))
    }
}

/// A borrowed token; dropping it gives the token back.
#[must_use = "the token is given back as soon as the permit is dropped"]
pub struct LimiterPermit {
    limiter: CapacityLimiter,
    borrower: Borrower,
}

impl fmt::Debug for LimiterPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LimiterPermit")
            .field("borrower", &self.borrower)
            .finish()
    }
}

impl Drop for LimiterPermit {
    fn drop(&mut self) {
        let mut state = self.limiter.lock();
        state.borrowers.remove(&self.borrower);
        let free = state.borrowers.len() < state.total;
        drop(state);
        if free {
            self.limiter.inner.released.notify(1);
        }
    }
}

/// What a [`CapacityLimiter`] is doing, from [`CapacityLimiter::statistics`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LimiterStatistics {
    /// Tokens in all.
    pub total_tokens: usize,
    /// Tokens borrowed now (may exceed the total right after it was lowered).
    pub borrowed_tokens: usize,
    /// Borrowers waiting for a token.
    pub tasks_waiting: usize,
    /// Who holds the borrowed tokens.
    pub borrowers: Vec<Borrower>,
}

/// The error of acquiring a token without waiting when none is free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WouldBlock(());

impl fmt::Display for WouldBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block")
    }
}

impl std::error::Error for WouldBlock {}

/// The error of acquiring a second token for a borrower that holds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlreadyBorrowing(Borrower);

impl fmt::Display for AlreadyBorrowing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} already holds one of this limiter's tokens", self.0)
    }
}

impl std::error::Error for AlreadyBorrowing {}

impl fmt::Debug for CapacityLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.statistics();
        f.debug_struct("CapacityLimiter")
            .field("total_tokens", &stats.total_tokens)
            .field("borrowed_tokens", &stats.borrowed_tokens)
            .finish()
    }
}

impl CapacityLimiter {
    /// A limiter with `total_tokens` tokens.
    ///
    /// # Panics
    ///
    /// Panics if `total_tokens` is zero: nothing could ever run.
    pub fn new(total_tokens: usize) -> Self {
        assert!(
            total_tokens > 0,
            "a CapacityLimiter needs at least one token"
        );
        CapacityLimiter {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    total: total_tokens,
                    borrowers: HashSet::new(),
                    waiting: 0,
                }),
                released: Event::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a token, for a borrower of its own.
    pub async fn acquire(&self) -> LimiterPermit {
        match self.acquire_on_behalf_of(Borrower::unique()).await {
            Ok(permit) => permit,
            Err(AlreadyBorrowing(_)) => unreachable!("a unique borrower holds nothing yet"),
        }
    }

    /// Waits for a token on behalf of `borrower`.
    ///
    /// # Errors
    ///
    /// [`AlreadyBorrowing`] if `borrower` already holds a token of this limiter.
    pub async fn acquire_on_behalf_of(
        &self,
        borrower: impl Into<Borrower>,
    ) -> Result<LimiterPermit, AlreadyBorrowing> {
        let borrower = borrower.into();
        let mut waiting = Waiting {
            limiter: self,
            counted: false,
        };
        loop {
            let listener = {
                let mut state = self.lock();
                match self.take(&mut state, borrower) {
                    Ok(Some(permit)) => {
                        if waiting.counted {
                            state.waiting -= 1;
                            waiting.counted = false;
                        }
                        return Ok(permit);
                    }
                    Err(err) => return Err(err),
                    Ok(None) => {}
                }
                if !waiting.counted {
                    state.waiting += 1;
                    waiting.counted = true;
                }
                // Registered under the lock: a token given back after this wakes it.
                self.inner.released.listen()
            };
            listener.await;
        }
    }

    /// Takes a token now, or fails with [`WouldBlock`].
    ///
    /// # Errors
    ///
    /// [`WouldBlock`] when every token is borrowed.
    pub fn try_acquire(&self) -> Result<LimiterPermit, WouldBlock> {
        let mut state = self.lock();
        match self.take(&mut state, Borrower::unique()) {
            Ok(Some(permit)) => Ok(permit),
            _ => Err(WouldBlock(())),
        }
    }

    fn take(
        &self,
        state: &mut State,
        borrower: Borrower,
    ) -> Result<Option<LimiterPermit>, AlreadyBorrowing> {
        if state.borrowers.contains(&borrower) {
            return Err(AlreadyBorrowing(borrower));
        }
        if state.borrowers.len() >= state.total {
            return Ok(None);
        }
        state.borrowers.insert(borrower);
        Ok(Some(LimiterPermit {
            limiter: self.clone(),
            borrower,
        }))
    }

    /// Tokens in all.
    pub fn total_tokens(&self) -> usize {
        self.lock().total
    }

    /// Changes the number of tokens. Raising it lets waiting borrowers in at once; lowering it
    /// takes effect as borrowers give tokens back.
    ///
    /// # Panics
    ///
    /// Panics if `total_tokens` is zero.
    pub fn set_total_tokens(&self, total_tokens: usize) {
        assert!(
            total_tokens > 0,
            "a CapacityLimiter needs at least one token"
        );
        let mut state = self.lock();
        let more = total_tokens.saturating_sub(state.total);
        state.total = total_tokens;
        drop(state);
        if more > 0 {
            self.inner.released.notify(more);
        }
    }

    /// Tokens borrowed now.
    pub fn borrowed_tokens(&self) -> usize {
        self.lock().borrowers.len()
    }

    /// Tokens free now.
    pub fn available_tokens(&self) -> usize {
        let state = self.lock();
        state.total.saturating_sub(state.borrowers.len())
    }

    /// Totals, borrowers and waiters, taken together.
    pub fn statistics(&self) -> LimiterStatistics {
        let state = self.lock();
        LimiterStatistics {
            total_tokens: state.total,
            borrowed_tokens: state.borrowers.len(),
            tasks_waiting: state.waiting,
            borrowers: state.borrowers.iter().copied().collect(),
        }
    }
}

/// Counts a waiting acquire until it ends, however it ends.
struct Waiting<'a> {
    limiter: &'a CapacityLimiter,
    counted: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        // Cancelled while waiting.
        let mut state = self.limiter.lock();
        state.waiting -= 1;
        let free = state.borrowers.len() < state.total;
        drop(state);
        // A wake-up this waiter may have swallowed goes to the next one.
        if free {
            self.limiter.inner.released.notify(1);
        }
    }
}
