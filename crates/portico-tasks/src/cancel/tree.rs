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

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
}

impl Node {
    pub(crate) fn new(parent: Option<Arc<Node>>) -> Arc<Self> {
        Arc::new(Node {
            parent,
            shield: AtomicBool::new(false),
            requested: AtomicBool::new(false),
            busy: AtomicUsize::new(0),
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
        self.requested.store(true, Ordering::Release);
    }

    pub(crate) fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Whether work at or below this node must end before the node's future may be dropped.
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire) > 0
    }

    /// Polls with `f` inside this node.
    pub(crate) fn enter<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        with_current(Current::Node(self.clone()), f).0
    }
}

/// The node code runs in.
#[derive(Default)]
enum Current {
    /// No canceller can wait here.
    #[default]
    None,
    /// A task's own canceller, whose node is made only if something needs it.
    Lazy,
    Node(Arc<Node>),
}

thread_local! {
    static CURRENT: RefCell<Current> = const { RefCell::new(Current::None) };
}

/// Runs `f` with `current` as the thread's node; gives back what the node became (a lazy one
/// may have been made).
fn with_current<R>(current: Current, f: impl FnOnce() -> R) -> (R, Current) {
    let previous = CURRENT
        .try_with(|slot| slot.replace(current))
        .unwrap_or_default();
    // Restored even if `f` unwinds.
    struct Restore(Option<Current>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                let _ = CURRENT.try_with(|slot| slot.replace(previous));
            }
        }
    }
    let mut restore = Restore(Some(previous));
    let output = f();
    let previous = restore.0.take().unwrap_or_default();
    let now = CURRENT
        .try_with(|slot| slot.replace(previous))
        .unwrap_or_default();
    (output, now)
}

/// The node the caller runs in, made now if it was lazy.
fn current() -> Option<Arc<Node>> {
    CURRENT
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            match &*slot {
                Current::None => None,
                Current::Node(node) => Some(node.clone()),
                Current::Lazy => {
                    let node = Node::new(None);
                    *slot = Current::Node(node.clone());
                    Some(node)
                }
            }
        })
        .ok()
        .flatten()
}

/// The node of a task's own canceller (a group's or a tracker's child), made the first time
/// something inside the task needs it, so that children that never need one cost nothing.
#[derive(Debug, Default)]
pub(crate) struct LazyNode(Option<Arc<Node>>);

impl LazyNode {
    /// Polls with `f` inside this node.
    pub(crate) fn enter<R>(&mut self, f: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(node) => node.enter(f),
            None => {
                let (output, now) = with_current(Current::Lazy, f);
                if let Current::Node(node) = now {
                    self.0 = Some(node);
                }
                output
            }
        }
    }

    pub(crate) fn is_busy(&self) -> bool {
        self.0.as_ref().is_some_and(|node| node.is_busy())
    }

    pub(crate) fn request(&self) {
        if let Some(node) = &self.0 {
            node.request();
        }
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
            node.busy.fetch_add(1, Ordering::AcqRel);
            at = node.parent.as_deref();
        }
        Busy { node }
    }

    /// Whether a canceller above this work, up to the nearest shield, has been cancelled and
    /// waits for it.
    pub(crate) fn cancel_requested(&self) -> bool {
        let mut at = self.node.as_deref();
        while let Some(node) = at {
            if node.is_requested() {
                return true;
            }
            if node.shield.load(Ordering::Acquire) {
                return false;
            }
            at = node.parent.as_deref();
        }
        false
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut at = self.node.as_deref();
        while let Some(node) = at {
            node.busy.fetch_sub(1, Ordering::AcqRel);
            at = node.parent.as_deref();
        }
    }
}
