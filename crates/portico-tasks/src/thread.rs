//! Thread bridges: [`to_thread`] runs blocking code off the event loop, [`from_thread`] runs
//! async code from such a thread (Asyncer's `asyncify` and `syncify`, AnyIO's `to_thread` and
//! `from_thread`).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use portico_rt::{JoinError, JoinHandle, NoRuntime, Runtime, ThreadRole};

use crate::cancel::tree::Busy;
use crate::limiter::CapacityLimiter;

/// The number of tokens of each runtime's default thread limiter, as in AnyIO.
pub const DEFAULT_THREAD_TOKENS: usize = 40;

/// The per-runtime default limiter, kept with the runtime.
struct DefaultLimiter(CapacityLimiter);

impl Default for DefaultLimiter {
    fn default() -> Self {
        DefaultLimiter(CapacityLimiter::new(DEFAULT_THREAD_TOKENS))
    }
}

/// The current runtime's default thread limiter: [`to_thread`] calls (and Portico's plain `fn`
/// handlers and dependencies) share it. It starts with [`DEFAULT_THREAD_TOKENS`] tokens; change
/// them at run time with [`CapacityLimiter::set_total_tokens`].
///
/// # Examples
///
/// ```
/// # async fn example() {
/// let limiter = portico_tasks::default_thread_limiter().unwrap();
/// assert_eq!(limiter.total_tokens(), 40);
/// limiter.set_total_tokens(100); // for every later `to_thread` on this runtime
/// # }
/// ```
///
/// # Errors
///
/// [`NoRuntime`] outside a runtime.
pub fn default_thread_limiter() -> Result<CapacityLimiter, NoRuntime> {
    Ok(thread_limiter(&portico_rt::current()?))
}

/// The default thread limiter of `rt`.
pub fn thread_limiter(rt: &Runtime) -> CapacityLimiter {
    rt.run_var::<DefaultLimiter>().0.clone()
}

/// Runs a blocking closure on the runtime's blocking pool, under the runtime's default thread
/// limiter, and waits for its value (Asyncer's `asyncify`, AnyIO's `to_thread.run_sync`).
///
/// Use it for CPU-heavy work and blocking I/O from async code. From the closure,
/// [`from_thread`] can call back into async code on the same runtime. [`ToThread`] sets a
/// limiter of its own, or lets a cancelled caller leave the thread behind.
///
/// * **Cancellation.** Cancelled before a token is free, the closure never runs. Once it runs,
///   it runs to its end (a thread cannot be interrupted), and by default the caller waits for
///   it, as AnyIO's does: a [`CancelScope`](crate::CancelScope), timeout or task group that
///   is cancelled around the call goes on waiting for the thread, and ends once it has
///   returned. The closure learns of the cancellation with [`check_cancelled`], and can stop
///   early. (AnyIO's `abandon_on_cancel=True`, leaving the thread behind, is
///   [`ToThread::abandon_on_cancel`].) Only a caller dropped from outside, which cannot wait,
///   leaves the thread running unwatched.
/// * **Tokens.** The token is given back when the closure returns, abandoned or not (trio's
///   rule; AnyIO on asyncio gives it back at once when abandoning).
/// * **Panics** in the closure are re-raised in the caller, as if it had called it directly.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// fn checksum(data: &[u8]) -> u32 {
///     data.iter().map(|&b| u32::from(b)).sum()
/// }
///
/// let data = vec![1u8; 1 << 20];
/// let sum = portico_tasks::to_thread(move || checksum(&data)).await;
/// assert_eq!(sum, 1 << 20);
/// # }
/// ```
///
/// A timeout around it waits for the thread, and gives its value if it returned meanwhile:
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
/// use portico_tasks::{move_on_after, to_thread};
///
/// let value = move_on_after(Duration::from_millis(1), to_thread(|| {
///     std::thread::sleep(Duration::from_millis(30));
///     "done"
/// }))
/// .await;
/// assert_eq!(value, Some("done"), "the scope waited for the thread");
/// # }
/// ```
///
/// # Panics
///
/// Panics if called outside a runtime, if the closure panics, or if the runtime shuts down
/// before the closure returns.
pub async fn to_thread<F, T>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    ToThread::new().run(f).await
}

/// As [`to_thread`], under `limiter` instead of the runtime's default.
///
/// # Panics
///
/// As [`to_thread`].
pub async fn to_thread_with<F, T>(limiter: &CapacityLimiter, f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    ToThread::new().limiter(limiter.clone()).run(f).await
}

