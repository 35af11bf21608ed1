//! What a tracker shares with its children, and the children themselves.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use event_listener::{Event, EventListener};

use crate::cancel::Listening;

use crate::cancel::tree::LazyNode;
use crate::failure::TaskPanic;

/// What the owner of a tracker is told of a child's panic.
pub(super) type PanicHook = Arc<dyn Fn(TaskPanic) + Send + Sync>;

/// What a tracker and its children share.
///
/// Starting and finishing a child touches only atomics: the count of running children, and the
/// idle event, notified only when the count falls to zero and cheap while nobody waits. A child
/// that waits registers once with the cancel event, as a task group's children do: children are
/// cancelled by a flag and an event rather than through their join handles, so the tracker
/// keeps no table of them. The tracker's own lock is taken only when a child panics or a hook
/// is set.
pub(super) struct Shared {
    /// Children whose futures have not been dropped yet, cancelled ones included.
    ///
    /// `running` and `cancelled` are accessed with `SeqCst`: a child is counted before its
    /// starter looks at `cancelled`, and a shutdown cancels before it looks at `running`, so
    /// one of the two always sees the other. (On x86 and ARMv8 this costs nothing over acquire
    /// and release.)
    running: AtomicUsize,
    /// Notified each time `running` falls to zero.
    idle: Event,
    cancelled: AtomicBool,
    /// Notified once, when the tracker is cancelled: waiting children drop their futures.
    cancel: Event,
    /// Children whose futures the cancellation dropped before they finished.
    cut: AtomicUsize,
    panicked: AtomicUsize,
    panics: Mutex<Panics>,
}

#[derive(Default)]
struct Panics {
    hook: Option<PanicHook>,
    /// The first panic no hook heard, until it is taken.
    kept: Option<TaskPanic>,
}

impl Shared {
    pub(super) fn new() -> Self {
        Shared {
            running: AtomicUsize::new(0),
            idle: Event::new(),
            cancelled: AtomicBool::new(false),
            cancel: Event::new(),
            cut: AtomicUsize::new(0),
            panicked: AtomicUsize::new(0),
            panics: Mutex::new(Panics::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Panics> {
        // A hook runs outside the lock, so nothing panics while it is held; a poisoned lock
        // would still be usable.
        self.panics.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    pub(super) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    pub(super) fn cut(&self) -> usize {
        self.cut.load(Ordering::Acquire)
    }

    pub(super) fn panicked(&self) -> usize {
        self.panicked.load(Ordering::Acquire)
    }

    pub(super) fn set_hook(&self, hook: PanicHook) {
        self.lock().hook = Some(hook);
    }

    pub(super) fn take_panic(&self) -> Option<TaskPanic> {
        self.lock().kept.take()
    }

    /// Cancels every child, once.
    pub(super) fn cancel(&self) {
        if !self.cancelled.swap(true, Ordering::SeqCst) {
            self.cancel.notify(usize::MAX);
        }
    }

    /// Resolves once no child is running.
    pub(super) async fn idle(&self) {
        loop {
            if self.running() == 0 {
                return;
            }
            // Listen, then look again: a child ending in between notifies this listener.
            let listener = self.idle.listen();
            if self.running() == 0 {
                return;
            }
            listener.await;
        }
    }

    /// Hands a child's panic to the hook, or keeps it if there is none and none is kept.
    fn panic(&self, panic: TaskPanic) {
        self.panicked.fetch_add(1, Ordering::AcqRel);
        let mut panics = self.lock();
        match panics.hook.clone() {
            Some(hook) => {
                // Called outside the lock, so that the hook may use the tracker.
                drop(panics);
                hook(panic);
            }
            None if panics.kept.is_none() => panics.kept = Some(panic),
            // Counted only: keeping every payload would let a child that panics on each
            // request grow the tracker without bound.
            None => {}
        }
    }
}

/// Counts a child as running from its start until its future has been dropped.
struct Counted(Arc<Shared>);

impl Counted {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.running.fetch_add(1, Ordering::SeqCst);
        Counted(shared.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify(usize::MAX);
        }
    }
}

pin_project_lite::pin_project! {
    /// A child task: its future, and the count it keeps up while it lives.
    #[project = ChildProj]
    pub(super) struct Child<F> {
        #[pin]
        fut: Option<F>,
        // Registered once the child waits, so that cancelling the tracker wakes it.
        listener: Listening,
        // The child's canceller: once cancelled, it waits for the shields, threads and groups
        // inside.
        node: LazyNode,
        // Waits for work in the node that the child does not poll itself.
        idle: Option<EventListener>,
        // Declared after `fut`, so that a child the runtime drops stops counting only once its
        // future is gone. `None` once the child has ended.
        counted: Option<Counted>,
    }
}

impl<F> Child<F> {
    pub(super) fn new(shared: &Arc<Shared>, fut: F) -> Self {
        Child {
            fut: Some(fut),
            listener: Listening::default(),
            node: LazyNode::default(),
            idle: None,
            counted: Some(Counted::new(shared)),
        }
    }
}

impl<F: Future<Output = ()>> Future for Child<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(Counted(shared)) = this.counted.as_ref() else {
            panic!("tracked child polled after completion");
        };
        if this.fut.is_none() {
            // Ended, and waiting for work that a group dropped inside it handed to its node.
            return this.end(cx);
        }
        let mut cancelled = shared.is_cancelled();
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
                panic!("tracked child polled after completion");
            };
            // Panics are caught here, the same way on every runtime, and go to the tracker.
            match this
                .node
                .enter(|| panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))))
            {
                Ok(Poll::Pending) => {}
                Ok(Poll::Ready(())) => {
                    this.fut.set(None);
                    return this.end(cx);
                }
                Err(payload) => {
                    this.fut.set(None);
                    // Heard before the child stops counting: once `wait` returns, every
                    // panic of the children it waited for has reached the hook.
                    shared.panic(TaskPanic::new(payload));
                    return this.end(cx);
                }
            }
            if cancelled {
                // Woken by the work inside, or by the node for work it does not poll.
                if !this.node.poll_idle(this.idle, cx) {
                    return Poll::Pending;
                }
                break;
            }
            // Waiting: listen for the cancellation too.
            let cancel = &shared.cancel;
            let listened = this
                .listener
                .poll(|| cancel.listen(), || shared.is_cancelled(), cx);
            if listened.is_pending() {
                return Poll::Pending;
            }
            cancelled = true;
        }
        // Cancelled: drop the future, unstarted if it never ran, then stop counting.
        this.fut.set(None);
        shared.cut.fetch_add(1, Ordering::AcqRel);
        this.end(cx)
    }
}

impl<F> ChildProj<'_, F> {
    /// Stops counting once the future is gone and the work handed to the node has ended.
    fn end(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.node.poll_idle(self.idle, cx) {
            return Poll::Pending;
        }
        *self.counted = None;
        Poll::Ready(())
    }
}
