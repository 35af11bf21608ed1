//! The state a task group shares with its children, and the children themselves.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use event_listener::{Event, EventListener};
use portico_rt::Runtime;

use super::GroupClosed;
use super::handle::ChildCancel;
use crate::cancel::tree::LazyNode;
use crate::cancel::{Frame, InFrame};
use crate::failure::{Failure, TaskPanic};

/// Set in `running` once the group has returned: nothing can join it any more.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// What a group and its children share.
///
/// Starting and finishing a child touches only atomics (the count of running children); the
/// lock is taken for failures and to wake the group. Children are cancelled by a flag and an
/// event rather than through their join handles, so the group keeps no table of them.
pub(super) struct Shared<E> {
    pub(super) rt: Runtime,
    /// The deadline context where the group was created; children run in it.
    frame: Option<Arc<Frame>>,
    /// Children whose futures have not been dropped yet, cancelled ones included, plus
    /// [`CLOSED`] once the group has returned.
    running: AtomicUsize,
    cancelled: AtomicBool,
    /// Notified once, when the group is cancelled: children waiting on it drop their futures.
    cancel: Event,
    state: Mutex<State<E>>,
}

struct State<E> {
    failures: Vec<Failure<E>>,
    /// The group's future, waiting for the last child or the first failure.
    waker: Option<Waker>,
}

/// How a child ended.
pub(super) enum Outcome<E> {
    Done,
    Failed(Failure<E>),
    /// Dropped before finishing: cancelled by its group, or by the runtime's shutdown.
    Cancelled,
}

