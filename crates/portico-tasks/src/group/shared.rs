//! The state a task group shares with its children, and the children themselves.

use std::future::Future;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use event_listener::{Event, EventListener};
use portico_rt::Runtime;

use super::GroupClosed;
use super::handle::ChildCancel;
use crate::cancel::tree::{Busy, LazyNode};
use crate::cancel::{Frame, InFrame, Listening};
use crate::failure::{Failure, TaskPanic};

/// Set in `running` once the group has returned: nothing can join it any more.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// What a group and its children share.
///
/// Starting and finishing a child touches only atomics (the count of running children); the
/// lock is taken for failures and to wake the group. Children are cancelled by a flag and an
/// event rather than through their join handles, so the group keeps no table of them.
///
/// `running` comes first (`repr(C)`), next to the `Arc`'s own count: both change at each
/// child's start and end, from the spawner's thread and the children's, so they had better
/// travel between the threads' caches as one line. The fields children only read come after
/// the lock, further away.
#[repr(C)]
pub(super) struct Shared<E> {
    /// Children whose futures have not been dropped yet, cancelled ones included, plus
    /// [`CLOSED`] once the group has returned.
    running: AtomicUsize,
    pub(super) rt: Runtime,
    /// The deadline context where the group was created; children run in it.
    frame: Option<Arc<Frame>>,
    state: Mutex<State<E>>,
    cancelled: AtomicBool,
    /// Notified once, when the group is cancelled: children waiting on it drop their futures.
    cancel: Event,
}

struct State<E> {
    failures: Vec<Failure<E>>,
    /// The group's future, waiting for the last child or the first failure.
    waker: Option<Waker>,
    /// A group dropped from outside leaves its place in the cancellers above here, released
    /// when its last child has ended: those cancellers wait for its children.
    handed_over: Option<Busy>,
}

/// How a child ended: with its value `T` (`()` once the child's [`OnEnd`] has kept it).
pub(super) enum Outcome<E, T = ()> {
    Done(T),
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
                handed_over: None,
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
        match self.running.fetch_sub(1, Ordering::AcqRel) {
            1 => self.wake(),
            // The last child of a group dropped from outside: the cancellers above it no
            // longer wait. (Taken out of the lock before it is released.)
            last if last == CLOSED | 1 => drop(self.lock().handed_over.take()),
            _ => {}
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

    /// Closes the group whose future was dropped before returning, cancelling every child,
    /// and hands `busy`, the group's place in the cancellers above it, to its children: it is
    /// released when the last one has ended.
    pub(super) fn abandon(&self, busy: Option<Busy>) {
        if busy.is_some() {
            // Stored before closing: a child that ends after the close finds it.
            self.lock().handed_over = busy;
        }
        if self.running.fetch_or(CLOSED, Ordering::AcqRel) & !CLOSED == 0 {
            // No child left to wait for.
            drop(self.lock().handed_over.take());
        }
        self.cancel();
    }
}

impl<E: Send + 'static> Shared<E> {
    /// Spawns `fut` as a child, unless the group (or the child alone, through `on_end`'s own
    /// cancellation) is cancelled: then it is dropped unstarted.
    pub(super) fn spawn<T, F, H>(self: &Arc<Self>, fut: F, on_end: H) -> Result<(), GroupClosed>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, E>> + Send + 'static,
        H: OnEnd<T, E> + 'static,
    {
        if self.running.fetch_add(1, Ordering::AcqRel) & CLOSED != 0 {
            self.running.fetch_sub(1, Ordering::AcqRel);
            return Err(GroupClosed(()));
        }
        let mut reporter = Reporter {
            shared: self.clone(),
            on_end: Some(on_end),
            _value: PhantomData,
        };
        if reporter.is_cancelled() {
            // Dropping the reporter reports the child as cancelled.
            drop(reporter);
            return Ok(());
        }
        let child = Child {
            fut: Some(InFrame {
                frame: self.frame.clone(),
                fut,
            }),
            listener: Listening::default(),
            node: LazyNode::default(),
            waiting: None,
            reporter,
        };
        // The group tracks the child itself, through `running` and the cancel event.
        self.rt.spawn_detached(child);
        Ok(())
    }
}

/// What a child's end means, decided just before the group hears of it: where its value `T`
/// goes, and whether the child can be cancelled alone.
pub(super) trait OnEnd<T, E>: Send {
    fn on_end(self, outcome: Outcome<E, T>) -> Outcome<E>;

    /// This child's own cancellation, for a child with a handle or started with `start`, and
    /// the listener it waits on it with. The listener lives here, not in every child: a child
    /// without a cancellation of its own is smaller.
    fn own_cancel(&mut self) -> Option<(&ChildCancel, &mut Listening)> {
        None
    }
}

/// The group hears of every end as it is.
pub(super) struct Plain;

impl<E> OnEnd<(), E> for Plain {
    fn on_end(self, outcome: Outcome<E>) -> Outcome<E> {
        outcome
    }
}