/// How to run a blocking closure: [`to_thread`] with options (AnyIO's `to_thread.run_sync`
/// keywords `limiter` and `abandon_on_cancel`).
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
/// use portico_tasks::{CapacityLimiter, ToThread, move_on_after};
///
/// let limiter = CapacityLimiter::new(2);
/// let value = move_on_after(
///     Duration::from_millis(1),
///     ToThread::new()
///         .limiter(limiter)
///         .abandon_on_cancel(true)
///         .run(|| std::thread::sleep(Duration::from_millis(50))),
/// )
/// .await;
/// assert_eq!(value, None, "the caller left the thread behind at its deadline");
/// # }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "ToThread does nothing until `run` is awaited"]
pub struct ToThread {
    limiter: Option<CapacityLimiter>,
    abandon_on_cancel: bool,
}

impl ToThread {
    /// The defaults of [`to_thread`]: the runtime's default limiter, and a caller that waits
    /// for the thread when cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs under `limiter` instead of the runtime's default.
    pub fn limiter(mut self, limiter: CapacityLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// With `true`, a cancelled caller stops waiting at once and leaves the thread running
    /// (AnyIO's `abandon_on_cancel=True`): its value is thrown away, and its token given back
    /// when it returns. [`check_cancelled`] tells the thread. With `false`, the default, the
    /// caller waits for the thread.
    pub fn abandon_on_cancel(mut self, abandon: bool) -> Self {
        self.abandon_on_cancel = abandon;
        self
    }

    /// Runs `f` on the runtime's blocking pool and waits for its value, as [`to_thread`].
    ///
    /// # Panics
    ///
    /// As [`to_thread`].
    pub async fn run<F, T>(self, f: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let rt = portico_rt::current().unwrap_or_else(|err| panic!("to_thread: {err}"));
        let limiter = match self.limiter {
            Some(limiter) => limiter,
            None => thread_limiter(&rt),
        };
        run(&rt, &limiter, self.abandon_on_cancel, f).await
    }
}

async fn run<F, T>(rt: &Runtime, limiter: &CapacityLimiter, abandon: bool, f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let permit = limiter.acquire().await;
    let gone = Arc::new(AtomicBool::new(false));
    let handle = rt.spawn_blocking({
        let gone = gone.clone();
        move || {
            let _permit = permit;
            let _caller = CallerGuard::set(gone);
            f()
        }
    });
    let waiting = ThreadWait {
        handle: Some(handle),
        gone,
        busy: None,
        abandon,
    };
    match waiting.await {
        Ok(value) => value,
        Err(err) => match err.try_into_panic() {
            Ok(payload) => panic::resume_unwind(payload),
            Err(_) => panic!("the runtime shut down before the blocking closure returned"),
        },
    }
}

/// Awaits a blocking closure. Unless abandoning, it is busy work that the cancellers around
/// it wait for (see [`crate::cancel::tree`]); dropped from outside, it detaches the thread.
/// Either way [`check_cancelled`] tells the closure once its caller is cancelled.
struct ThreadWait<T> {
    handle: Option<JoinHandle<T>>,
    gone: Arc<AtomicBool>,
    busy: Option<Busy>,
    abandon: bool,
}

impl<T: Send + 'static> Future for ThreadWait<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(handle) = this.handle.as_mut() else {
            panic!("to_thread polled after completion");
        };
        if !this.abandon {
            let busy = this.busy.get_or_insert_with(Busy::enter);
            if busy.cancel_requested() {
                this.gone.store(true, Ordering::Release);
            }
        }
        let output = std::task::ready!(Pin::new(handle).poll(cx));
        this.handle = None;
        this.busy = None;
        Poll::Ready(output)
    }
}

impl<T> Drop for ThreadWait<T> {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.gone.store(true, Ordering::Release);
            handle.detach();
        }
    }
}

thread_local! {
    /// In a [`to_thread`] closure, the flag its caller sets when it stops waiting.
    static CALLER_GONE: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Makes a caller's flag the thread's while its closure runs.
struct CallerGuard {
    previous: Option<Arc<AtomicBool>>,
}

impl CallerGuard {
    fn set(gone: Arc<AtomicBool>) -> Self {
        CallerGuard {
            previous: CALLER_GONE.with(|slot| slot.replace(Some(gone))),
        }
    }
}

impl Drop for CallerGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CALLER_GONE.try_with(|slot| slot.replace(previous));
    }
}

