//! Cancel scopes and deadlines: [`CancelScope`], [`move_on_after`], [`fail_after`], [`shield`]
//! and [`current_effective_deadline`].
//!
//! Cancellation in Rust is dropping a future, so a scope is a future that wraps another and
//! drops it when the scope is cancelled or its deadline passes. What AnyIO tracks per task, the
//! enclosing deadlines, is tracked here per poll: while a scope polls its future, the scope's
//! effective deadline is the thread's current one, so code inside can ask for it, and task
//! groups carry it to their children on other threads. Work a cancelled scope must wait for
//! (a shield, a thread) is found the same way, through the tree of [`tree`].

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::{Event, EventListener};
use portico_rt::Sleep;

mod listening;
mod shield;
pub(crate) mod tree;

pub(crate) use listening::Listening;
pub use shield::{Shielded, shield};
use tree::{Busy, Node};

/// The deadline context a future is polled in.
#[derive(Debug)]
pub(crate) struct Frame {
    /// The tightest deadline of this frame and every enclosing one (up to a shield).
    effective: Option<Instant>,
}

thread_local! {
    static FRAME: RefCell<Option<Arc<Frame>>> = const { RefCell::new(None) };
    // Whether `FRAME` holds one: read at every child's poll, and cheaper to reach than `FRAME`
    // (a `const` thread-local without a destructor).
    static IN_FRAME: Cell<bool> = const { Cell::new(false) };
}

/// The frame the calling code runs in.
pub(crate) fn current_frame() -> Option<Arc<Frame>> {
    FRAME
        .try_with(|frame| frame.borrow().clone())
        .ok()
        .flatten()
}

/// Whether the calling code runs in a frame.
fn frame_is_set() -> bool {
    IN_FRAME.get()
}

