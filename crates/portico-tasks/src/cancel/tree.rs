//! The tree of cancellers, so that a cancelled scope can wait for work that must end first.
//!
//! Cancellation drops a future, and a dropped future cannot wait. So the waiting is done by
//! whoever cancels: a cancel scope, a task group's body or child, a tracker's child. Each polls
//! its future inside a [`Node`] of its own, whose parent is the node it is polled in. Work that
//! must not be cut short ([`shield`](crate::shield), the thread of
//! [`to_thread`](crate::to_thread), a pending [`start`](crate::TaskGroup::start)) registers as
//! [`Busy`] in the node it runs in and every node above it. A canceller whose node is busy
//! does not drop its future: it marks the node as cancelled, goes on polling, and drops the
//! future once the node is idle. The busy work sees the cancellation
//! ([`Busy::cancel_requested`]) up to the nearest shield, and may end early.
//!
//! A task group is busy work too, from its first poll until it has ended: a canceller above
//! it delivers its cancellation to the group ([`Busy::poll_cancel_requested`], which also
//! wakes a group that nothing polls) and waits for the group's children. A group dropped from
//! outside before it ended, which cannot wait, leaves its [`Busy`] with its children until
//! the last one has ended: the cancellers above it wait for them, whether they are cancelled
//! or end normally ([`Node::poll_idle`]).
//!
//! `busy`, `requested` and `waiting` are accessed with `SeqCst`: a canceller marks itself
//! waiting before it looks at `busy`, and the last busy work looks at `waiting` after it
//! lowered `busy`, so one of the two always sees the other. (On x86 and ARMv8 this costs
//! nothing over acquire and release.)

use std::cell::Cell;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Context;

use event_listener::{Event, EventListener};

/// One canceller in the tree.
#[derive(Debug)]
pub(crate) struct Node {
    parent: Option<Arc<Node>>,
    /// A cancellation requested above this node does not reach below it.
    shield: AtomicBool,
    /// This node's canceller has been cancelled and waits for the node to be idle.
    requested: AtomicBool,
    /// Busy work at or below this node.
    busy: AtomicUsize,
    /// Notified once, when the node is first requested: busy work that is not polled by this
    /// node's canceller (a group inside a combinator that polls only what woke) hears of it.
    requested_event: Event,
    /// This node's canceller waits for the node to be idle ([`Node::poll_idle`]).
    waiting: AtomicBool,
    /// Notified when `busy` falls to zero while the canceller waits. Both events cost nothing
    /// until someone listens.
    idle: Event,
}

impl Node {
    pub(crate) fn new(parent: Option<Arc<Node>>) -> Arc<Self> {
        Arc::new(Node {
            parent,
            shield: AtomicBool::new(false),
            requested: AtomicBool::new(false),
            busy: AtomicUsize::new(0),
            requested_event: Event::new(),
            waiting: AtomicBool::new(false),
            idle: Event::new(),
        })
    }

    /// A node under the one the caller is polled in (materialising a lazy one).
    pub(crate) fn child_of_current() -> Arc<Self> {
        Node::new(current())
    }

    pub(crate) fn set_shield(&self, shield: bool) {
        self.shield.store(shield, Ordering::Release);
    }

    /// Marks the node's canceller as cancelled: busy work below sees it.
    pub(crate) fn request(&self) {
        if !self.requested.swap(true, Ordering::SeqCst) {
            self.requested_event.notify(usize::MAX);
        }
    }

    pub(crate) fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Whether work at or below this node must end before the node's future may be dropped.
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst) > 0
    }

    /// Whether the node is idle; if not, `listener` wakes `cx` once it is. For a canceller
    /// waiting for work it may not poll itself: the children of a group dropped from outside.
    pub(crate) fn poll_idle(
        &self,
        listener: &mut Option<EventListener>,
        cx: &mut Context<'_>,
    ) -> bool {
        loop {
            if !self.is_busy() {
                *listener = None;
                return true;
            }
            let Some(waiting) = listener.as_mut() else {
                // Marked and listening before looking again: the last busy work to end sees
                // the mark and notifies, or this look sees it gone.
                self.waiting.store(true, Ordering::SeqCst);
                *listener = Some(self.idle.listen());
                continue;
            };
            if Pin::new(waiting).poll(cx).is_pending() {
                return false;
            }
            *listener = None;
        }
    }

    /// Polls with `f` inside this node.
    pub(crate) fn enter<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        run_in(Mode::Node, Some(self.clone()), f).0
    }
}

/// What kind of canceller the calling code runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// None can wait here.
    None,
    /// A task's own canceller, whose node is made only if something needs it.
    Lazy,
    /// The canceller whose node is in [`NODE`].
    Node,
}

thread_local! {
    // Split in two so that the common case, a child that never needs a node, touches one
    // byte: a `const` thread-local without a destructor is the cheapest kind to reach, and
    // every child poll sets it twice. `NODE` holds a node exactly when `MODE` is `Node`.
    static MODE: Cell<Mode> = const { Cell::new(Mode::None) };
    static NODE: Cell<Option<Arc<Node>>> = const { Cell::new(None) };
}

/// Makes `mode` (and `node`, for `Mode::Node`) the thread's; gives back what it replaced.
#[inline(always)]
fn swap(mode: Mode, node: Option<Arc<Node>>) -> (Mode, Option<Arc<Node>>) {
    let previous = MODE.replace(mode);
    let previous_node = if previous == Mode::Node || mode == Mode::Node {
        NODE.try_with(|slot| slot.replace(node)).ok().flatten()
    } else {
        None
    };
    (previous, previous_node)
}