/// From a [`to_thread`] closure, whether its async caller has been cancelled (AnyIO's
/// `from_thread.check_cancelled`).
///
/// A closure that has started cannot be interrupted: when its caller is cancelled (a timeout,
/// a cancelled task group, a dropped future), the closure runs on, and the scope that was
/// cancelled waits for it (or, with [`ToThread::abandon_on_cancel`], throws its result away).
/// A long closure calls this now and then and stops early, with `?`, so that the cancellation
/// takes effect sooner.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
/// use portico_tasks::{Cancelled, check_cancelled, move_on_after, to_thread};
///
/// let steps = move_on_after(Duration::from_millis(20), to_thread(|| {
///     for step in 0.. {
///         check_cancelled()?; // stops once the caller has been cancelled
///         std::thread::sleep(Duration::from_millis(1));
///         if step == 10_000 {
///             return Ok(step);
///         }
///     }
///     Ok::<_, Cancelled>(0)
/// }))
/// .await;
/// // The scope waited for the thread, which stopped early once it saw the cancellation.
/// assert!(matches!(steps, Some(Err(Cancelled { .. }))));
/// # }
/// ```
///
/// # Errors
///
/// [`Cancelled`] once the caller has been cancelled. Outside a `to_thread` closure (on a
/// thread no async caller waits for) there is no caller to lose, and this returns `Ok`.
pub fn check_cancelled() -> Result<(), Cancelled> {
    let gone = CALLER_GONE
        .try_with(|slot| {
            slot.borrow()
                .as_ref()
                .is_some_and(|gone| gone.load(Ordering::Acquire))
        })
        .unwrap_or(false);
    if gone { Err(Cancelled(())) } else { Ok(()) }
}

/// The error of [`check_cancelled`]: the async caller of this `to_thread` closure was
/// cancelled; its value will be thrown away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled(());

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the caller of this to_thread closure was cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// Why [`from_thread`] could not run its future.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FromThreadError {
    /// The calling thread is not one where a runtime was entered for blocking work (a
    /// [`to_thread`] closure, or a thread holding a `Runtime::enter` guard).
    NotInWorkerThread,
    /// The calling thread drives async tasks: blocking it to wait would stall them, or
    /// deadlock.
    OnEventLoop,
    /// The runtime shut down before the future finished.
    RuntimeStopped,
}

impl fmt::Display for FromThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FromThreadError::NotInWorkerThread => {
                "from_thread must be called from a thread started by to_thread (or holding a \
                 Runtime::enter guard); no runtime was entered on this thread"
            }
            FromThreadError::OnEventLoop => {
                "from_thread was called on a thread that runs async tasks; await the future \
                 instead of blocking on it"
            }
            FromThreadError::RuntimeStopped => {
                "the runtime shut down before the future passed to from_thread finished"
            }
        })
    }
}

impl std::error::Error for FromThreadError {}

/// From a [`to_thread`] closure, runs `fut` on the runtime that started the thread and blocks
/// until it finishes (Asyncer's `syncify`, AnyIO's `from_thread.run`).
///
/// A panic in `fut` is re-raised in the calling thread.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
///
/// let answer = portico_tasks::to_thread(|| {
///     // Blocking code that needs one async call:
///     portico_tasks::from_thread(async {
///         portico_rt::current().unwrap().sleep(Duration::from_millis(1)).await;
///         42
///     })
///     .expect("called from a to_thread closure")
/// })
/// .await;
/// assert_eq!(answer, 42);
/// # }
/// ```
///
/// # Errors
///
/// [`FromThreadError`]: not called from a worker thread, called from an event-loop thread, or
/// the runtime stopped.
pub fn from_thread<F>(fut: F) -> Result<F::Output, FromThreadError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = match portico_rt::thread_role() {
        ThreadRole::Blocking(rt) => rt,
        ThreadRole::Driver(_) => return Err(FromThreadError::OnEventLoop),
        _ => return Err(FromThreadError::NotInWorkerThread),
    };
    match block_on(rt.spawn(fut)) {
        Ok(value) => Ok(value),
        Err(err) => match err.try_into_panic() {
            Ok(payload) => panic::resume_unwind(payload),
            Err(_) => Err(FromThreadError::RuntimeStopped),
        },
    }
}

/// Blocks the calling (non-async) thread until `fut` completes.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(output) = fut.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}