pin_project_lite::pin_project! {
    /// A child task: its future, and who to tell how it ended.
    #[project = ChildProj]
    struct Child<F, T, E, H: OnEnd<T, E>> {
        #[pin]
        fut: Option<InFrame<F>>,
        // Registered once the child waits, so that cancelling the group wakes it. (The
        // listener for the child's own cancellation, if it has one, is in its `OnEnd`.)
        listener: Listening,
        // The child's canceller: once cancelled, it waits for the shields, threads and groups
        // inside.
        node: LazyNode,
        // While the child waits for work in its node that it does not poll itself. Boxed, and
        // made only then: most children never wait so, and a smaller child costs less.
        waiting: Option<Box<Waiting<E, T>>>,
        // Declared after `fut`, so that a cancelled child reports after its future is dropped.
        reporter: Reporter<T, E, H>,
    }
}

/// A child waiting for work in its node that it does not poll itself.
struct Waiting<E, T> {
    idle: Option<EventListener>,
    /// How the child ended, once its future is gone, while work that a group dropped inside
    /// it handed to its node still runs.
    ended: Option<Outcome<E, T>>,
}

impl<E, T> Waiting<E, T> {
    /// Whether `node` is idle; if not, registers `cx` to hear when it is.
    #[inline]
    fn poll_idle(waiting: &mut Option<Box<Self>>, node: &LazyNode, cx: &mut Context<'_>) -> bool {
        if !node.is_busy() {
            return true;
        }
        let waiting = waiting.get_or_insert_with(|| {
            Box::new(Waiting {
                idle: None,
                ended: None,
            })
        });
        node.poll_idle(&mut waiting.idle, cx)
    }
}

struct Reporter<T, E, H: OnEnd<T, E>> {
    shared: Arc<Shared<E>>,
    /// `None` once reported.
    on_end: Option<H>,
    _value: PhantomData<fn() -> T>,
}

impl<T, E, H: OnEnd<T, E>> Reporter<T, E, H> {
    /// Whether the child is cancelled, with its group or alone.
    fn is_cancelled(&mut self) -> bool {
        self.shared.is_cancelled()
            || (self.on_end.as_mut().and_then(OnEnd::own_cancel))
                .is_some_and(|(own, _)| own.is_cancelled())
    }

    /// Whether the child's own cancellation has come; if not, `cx` hears of it.
    fn poll_own_cancel(&mut self, cx: &mut Context<'_>) -> bool {
        (self.on_end.as_mut().and_then(OnEnd::own_cancel))
            .is_some_and(|(own, listening)| own.poll(listening, cx))
    }

    fn report(&mut self, outcome: Outcome<E, T>) {
        if let Some(on_end) = self.on_end.take() {
            self.shared.report(on_end.on_end(outcome));
        }
    }
}

impl<T, E, H: OnEnd<T, E>> Drop for Reporter<T, E, H> {
    fn drop(&mut self) {
        // Usually reported already, by the child's end.
        if self.on_end.is_some() {
            self.report(Outcome::Cancelled);
        }
    }
}

impl<F, T, E, H> Future for Child<F, T, E, H>
where
    F: Future<Output = Result<T, E>>,
    H: OnEnd<T, E>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        if this.fut.is_none() {
            return this.drain(cx);
        }
        let mut cancelled = this.reporter.is_cancelled();
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
                Ok(Poll::Ready(Ok(value))) => Some(Outcome::Done(value)),
                Ok(Poll::Ready(Err(err))) => Some(Outcome::Failed(Failure::Error(err))),
                Err(payload) => Some(Outcome::Failed(Failure::Panic(TaskPanic::new(payload)))),
            };
            if let Some(outcome) = outcome {
                this.fut.set(None);
                return this.end(outcome, cx);
            }
            if cancelled {
                // Woken by the work inside, or by the node for work it does not poll.
                if !Waiting::poll_idle(this.waiting, this.node, cx) {
                    return Poll::Pending;
                }
                break;
            }
            // Waiting: listen for the group's cancellation too, and the child's own.
            let shared = &this.reporter.shared;
            let group_cancelled = (this.listener)
                .poll(|| shared.cancel.listen(), || shared.is_cancelled(), cx)
                .is_ready();
            let own_cancelled = this.reporter.poll_own_cancel(cx);
            if !group_cancelled && !own_cancelled {
                return Poll::Pending;
            }
            cancelled = true;
        }
        // Cancelled: drop the future (then report, as the reporter's drop would).
        this.fut.set(None);
        this.end(Outcome::Cancelled, cx)
    }
}

impl<F, T, E, H: OnEnd<T, E>> ChildProj<'_, F, T, E, H> {
    /// Reports how the child ended once its future is gone and the work handed to its node
    /// has ended.
    #[inline]
    fn end(&mut self, outcome: Outcome<E, T>, cx: &mut Context<'_>) -> Poll<()> {
        if !Waiting::poll_idle(self.waiting, self.node, cx) {
            if let Some(waiting) = self.waiting.as_mut() {
                waiting.ended = Some(outcome);
            }
            return Poll::Pending;
        }
        self.reporter.report(outcome);
        Poll::Ready(())
    }

    /// As [`end`](Self::end), for the outcome kept while the handed work ran.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !Waiting::poll_idle(self.waiting, self.node, cx) {
            return Poll::Pending;
        }
        let Some(outcome) = self
            .waiting
            .as_mut()
            .and_then(|waiting| waiting.ended.take())
        else {
            panic!("child polled after completion");
        };
        self.reporter.report(outcome);
        Poll::Ready(())
    }
}