/// Runs `f` in `mode`; gives back the node the thread had when `f` returned, if any (a lazy
/// canceller's node may have been made).
fn run_in<R>(mode: Mode, node: Option<Arc<Node>>, f: impl FnOnce() -> R) -> (R, Option<Arc<Node>>) {
    // Restored even if `f` unwinds.
    struct Restore(Option<(Mode, Option<Arc<Node>>)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some((mode, node)) = self.0.take() {
                swap(mode, node);
            }
        }
    }
    let mut restore = Restore(Some(swap(mode, node)));
    let output = f();
    let (previous, previous_node) = restore.0.take().unwrap_or((Mode::None, None));
    let (_, now) = swap(previous, previous_node);
    (output, now)
}

/// The node the caller runs in, made now if it was lazy.
fn current() -> Option<Arc<Node>> {
    match MODE.get() {
        Mode::None => None,
        Mode::Node => NODE
            .try_with(|slot| {
                let node = slot.take();
                slot.set(node.clone());
                node
            })
            .ok()
            .flatten(),
        Mode::Lazy => {
            let node = Node::new(None);
            MODE.set(Mode::Node);
            let _ = NODE.try_with(|slot| slot.set(Some(node.clone())));
            Some(node)
        }
    }
}

/// The node of a task's own canceller (a group's or a tracker's child), made the first time
/// something inside the task needs it, so that children that never need one cost nothing.
#[derive(Debug, Default)]
pub(crate) struct LazyNode(Option<Arc<Node>>);

impl LazyNode {
    /// Polls with `f` inside this node.
    pub(crate) fn enter<R>(&mut self, f: impl FnOnce() -> R) -> R {
        // The node moves to the thread and back, rather than being counted once more at every
        // poll; one made while `f` runs comes back the same way.
        let mode = if self.0.is_some() {
            Mode::Node
        } else {
            Mode::Lazy
        };
        let (output, now) = run_in(mode, self.0.take(), f);
        self.0 = now;
        output
    }

    #[inline]
    pub(crate) fn is_busy(&self) -> bool {
        self.0.as_ref().is_some_and(|node| node.is_busy())
    }

    pub(crate) fn request(&self) {
        if let Some(node) = &self.0 {
            node.request();
        }
    }

    /// As [`Node::poll_idle`]; a node never made is idle.
    pub(crate) fn poll_idle(
        &self,
        listener: &mut Option<EventListener>,
        cx: &mut Context<'_>,
    ) -> bool {
        self.0
            .as_ref()
            .is_none_or(|node| node.poll_idle(listener, cx))
    }
}

/// Work that the cancellers above it wait for, from [`Busy::enter`] until dropped.
#[derive(Debug)]
pub(crate) struct Busy {
    node: Option<Arc<Node>>,
}

impl Busy {
    /// Registers busy work in the node the caller runs in and every node above it.
    pub(crate) fn enter() -> Self {
        let node = current();
        let mut at = node.as_deref();
        while let Some(node) = at {
            node.busy.fetch_add(1, Ordering::SeqCst);
            at = node.parent.as_deref();
        }
        Busy { node }
    }

    /// The nodes whose cancellation reaches this work: the one it runs in and those above,
    /// up to the nearest shield.
    fn reached_by(&self) -> impl Iterator<Item = &Node> {
        let mut at = self.node.as_deref();
        let mut shielded = false;
        std::iter::from_fn(move || {
            if shielded {
                return None;
            }
            let node = at?;
            shielded = node.shield.load(Ordering::Acquire);
            at = node.parent.as_deref();
            Some(node)
        })
    }

    /// Whether a canceller above this work, up to the nearest shield, has been cancelled and
    /// waits for it.
    pub(crate) fn cancel_requested(&self) -> bool {
        self.reached_by().any(Node::is_requested)
    }

    /// As [`cancel_requested`](Self::cancel_requested); if not, `watch` wakes `cx` when a
    /// canceller above is cancelled, for work that its canceller may not poll then (a group
    /// inside a combinator that polls only the futures that woke, such as
    /// `FuturesUnordered` or a [`scope`](crate::scope)).
    pub(crate) fn poll_cancel_requested(
        &self,
        watch: &mut Vec<EventListener>,
        cx: &mut Context<'_>,
    ) -> bool {
        loop {
            if self.cancel_requested() {
                return true;
            }
            if self.node.is_none() {
                return false;
            }
            if watch.is_empty() {
                // Listening first, then looking again: a request in between is not missed.
                watch.extend(self.reached_by().map(|node| node.requested_event.listen()));
                continue;
            }
            let mut heard = false;
            for listener in watch.iter_mut() {
                heard |= Pin::new(listener).poll(cx).is_ready();
            }
            if !heard {
                return false;
            }
            // A listener that fired is spent: look again, and listen anew if need be.
            watch.clear();
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut at = self.node.as_deref();
        while let Some(node) = at {
            if node.busy.fetch_sub(1, Ordering::SeqCst) == 1 && node.waiting.load(Ordering::SeqCst)
            {
                node.idle.notify(usize::MAX);
            }
            at = node.parent.as_deref();
        }
    }
}
