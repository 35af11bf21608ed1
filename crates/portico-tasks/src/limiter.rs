//! [`CapacityLimiter`]: at most N borrowers at once, one token each.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

use event_listener::{Event, IntoNotification};

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
/// Tokens are counted with atomics, so taking and giving one back costs no lock: this sits on
/// the path of every blocking request. Only borrowers named by the caller
/// ([`acquire_on_behalf_of`](Self::acquire_on_behalf_of)) are remembered, to refuse a second
/// token. A task woken for a token given back competes with tasks arriving just then, rather
/// than waiting in a strict queue.
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
    total: AtomicUsize,
    borrowed: AtomicUsize,
    waiting: AtomicUsize,
    /// Borrowers named by the caller that hold a token.
    named: Mutex<HashSet<Borrower>>,
    released: Event,
}

/// Who borrows a token, to refuse a second one (AnyIO names them after tasks). Make one with
/// [`Borrower::unique`] or from a number of your own; the current task borrows through
/// [`CapacityLimiter::acquire_for_task`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Borrower(Id);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Id {
    Named(u64),
    /// A task, by the address of its waker's data and vtable.
    Task(usize, usize),
}

impl Borrower {
    /// A borrower no other call of this function returns.
    pub fn unique() -> Self {
        // Explicit borrowers come from `From<u64>` with the top bit clear; these have it set.
        static NEXT: AtomicU64 = AtomicU64::new(1 << 63);
        Borrower(Id::Named(NEXT.fetch_add(1, Ordering::Relaxed)))
    }

    /// The task that `waker` wakes: a task's executor gives it the same waker every time.
    fn task(waker: &Waker) -> Self {
        Borrower(Id::Task(
            waker.data() as usize,
            std::ptr::from_ref(waker.vtable()) as usize,
        ))
    }
}

impl From<u64> for Borrower {
    /// A borrower named by the caller (the top bit is cleared, so that it never collides with
    /// [`Borrower::unique`]).
    fn from(id: u64) -> Self {
        Borrower(Id::Named(id & !(1 << 63)))
    }
}

