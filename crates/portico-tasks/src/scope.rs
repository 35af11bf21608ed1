//! In-task scopes: children that may borrow from the caller, polled inside the caller's task.
//!
//! This is the other leg of the scoped-task trilemma: a [task group](crate::task_group) gives
//! parallelism and concurrency but its children must own their data (`'static`); a scope gives
//! concurrency and borrowing, but its children run in the caller's task, one at a time, never
//! in parallel. Failure and cancellation follow the same rules as a task group.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use event_listener::EventListener;
use slab::Slab;

use crate::cancel::tree::Node;
use crate::failure::{Failure, GroupError, TaskPanic};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs `body` with a [`Scope`] whose children may borrow from the caller, and returns once the
/// body and every child have finished.
///
/// Children are polled inside the calling task (concurrency without parallelism), so they may
/// hold references to the caller's locals. The first failure, an `Err` or a panic, drops the
/// other children and the body; the scope then returns every failure in a [`GroupError`].
///
/// Use a scope to overlap a few waits that need the caller's data (several requests built from
/// one borrowed configuration, say); use a [task group](crate::task_group) when children must
/// run in parallel or outlive the current stack frame's borrows.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let words = vec!["a", "bb", "ccc"];
/// let total = AtomicUsize::new(0);
/// let (words, total_ref) = (&words, &total);
/// portico_tasks::scope(|s| async move {
///     for word in words {
///         // Each child borrows `word` and `total` from the caller: no `'static` needed.
///         s.spawn(async move {
///             total_ref.fetch_add(word.len(), Ordering::Relaxed);
///             Ok::<(), std::io::Error>(())
///         });
///     }
///     Ok(())
/// })
/// .await
/// .unwrap();
/// assert_eq!(total.load(Ordering::Relaxed), 6);
/// # }
/// ```
///
/// # Cancel safety
///
/// Cancelled or failing, the scope drops its children and body once the work inside them
/// that must finish has ended (shields, threads, task groups whose children are being
/// cancelled), as a task group does.
///
/// Dropping the returned future drops every child at once, in the dropping thread.
pub fn scope<'a, T, E, F, Fut>(body: F) -> ScopeFuture<'a, Fut, T, E>
where
    F: FnOnce(Scope<'a, E>) -> Fut,
    Fut: Future<Output = Result<T, E>> + 'a,
{
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            pending: Vec::new(),
            cancelled: false,
            closed: false,
            waker: None,
        }),
    });
    let body = body(Scope {
        shared: shared.clone(),
    });
    ScopeFuture {
        body: Some(body),
        output: None,
        shared,
        children: Slab::new(),
        woken: Arc::new(Woken::default()),
        failures: Vec::new(),
        node: None,
        idle: None,
    }
}

/// A handle to a running [`scope`], to spawn borrowing children; clone it freely.
pub struct Scope<'a, E> {
    shared: Arc<Shared<'a, E>>,
}

impl<E> Clone for Scope<'_, E> {
    fn clone(&self) -> Self {
        Scope {
            shared: self.shared.clone(),
        }
    }
}

impl<E> fmt::Debug for Scope<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("cancelled", &self.shared.lock().cancelled)
            .finish()
    }
}

struct Shared<'a, E> {
    state: Mutex<State<'a, E>>,
}

struct State<'a, E> {
    /// Spawned children the scope's future has not taken yet.
    pending: Vec<BoxFuture<'a, Result<(), E>>>,
    cancelled: bool,
    closed: bool,
    waker: Option<Waker>,
}