/// Runs `f` with `frame` as the current frame.
pub(crate) fn in_frame<R>(frame: &Option<Arc<Frame>>, f: impl FnOnce() -> R) -> R {
    let previous = FRAME
        .try_with(|current| current.replace(frame.clone()))
        .ok()
        .flatten();
    IN_FRAME.set(frame.is_some());
    // Restore even if `f` unwinds: a panicking poll must not leave its frame behind.
    struct Restore(Option<Arc<Frame>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            IN_FRAME.set(previous.is_some());
            let _ = FRAME.try_with(|current| *current.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    f()
}

/// The tightest deadline that applies to the calling code: the earliest deadline of the cancel
/// scopes it runs in (up to the nearest [`shield`]), or `None` if none has one.
///
/// Children of a [task group](crate::task_group) see the deadline that applied where the group
/// was created.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
/// use portico_tasks::{current_effective_deadline, move_on_after};
///
/// let outer = move_on_after(Duration::from_secs(1), async {
///     let inner = move_on_after(Duration::from_secs(60), async {
///         // The inner scope asked for a minute, but the outer one ends sooner.
///         current_effective_deadline()
///     });
///     inner.await
/// });
/// let deadline = outer.await.flatten().flatten().expect("a deadline applies");
/// assert!(deadline <= std::time::Instant::now() + Duration::from_secs(1));
/// # }
/// ```
pub fn current_effective_deadline() -> Option<Instant> {
    current_frame().and_then(|frame| frame.effective)
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

struct ScopeState {
    cancel_called: AtomicBool,
    cancelled_caught: AtomicBool,
    shield: AtomicBool,
    deadline: Mutex<Option<Instant>>,
    /// Notified on `cancel()` and on a deadline change.
    changed: Event,
}

/// A handle to a region of code that can be cancelled from elsewhere or by a deadline (AnyIO's
/// `CancelScope`).
///
/// [`run`](Self::run) runs a future inside the scope: it gives `Some(output)`, or `None` if the
/// scope was cancelled first, in which case the future has been dropped. Clones share the
/// scope, so one can be handed to another task to cancel the work, and read afterwards to tell
/// whether it did.
///
/// Deadlines nest: a scope inside another sees the earlier of the two deadlines
/// ([`current_effective_deadline`]); an inner scope can shorten the effective deadline but never
/// extend it, since the outer scope drops everything inside it when its own time is up.
///
/// A cancelled scope does not drop its future while work inside it that must finish is still
/// running: a [shielded](Self::set_shield) scope ([`shield`]), the thread of a
/// [`to_thread`](crate::to_thread) call, a [`start`](crate::TaskGroup::start) cancelling its
/// child, a [task group](crate::task_group) whose children are being cancelled. It goes on
/// polling the future until that work has ended, then drops it, as AnyIO's scope exits only
/// once everything inside it has. A task group dropped inside the scope from outside (by
/// `select!`, say) leaves its children to the scope, which waits for them before it returns,
/// cancelled or not.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use portico_tasks::CancelScope;
///
/// let scope = CancelScope::new();
/// let canceller = scope.clone();
/// let rt = portico_rt::current().unwrap();
/// rt.spawn(async move { canceller.cancel() }).detach();
///
/// let result = scope.run(std::future::pending::<()>()).await;
/// assert_eq!(result, None);
/// assert!(scope.cancel_called());
/// assert!(scope.cancelled_caught());
/// # }
/// ```
///
/// # Cancel safety
///
/// As cancel-safe as the future it runs: cancelling the scope drops that future.
#[derive(Clone)]
pub struct CancelScope {
    state: Arc<ScopeState>,
}

impl fmt::Debug for CancelScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelScope")
            .field("deadline", &self.deadline())
            .field("cancel_called", &self.cancel_called())
            .field("cancelled_caught", &self.cancelled_caught())
            .field("shielded", &self.is_shielded())
            .finish()
    }
}

impl Default for CancelScope {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelScope {
    /// A scope with no deadline, cancelled only by [`cancel`](Self::cancel).
    pub fn new() -> Self {
        Self::with_deadline(None)
    }

    /// A scope that cancels itself at `deadline`, if given.
    pub fn with_deadline(deadline: impl Into<Option<Instant>>) -> Self {
        CancelScope {
            state: Arc::new(ScopeState {
                cancel_called: AtomicBool::new(false),
                cancelled_caught: AtomicBool::new(false),
                shield: AtomicBool::new(false),
                deadline: Mutex::new(deadline.into()),
                changed: Event::new(),
            }),
        }
    }

    /// Cancels the scope: the future it runs is dropped at once (or, if it is not running yet,
    /// as soon as it starts). Works from any thread, any number of times.
    pub fn cancel(&self) {
        self.state.cancel_called.store(true, Ordering::Release);
        self.state.changed.notify(usize::MAX);
    }

    /// Whether [`cancel`](Self::cancel) was called or the deadline passed.
    pub fn cancel_called(&self) -> bool {
        self.state.cancel_called.load(Ordering::Acquire)
    }

    /// Whether the scope actually cut its future short (it had not finished when cancelled).
    pub fn cancelled_caught(&self) -> bool {
        self.state.cancelled_caught.load(Ordering::Acquire)
    }

    /// The scope's own deadline (not the effective one; see [`current_effective_deadline`]).
    pub fn deadline(&self) -> Option<Instant> {
        *self
            .state
            .deadline
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the deadline (or removes it with `None`); a running scope re-arms its timer.
    pub fn set_deadline(&self, deadline: impl Into<Option<Instant>>) {
        *self
            .state
            .deadline
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = deadline.into();
        self.state.changed.notify(usize::MAX);
    }

    /// Shields the scope (AnyIO's `CancelScope(shield=True)`), or stops shielding it: the
    /// cancellation of enclosing scopes does not reach inside a shielded scope, nor do their
    /// deadlines, while its own cancellation and deadline still apply. A cancelled enclosing
    /// scope waits for a shielded one to end before it drops its future.
    ///
    /// Usually set before [`run`](Self::run); a running scope applies a change at its next
    /// poll. [`shield`] is a shielded scope with no deadline.
    ///
    /// # Examples
    ///
    /// Cleanup that finishes even though the work around it was cancelled, bounded by its own
    /// deadline:
    ///
    /// ```
    /// # async fn example() {
    /// use std::time::{Duration, Instant};
    /// use portico_tasks::{CancelScope, move_on_after};
    ///
    /// async fn flush() -> &'static str { "flushed" }
    ///
    /// let outer = CancelScope::new();
    /// outer.cancel(); // cancelled before the cleanup even starts
    /// let cleanup = CancelScope::with_deadline(Instant::now() + Duration::from_secs(5));
    /// cleanup.set_shield(true);
    /// let flushed = outer.run(cleanup.run(flush())).await;
    /// // The outer scope was cancelled, yet it let the shielded cleanup finish.
    /// assert_eq!(flushed, Some(Some("flushed")));
    /// # }
    /// ```
    pub fn set_shield(&self, shield: bool) {
        self.state.shield.store(shield, Ordering::Release);
        self.state.changed.notify(usize::MAX);
    }

    /// Whether the scope is shielded ([`set_shield`](Self::set_shield)).
    pub fn is_shielded(&self) -> bool {
        self.state.shield.load(Ordering::Acquire)
    }

    /// Runs `fut` inside the scope: `Some(output)`, or `None` if the scope was cancelled (or its
    /// deadline passed) first.
    ///
    /// Once cancelled, the scope drops `fut` at once, unless work inside it that must finish is
    /// running (see above); then it drops `fut` when that work has ended, and gives
    /// `Some(output)` if `fut` finished meanwhile.
    ///
    /// # Panics
    ///
    /// Polling panics if the scope has a deadline and no runtime is running (a timer needs one).
    pub fn run<F: IntoFuture>(&self, fut: F) -> Scoped<F::IntoFuture> {
        Scoped {
            fut: Some(fut.into_future()),
            scope: self.clone(),
            frame: None,
            timer: None,
            listener: None,
            node: None,
            shielding: None,
            idle: None,
            ended: None,
        }
    }
}

pin_project_lite::pin_project! {
    /// A future running inside a [`CancelScope`], from [`CancelScope::run`].
    #[must_use = "futures do nothing unless awaited"]
    #[project = ScopedProj]
    pub struct Scoped<F: Future> {
        #[pin]
        fut: Option<F>,
        scope: CancelScope,
        frame: Option<Arc<Frame>>,
        // The deadline the timer is armed for, and the timer.
        timer: Option<(Instant, Sleep)>,
        listener: Option<EventListener>,
        // This scope's place in the tree of cancellers, from its first poll.
        node: Option<Arc<Node>>,
        // While the scope is shielded, the enclosing cancellers wait for it.
        shielding: Option<Busy>,
        // Waiting for work handed to this scope (see `ended`).
        idle: Option<EventListener>,
        // The outcome, once `fut` is gone, while work that a group dropped inside it handed
        // to this scope still runs.
        ended: Option<Option<F::Output>>,
    }
}

impl<F: Future> fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if this.fut.is_none() {
            return this.drain(cx);
        }
        loop {
            let state = &this.scope.state;
            // A listener first, then the checks: a change made in between is not missed.
            let listener = this.listener.get_or_insert_with(|| state.changed.listen());
            let deadline = *state
                .deadline
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let shielded = state.shield.load(Ordering::Acquire);
            // Registered (or released) in the enclosing nodes before this scope's own.
            if shielded != this.shielding.is_some() {
                *this.shielding = shielded.then(Busy::enter);
            }
            let node = this.node.get_or_insert_with(Node::child_of_current);
            node.set_shield(shielded);
            let expired = deadline.is_some_and(|deadline| Instant::now() >= deadline);
            if state.cancel_called.load(Ordering::Acquire) || expired {
                state.cancel_called.store(true, Ordering::Release);
                if !node.is_busy() {
                    return this.cut(cx);
                }
                // Work inside must end first: it sees the cancellation, and is polled on.
                node.request();
            }

            // The frame: the earlier of this scope's deadline and the enclosing one, which
            // stops at a shield.
            let outer = if shielded {
                None
            } else {
                current_effective_deadline()
            };
            let effective = earliest(deadline, outer);
            if this
                .frame
                .as_ref()
                .is_none_or(|frame| frame.effective != effective)
            {
                *this.frame = Some(Arc::new(Frame { effective }));
            }
            let frame = this.frame.clone();
            let Some(fut) = this.fut.as_mut().as_pin_mut() else {
                unreachable!("checked above");
            };
            if let Poll::Ready(output) = node.enter(|| in_frame(&frame, || fut.poll(cx))) {
                this.fut.set(None);
                *this.shielding = None;
                *this.ended = Some(Some(output));
                return this.drain(cx);
            }
            if node.is_requested() {
                // Cancelled and waiting for the work inside, whose wakers wake this scope (or,
                // for work it does not poll, the node's idle event).
                let node = node.clone();
                if !node.poll_idle(this.idle, cx) {
                    return Poll::Pending;
                }
                return this.cut(cx);
            }

            // Arm a timer only when this scope's deadline is the one that ends first: an outer
            // scope with an earlier deadline drops this one before it could fire.
            let own_first = deadline.is_some_and(|d| outer.is_none_or(|o| d < o));
            match (own_first.then_some(deadline).flatten(), this.timer.as_mut()) {
                (Some(at), Some((armed, _))) if *armed == at => {}
                (Some(at), _) => {
                    let rt = portico_rt::current()
                        .unwrap_or_else(|err| panic!("a cancel scope with a deadline: {err}"));
                    *this.timer = Some((at, rt.sleep_until(at)));
                }
                (None, _) => *this.timer = None,
            }
            if let Some((_, sleep)) = this.timer.as_mut()
                && Pin::new(sleep).poll(cx).is_ready()
            {
                // Our own deadline: cancel now, whatever the clock reads next.
                state.cancel_called.store(true, Ordering::Release);
                *this.timer = None;
                continue;
            }

            match Pin::new(listener).poll(cx) {
                Poll::Ready(()) => {
                    // Cancelled, re-timed or shielded: listen again and re-check.
                    *this.listener = None;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<F: Future> ScopedProj<'_, F> {
    /// Ends the scope cancelled: drops the future and says it was cut short.
    fn cut(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.scope
            .state
            .cancelled_caught
            .store(true, Ordering::Release);
        self.fut.set(None);
        *self.shielding = None;
        *self.ended = Some(None);
        self.drain(cx)
    }

    /// Once the future is gone, gives the outcome when the work handed to this scope (by a
    /// group dropped from outside inside it) has ended too.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        if self.ended.is_none() {
            panic!("Scoped polled after completion");
        }
        if let Some(node) = self.node.as_ref()
            && !node.poll_idle(self.idle, cx)
        {
            return Poll::Pending;
        }
        Poll::Ready(self.ended.take().flatten())
    }
}

/// Runs `fut` with a time limit and gives `None` if the time runs out first (then `fut` is
/// dropped). AnyIO's `move_on_after`.
///
/// The limit nests with enclosing scopes: see [`current_effective_deadline`].
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
/// use portico_tasks::move_on_after;
///
/// let answer = move_on_after(Duration::from_millis(10), std::future::pending::<u8>()).await;
/// assert_eq!(answer, None);
/// # }
/// ```
pub fn move_on_after<F: IntoFuture>(duration: Duration, fut: F) -> Scoped<F::IntoFuture> {
    move_on_at(Instant::now() + duration, fut)
}

/// As [`move_on_after`], with an absolute deadline.
pub fn move_on_at<F: IntoFuture>(deadline: Instant, fut: F) -> Scoped<F::IntoFuture> {
    CancelScope::with_deadline(deadline).run(fut)
}

/// Runs `fut` with a time limit and gives a [`TimeoutError`] if the time runs out first (then
/// `fut` is dropped). AnyIO's `fail_after`.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::time::Duration;
/// use portico_tasks::fail_after;
///
/// let err = fail_after(Duration::from_millis(10), std::future::pending::<u8>()).await.unwrap_err();
/// assert_eq!(err.to_string(), "timed out after 10ms");
/// # }
/// ```
pub async fn fail_after<F: IntoFuture>(
    duration: Duration,
    fut: F,
) -> Result<F::Output, TimeoutError> {
    move_on_after(duration, fut).await.ok_or(TimeoutError {
        after: Some(duration),
    })
}

/// As [`fail_after`], with an absolute deadline.
pub async fn fail_at<F: IntoFuture>(deadline: Instant, fut: F) -> Result<F::Output, TimeoutError> {
    move_on_at(deadline, fut)
        .await
        .ok_or(TimeoutError { after: None })
}

/// The error of [`fail_after`] and [`fail_at`] when the time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutError {
    after: Option<Duration>,
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.after {
            Some(after) => write!(f, "timed out after {after:?}"),
            None => f.write_str("deadline passed"),
        }
    }
}

impl std::error::Error for TimeoutError {}

impl From<TimeoutError> for std::io::Error {
    fn from(err: TimeoutError) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, err)
    }
}

pin_project_lite::pin_project! {
    /// Polls a future inside a deadline frame.
    pub(crate) struct InFrame<F> {
        pub(crate) frame: Option<Arc<Frame>>,
        #[pin]
        pub(crate) fut: F,
    }
}

impl<F: Future> Future for InFrame<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let fut = this.fut;
        match this.frame {
            // A task polled by its executor starts with no frame: nothing to set.
            None if !frame_is_set() => fut.poll(cx),
            frame => in_frame(frame, || fut.poll(cx)),
        }
    }
}