/// A borrowed token; dropping it gives the token back.
#[must_use = "the token is given back as soon as the permit is dropped"]
pub struct LimiterPermit {
    limiter: CapacityLimiter,
    /// The borrower, when the caller named one.
    borrower: Option<Borrower>,
    /// For a task borrower, its waker: held so that the task's address, which names the
    /// borrower, cannot be reused by another task while the token is out.
    _task: Option<Waker>,
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
        if let Some(borrower) = self.borrower {
            self.limiter.named().remove(&borrower);
        }
        self.limiter.give_back();
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
    /// The borrowers that hold a token and were named, with
    /// [`acquire_on_behalf_of`](CapacityLimiter::acquire_on_behalf_of) or
    /// [`acquire_for_task`](CapacityLimiter::acquire_for_task). Anonymous ones
    /// ([`acquire`](CapacityLimiter::acquire), `to_thread`) are counted in `borrowed_tokens`
    /// only.
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
                total: AtomicUsize::new(total_tokens),
                borrowed: AtomicUsize::new(0),
                waiting: AtomicUsize::new(0),
                named: Mutex::new(HashSet::new()),
                released: Event::new(),
            }),
        }
    }

    fn named(&self) -> MutexGuard<'_, HashSet<Borrower>> {
        self.inner
            .named
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a token if one is free.
    fn take_token(&self) -> bool {
        let inner = &self.inner;
        let mut borrowed = inner.borrowed.load(Ordering::SeqCst);
        loop {
            if borrowed >= inner.total.load(Ordering::SeqCst) {
                return false;
            }
            match inner.borrowed.compare_exchange_weak(
                borrowed,
                borrowed + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(now) => borrowed = now,
            }
        }
    }

    /// Gives a token back, waking a waiter if there is one.
    fn give_back(&self) {
        self.inner.borrowed.fetch_sub(1, Ordering::SeqCst);
        if self.inner.waiting.load(Ordering::SeqCst) > 0 {
            self.inner.released.notify(1usize.additional());
        }
    }

    /// Takes a token for `borrower` (anonymous when `None`) if one is free.
    fn take(&self, borrower: Option<Borrower>) -> Result<Option<LimiterPermit>, AlreadyBorrowing> {
        let Some(name) = borrower else {
            return Ok(self.take_token().then(|| LimiterPermit {
                limiter: self.clone(),
                borrower: None,
                _task: None,
            }));
        };
        let mut named = self.named();
        if named.contains(&name) {
            return Err(AlreadyBorrowing(name));
        }
        if !self.take_token() {
            return Ok(None);
        }
        named.insert(name);
        Ok(Some(LimiterPermit {
            limiter: self.clone(),
            borrower: Some(name),
            _task: None,
        }))
    }

    /// Waits for a token, for a borrower of its own: the permit is the borrower, as a
    /// semaphore's permit is. [`to_thread`](crate::to_thread) borrows this way.
    ///
    /// AnyIO's `acquire()` borrows for the current task and refuses a second token to it;
    /// that is [`acquire_for_task`](Self::acquire_for_task) here. In Rust one task often runs
    /// several futures at once (`join!`, `select!`, [`scope`](crate::scope)), each of which may
    /// rightly need a token, so the anonymous borrower is the plain one.
    pub async fn acquire(&self) -> LimiterPermit {
        match self.acquire_as(None).await {
            Ok(permit) => permit,
            Err(AlreadyBorrowing(_)) => unreachable!("an anonymous borrower holds nothing"),
        }
    }

    /// Waits for a token on behalf of the current task, and refuses a second one to it
    /// (AnyIO's `acquire()`, whose default borrower is the current task): a task that holds a
    /// token and asks for another, which could deadlock once every token is out, gets an
    /// error instead.
    ///
    /// The task is the one whose waker polls this call. Futures that one task runs at once
    /// (`join!`, `select!`) share it; a [`scope`](crate::scope)'s children each count as
    /// their own.
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn example() {
    /// use portico_tasks::CapacityLimiter;
    ///
    /// let limiter = CapacityLimiter::new(2);
    /// let first = limiter.acquire_for_task().await.unwrap();
    /// let err = limiter.acquire_for_task().await.unwrap_err();
    /// assert!(err.to_string().contains("already holds one of this limiter's tokens"));
    /// drop(first);
    /// assert!(limiter.acquire_for_task().await.is_ok(), "given back, it can borrow again");
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`AlreadyBorrowing`] if the current task already holds a token of this limiter.
    pub async fn acquire_for_task(&self) -> Result<LimiterPermit, AlreadyBorrowing> {
        let waker = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
        let mut permit = self.acquire_as(Some(Borrower::task(&waker))).await?;
        permit._task = Some(waker);
        Ok(permit)
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
        self.acquire_as(Some(borrower.into())).await
    }

    async fn acquire_as(
        &self,
        borrower: Option<Borrower>,
    ) -> Result<LimiterPermit, AlreadyBorrowing> {
        if let Some(permit) = self.take(borrower)? {
            return Ok(permit);
        }
        let _waiting = Waiting::new(self);
        loop {
            // Registered before the second look: a token given back after it wakes us.
            let listener = self.inner.released.listen();
            if let Some(permit) = self.take(borrower)? {
                return Ok(permit);
            }
            listener.await;
            if let Some(permit) = self.take(borrower)? {
                return Ok(permit);
            }
        }
    }

    /// Takes a token now, or fails with [`WouldBlock`].
    ///
    /// # Errors
    ///
    /// [`WouldBlock`] when every token is borrowed.
    pub fn try_acquire(&self) -> Result<LimiterPermit, WouldBlock> {
        match self.take(None) {
            Ok(Some(permit)) => Ok(permit),
            _ => Err(WouldBlock(())),
        }
    }

    /// Tokens in all.
    pub fn total_tokens(&self) -> usize {
        self.inner.total.load(Ordering::SeqCst)
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
        let before = self.inner.total.swap(total_tokens, Ordering::SeqCst);
        let more = total_tokens.saturating_sub(before);
        if more > 0 {
            self.inner.released.notify(more.additional());
        }
    }

    /// Tokens borrowed now.
    pub fn borrowed_tokens(&self) -> usize {
        self.inner.borrowed.load(Ordering::SeqCst)
    }

    /// Tokens free now.
    pub fn available_tokens(&self) -> usize {
        self.total_tokens().saturating_sub(self.borrowed_tokens())
    }

    /// Totals, borrowers and waiters, taken together.
    pub fn statistics(&self) -> LimiterStatistics {
        let named = self.named();
        LimiterStatistics {
            total_tokens: self.total_tokens(),
            borrowed_tokens: self.borrowed_tokens(),
            tasks_waiting: self.inner.waiting.load(Ordering::SeqCst),
            borrowers: named.iter().copied().collect(),
        }
    }
}

/// Counts a waiting acquire until it ends, however it ends.
struct Waiting<'a> {
    limiter: &'a CapacityLimiter,
}

impl<'a> Waiting<'a> {
    fn new(limiter: &'a CapacityLimiter) -> Self {
        limiter.inner.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting { limiter }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.limiter.inner.waiting.fetch_sub(1, Ordering::SeqCst);
        // A wake-up this waiter swallowed (cancelled after being woken) goes to the next one.
        if self.limiter.available_tokens() > 0 {
            self.limiter.inner.released.notify(1usize.additional());
        }
    }
}