impl<'a, E> Shared<'a, E> {
    fn lock(&self) -> MutexGuard<'_, State<'a, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<'a, E> Scope<'a, E> {
    /// Adds a child; it starts at the scope's next poll. If the scope is cancelled, `fut` is
    /// dropped without running.
    ///
    /// # Panics
    ///
    /// Panics if the scope has already returned.
    pub fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'a,
    {
        let mut state = self.shared.lock();
        assert!(
            !state.closed,
            "Scope::spawn: the scope has already returned"
        );
        if state.cancelled {
            return;
        }
        state.pending.push(Box::pin(fut));
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Cancels every child, and the body if it has not finished, without a failure.
    pub fn cancel(&self) {
        let mut state = self.shared.lock();
        state.cancelled = true;
        let pending = std::mem::take(&mut state.pending);
        let waker = state.waker.take();
        drop(state);
        drop(pending);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The children woken since the scope last polled them.
#[derive(Default)]
struct Woken {
    indices: Mutex<HashSet<usize>>,
    parent: Mutex<Option<Waker>>,
}

struct ChildWaker {
    index: usize,
    woken: Arc<Woken>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken
            .indices
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(self.index);
        let parent = self
            .woken
            .parent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

struct ScopeChild<'a, E> {
    fut: BoxFuture<'a, Result<(), E>>,
    waker: Waker,
}

pin_project_lite::pin_project! {
    /// The future of a running [`scope`].
    #[must_use = "a scope does nothing unless awaited"]
    pub struct ScopeFuture<'a, Fut, T, E> {
        #[pin]
        body: Option<Fut>,
        output: Option<T>,
        shared: Arc<Shared<'a, E>>,
        children: Slab<ScopeChild<'a, E>>,
        woken: Arc<Woken>,
        failures: Vec<Failure<E>>,
        // The canceller of the body and the children, from the first poll: cancelled, the
        // scope waits for the shields, threads and groups inside them.
        node: Option<Arc<Node>>,
        idle: Option<EventListener>,
    }

    impl<'a, Fut, T, E> PinnedDrop for ScopeFuture<'a, Fut, T, E> {
        fn drop(this: Pin<&mut Self>) {
            // Children are dropped with the future; later spawns through a leaked handle are
            // refused.
            this.project().shared.lock().closed = true;
        }
    }
}

impl<Fut, T, E> fmt::Debug for ScopeFuture<'_, Fut, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeFuture")
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

/// Rounds of adopting and polling children per poll, before yielding to the executor so that a
/// child that keeps waking itself cannot monopolise the thread. Chosen by judgement.
const ROUNDS_PER_POLL: usize = 32;

impl<'a, Fut, T, E> Future for ScopeFuture<'a, Fut, T, E>
where
    Fut: Future<Output = Result<T, E>>,
{
    type Output = Result<T, GroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let node = this.node.get_or_insert_with(Node::child_of_current).clone();
        *this
            .woken
            .parent
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        let mut poll_body = true;
        for _ in 0..ROUNDS_PER_POLL {
            // Take in children spawned since the last round; each starts woken.
            let (pending, cancelled) = {
                let mut state = this.shared.lock();
                (std::mem::take(&mut state.pending), state.cancelled)
            };
            let mut woken: Vec<usize> = {
                let mut indices = this
                    .woken
                    .indices
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                indices.drain().collect()
            };
            for fut in pending {
                let entry = this.children.vacant_entry();
                let waker = Waker::from(Arc::new(ChildWaker {
                    index: entry.key(),
                    woken: this.woken.clone(),
                }));
                woken.push(entry.key());
                entry.insert(ScopeChild { fut, waker });
            }

            if cancelled || !this.failures.is_empty() {
                cancel_all(
                    this.shared,
                    this.children,
                    this.body.as_mut(),
                    &node,
                    this.idle,
                    cx,
                );
            }

            if poll_body {
                poll_body = false;
                if let Some(body) = this.body.as_mut().as_pin_mut() {
                    match node.enter(|| panic::catch_unwind(AssertUnwindSafe(|| body.poll(cx)))) {
                        Ok(Poll::Pending) => {}
                        Ok(Poll::Ready(Ok(output))) => {
                            *this.output = Some(output);
                            this.body.set(None);
                        }
                        Ok(Poll::Ready(Err(err))) => {
                            this.failures.push(Failure::Error(err));
                            this.body.set(None);
                        }
                        Err(payload) => {
                            this.failures.push(Failure::Panic(TaskPanic::new(payload)));
                            this.body.set(None);
                        }
                    }
                }
            }

            for index in woken {
                let Some(child) = this.children.get_mut(index) else {
                    continue;
                };
                let mut child_cx = Context::from_waker(&child.waker);
                let fut = child.fut.as_mut();
                let polled = node
                    .enter(|| panic::catch_unwind(AssertUnwindSafe(|| fut.poll(&mut child_cx))));
                let failure = match polled {
                    Ok(Poll::Pending) => continue,
                    Ok(Poll::Ready(Ok(()))) => None,
                    Ok(Poll::Ready(Err(err))) => Some(Failure::Error(err)),
                    Err(payload) => Some(Failure::Panic(TaskPanic::new(payload))),
                };
                this.children.remove(index);
                if let Some(failure) = failure {
                    this.failures.push(failure);
                }
            }
            // The first failure ends everything else, and so does a `cancel` made by a child or
            // the body during this round.
            if !this.failures.is_empty() || this.shared.lock().cancelled {
                cancel_all(
                    this.shared,
                    this.children,
                    this.body.as_mut(),
                    &node,
                    this.idle,
                    cx,
                );
            }

            let mut state = this.shared.lock();
            if this.body.is_none()
                && this.children.is_empty()
                && state.pending.is_empty()
                // Work that a group dropped inside handed to this scope ends first.
                && node.poll_idle(this.idle, cx)
            {
                state.closed = true;
                drop(state);
                let failures = std::mem::take(this.failures);
                return Poll::Ready(match this.output.take() {
                    Some(output) if failures.is_empty() => Ok(output),
                    _ => Err(GroupError::new(failures)),
                });
            }
            let more = !state.pending.is_empty();
            if !more {
                state.waker = Some(cx.waker().clone());
            }
            drop(state);
            let woken_again = !this
                .woken
                .indices
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty();
            if !more && !woken_again {
                return Poll::Pending;
            }
        }
        // Still busy after the allotted rounds: yield, and come back at once.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Cancels the body and every child: drops them, unless work inside them that must end first
/// (a shield, a thread, a group) is running. That work then hears of the cancellation, the
/// body and the children are polled on as they wake, and they are dropped once it has ended.
fn cancel_all<'a, E, Fut>(
    shared: &Shared<'a, E>,
    children: &mut Slab<ScopeChild<'a, E>>,
    mut body: Pin<&mut Option<Fut>>,
    node: &Node,
    idle: &mut Option<EventListener>,
    cx: &mut Context<'_>,
) {
    let pending = {
        let mut state = shared.lock();
        state.cancelled = true;
        std::mem::take(&mut state.pending)
    };
    drop(pending);
    if node.is_busy() {
        node.request();
    }
    if node.poll_idle(idle, cx) {
        children.clear();
        body.set(None);
    }
}