impl<E> Shared<E> {
    pub(super) fn new(rt: Runtime, frame: Option<Arc<Frame>>) -> Self {
        Shared {
            rt,
            frame,
            running: AtomicUsize::new(0),
            cancelled: AtomicBool::new(false),
            cancel: Event::new(),
            state: Mutex::new(State {
                failures: Vec::new(),
                waker: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<E>> {
        // Nothing panics while the lock is held, but a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Cancels every child and wakes the group (to drop its body).
    pub(super) fn cancel(&self) {
        if !self.cancelled.swap(true, Ordering::AcqRel) {
            self.cancel.notify(usize::MAX);
            self.wake();
        }
    }

    fn wake(&self) {
        let waker = self.lock().waker.take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Records a failure of a child or of the body, and cancels the rest of the group.
    pub(super) fn fail(&self, failure: Failure<E>) {
        self.lock().failures.push(failure);
        self.cancel();
    }

    /// Records how a child ended; its future has been dropped, or is about to be.
    fn report(&self, outcome: Outcome<E>) {
        if let Outcome::Failed(failure) = outcome {
            self.fail(failure);
        }
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.wake();
        }
    }

    /// Called by the group's future once its body is gone: stores `waker`, then closes the
    /// group if no child is left, and gives back every failure.
    pub(super) fn try_close(&self, waker: &Waker) -> Option<Vec<Failure<E>>> {
        let mut state = self.lock();
        match &mut state.waker {
            Some(stored) if stored.will_wake(waker) => {}
            stored => *stored = Some(waker.clone()),
        }
        // The waker is stored first: a child finishing after the check below wakes the group.
        self.running
            .compare_exchange(0, CLOSED, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        state.waker = None;
        Some(std::mem::take(&mut state.failures))
    }

    /// Stores the group's waker while its body runs.
    pub(super) fn register(&self, waker: &Waker) {
        let mut state = self.lock();
        match &mut state.waker {
            Some(stored) if stored.will_wake(waker) => {}
            stored => *stored = Some(waker.clone()),
        }
    }

    /// Closes the group whose future was dropped before returning, cancelling every child.
    pub(super) fn abandon(&self) {
        self.running.fetch_or(CLOSED, Ordering::AcqRel);
        self.cancel();
    }
}

impl<E: Send + 'static> Shared<E> {
    /// Spawns `fut` as a child, unless the group is cancelled (then it is dropped unstarted).
    /// `own`, when given, cancels this child alone.
    pub(super) fn spawn<F, H>(
        self: &Arc<Self>,
        fut: F,
        on_end: H,
        own: Option<Arc<ChildCancel>>,
    ) -> Result<(), GroupClosed>
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        H: OnEnd<E> + 'static,
    {
        if self.running.fetch_add(1, Ordering::AcqRel) & CLOSED != 0 {
            self.running.fetch_sub(1, Ordering::AcqRel);
            return Err(GroupClosed(()));
        }
        let reporter = Reporter {
            shared: self.clone(),
            on_end: Some(on_end),
        };
        if self.is_cancelled() || own.as_ref().is_some_and(|own| own.is_cancelled()) {
            // Dropping the reporter reports the child as cancelled.
            drop(reporter);
            return Ok(());
        }
        let child = Child {
            fut: Some(InFrame {
                frame: self.frame.clone(),
                fut,
            }),
            listener: None,
            node: LazyNode::default(),
            own: own.map(|cancel| OwnCancel {
                cancel,
                listener: None,
            }),
            reporter,
        };
        // The group tracks the child itself, through `running` and the cancel event.
        self.rt.spawn(child).detach();
        Ok(())
    }
}

/// What a child's end means, decided just before the group hears of it.
pub(super) trait OnEnd<E>: Send {
    fn on_end(self, outcome: Outcome<E>) -> Outcome<E>;
}

/// The group hears of every end as it is.
pub(super) struct Plain;

impl<E> OnEnd<E> for Plain {
    fn on_end(self, outcome: Outcome<E>) -> Outcome<E> {
        outcome
    }
}

pin_project_lite::pin_project! {
    /// A child task: its future, and who to tell how it ended.
    struct Child<F, E, H: OnEnd<E>> {
        #[pin]
        fut: Option<InFrame<F>>,
        // Registered once the child waits, so that cancelling the group wakes it.
        listener: Option<EventListener>,
        // The child's canceller: once cancelled, it waits for the shields and threads inside.
        node: LazyNode,
        // This child's own cancellation, for a child with a handle or started with `start`.
        own: Option<OwnCancel>,
        // Declared after `fut`, so that a cancelled child reports after its future is dropped.
        reporter: Reporter<E, H>,
    }
}

/// A child's own cancellation, and its listener once the child waits.
struct OwnCancel {
    cancel: Arc<ChildCancel>,
    listener: Option<EventListener>,
}

impl OwnCancel {
    /// Whether the child is cancelled alone; if not, registers `cx` to hear of it.
    fn poll_cancelled(&mut self, cx: &mut Context<'_>) -> bool {
        let cancel = &self.cancel;
        let listener = self.listener.get_or_insert_with(|| cancel.listen());
        cancel.is_cancelled() || Pin::new(listener).poll(cx).is_ready()
    }
}

struct Reporter<E, H: OnEnd<E>> {
    shared: Arc<Shared<E>>,
    /// `None` once reported.
    on_end: Option<H>,
}

impl<E, H: OnEnd<E>> Reporter<E, H> {
    fn report(&mut self, outcome: Outcome<E>) {
        if let Some(on_end) = self.on_end.take() {
            self.shared.report(on_end.on_end(outcome));
        }
    }
}

impl<E, H: OnEnd<E>> Drop for Reporter<E, H> {
    fn drop(&mut self) {
        self.report(Outcome::Cancelled);
    }
}

impl<F, E, H> Future for Child<F, E, H>
where
    F: Future<Output = Result<(), E>>,
    H: OnEnd<E>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let mut cancelled = this.reporter.shared.is_cancelled()
            || this
                .own
                .as_ref()
                .is_some_and(|own| own.cancel.is_cancelled());
        loop {
            if cancelled {
                if !this.node.is_busy() {
                    break;
                }
                // A shield or a thread inside must end first: it hears of the cancellation,
                // and the child is polled on until then.
                this.node.request();
            }
            let Some(fut) = this.fut.as_mut().as_pin_mut() else {
                panic!("child polled after completion");
            };
            // Panics are caught here, the same way on every runtime, and become failures.
            let polled = this
                .node
                .enter(|| panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))));
            let outcome = match polled {
                Ok(Poll::Pending) => None,
                Ok(Poll::Ready(Ok(()))) => Some(Outcome::Done),
                Ok(Poll::Ready(Err(err))) => Some(Outcome::Failed(Failure::Error(err))),
                Err(payload) => Some(Outcome::Failed(Failure::Panic(TaskPanic::new(payload)))),
            };
            if let Some(outcome) = outcome {
                this.fut.set(None);
                this.reporter.report(outcome);
                return Poll::Ready(());
            }
            if cancelled {
                if this.node.is_busy() {
                    // Woken by the work inside.
                    return Poll::Pending;
                }
                break;
            }
            // Waiting: listen for the group's cancellation too. The listener is registered
            // before the flag is read again, so a cancellation in between is not missed.
            let shared = &this.reporter.shared;
            let listener = this.listener.get_or_insert_with(|| shared.cancel.listen());
            let group_cancelled = shared.is_cancelled() || Pin::new(listener).poll(cx).is_ready();
            let own_cancelled = this.own.as_mut().is_some_and(|own| own.poll_cancelled(cx));
            if !group_cancelled && !own_cancelled {
                return Poll::Pending;
            }
            cancelled = true;
        }
        // Cancelled: drop the future (then report, as the reporter's drop would).
        this.fut.set(None);
        this.reporter.report(Outcome::Cancelled);
        Poll::Ready(())
    }
}
