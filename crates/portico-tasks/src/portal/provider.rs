//! [`BlockingPortalProvider`]: one portal shared by many threads, started by the first that
//! needs it and stopped by the last that leaves.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{BlockingPortal, assert_not_on_event_loop};

/// Shares one [`BlockingPortal`] between threads that come and go (AnyIO's
/// `BlockingPortalProvider`): the first thread to ask for it starts it, the others share it,
/// and the last one to give its [`PortalLease`] back stops it. The next thread to ask then
/// starts a new one.
///
/// A `BlockingPortal` alone belongs to one owner, who stops it; tokio has no counterpart (a
/// `Handle` to a runtime kept alive elsewhere comes closest).
///
/// # Examples
///
/// ```
/// use portico_tasks::BlockingPortalProvider;
///
/// let provider = BlockingPortalProvider::new(|| portico::start_blocking_portal().unwrap());
/// std::thread::scope(|threads| {
///     for n in 0..3 {
///         let provider = &provider;
///         threads.spawn(move || {
///             let portal = provider.portal(); // started by the first thread here
///             assert_eq!(portal.call(async move { n * 2 }).unwrap(), n * 2);
///         }); // stopped when the last lease is dropped
///     }
/// });
/// assert!(!provider.is_running());
/// ```
pub struct BlockingPortalProvider {
    start: Box<dyn Fn() -> BlockingPortal + Send + Sync>,
    state: Mutex<State>,
}

struct State {
    portal: Option<Arc<BlockingPortal>>,
    leases: usize,
}

impl fmt::Debug for BlockingPortalProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPortalProvider")
            .field("leases", &self.lock().leases)
            .finish_non_exhaustive()
    }
}

impl BlockingPortalProvider {
    /// A provider that starts its portal with `start`, such as the `portico` facade's
    /// `start_blocking_portal` (a runtime of its own) or [`BlockingPortal::new`] on a runtime
    /// kept elsewhere.
    pub fn new(start: impl Fn() -> BlockingPortal + Send + Sync + 'static) -> Self {
        BlockingPortalProvider {
            start: Box::new(start),
            state: Mutex::new(State {
                portal: None,
                leases: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The shared portal, started now if no thread holds it; it runs at least until the lease
    /// is dropped.
    ///
    /// # Panics
    ///
    /// Panics if called from async code (starting and stopping a portal block), or if
    /// starting the portal panics.
    pub fn portal(&self) -> PortalLease<'_> {
        assert_not_on_event_loop("BlockingPortalProvider::portal");
        let mut state = self.lock();
        let portal = match &state.portal {
            Some(portal) => portal.clone(),
            // Started under the lock: threads arriving meanwhile wait for this portal rather
            // than starting one each.
            None => state.portal.insert(Arc::new((self.start)())).clone(),
        };
        state.leases += 1;
        PortalLease {
            provider: self,
            portal: Some(portal),
        }
    }

    /// Whether a portal is running, held by at least one lease.
    pub fn is_running(&self) -> bool {
        self.lock().portal.is_some()
    }
}

/// A thread's share of a [`BlockingPortalProvider`]'s portal, from
/// [`BlockingPortalProvider::portal`]; use it as the portal. Dropping the last lease stops the
/// portal, waiting for its tasks.
#[must_use = "the portal stops when the last lease is dropped"]
pub struct PortalLease<'a> {
    provider: &'a BlockingPortalProvider,
    /// `None` only while it is dropped.
    portal: Option<Arc<BlockingPortal>>,
}

impl fmt::Debug for PortalLease<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalLease")
            .field("portal", &self.portal)
            .finish()
    }
}

impl Deref for PortalLease<'_> {
    type Target = BlockingPortal;

    fn deref(&self) -> &BlockingPortal {
        match &self.portal {
            Some(portal) => portal,
            None => unreachable!("a lease holds its portal until it is dropped"),
        }
    }
}

impl Drop for PortalLease<'_> {
    fn drop(&mut self) {
        let ours = self.portal.take();
        let last = {
            let mut state = self.provider.lock();
            state.leases -= 1;
            if state.leases == 0 {
                state.portal.take()
            } else {
                None
            }
        };
        drop(ours);
        // The last lease: the portal stops as it is dropped, outside the provider's lock, so
        // that a thread arriving meanwhile starts a new one instead of waiting.
        drop(last);
    }
}
