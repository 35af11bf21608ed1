//! [`Running`]: what an application has running beside its requests, and how it is told to
//! stop. Work that outlives a response (background tasks, dependency cleanups) and upgraded
//! connections (WebSockets) are children of its trackers, so that a server shutting down
//! waits for them within its grace period and cancels what is left, with no hand-kept count;
//! applications mounted in it are stopped with it.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use portico_tasks::{Event, TaskPanic, TaskTracker};

/// What an application has running beside its requests. Cloning it shares it.
#[derive(Clone)]
pub(crate) struct Running {
    inner: Arc<Inner>,
}

struct Inner {
    /// Work that runs once a response is done with: background tasks and cleanups.
    work: TaskTracker,
    /// Connections that left HTTP behind (WebSockets).
    sockets: TaskTracker,
    /// Set once the application starts shutting down: event streams end and WebSockets
    /// close.
    draining: Arc<Event>,
    /// Applications mounted in this one, stopped with it.
    mounted: Mutex<Vec<Running>>,
    /// The trackers of connections of the servers that serve the application, for the count
    /// of open connections (metrics).
    served_by: Mutex<Vec<TaskTracker>>,
}

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("work", &self.inner.work.len())
            .field("sockets", &self.inner.sockets.len())
            .field("draining", &self.inner.draining.is_set())
            .finish()
    }
}

impl Default for Running {
    fn default() -> Self {
        Running {
            inner: Arc::new(Inner {
                work: TaskTracker::new().on_panic(|panic| log_panic("after-response work", &panic)),
                sockets: TaskTracker::new().on_panic(|panic| log_panic("a WebSocket", &panic)),
                draining: Arc::default(),
                mounted: Mutex::new(Vec::new()),
                served_by: Mutex::new(Vec::new()),
            }),
        }
    }
}

fn log_panic(what: &str, panic: &TaskPanic) {
    tracing::error!(
        "{what} panicked: {}",
        panic.message().unwrap_or("(no message)")
    );
}

impl Running {
    /// Where work that runs after a response goes.
    pub(crate) fn work(&self) -> &TaskTracker {
        &self.inner.work
    }

    /// Where upgraded connections run.
    #[cfg(feature = "websocket")]
    pub(crate) fn sockets(&self) -> &TaskTracker {
        &self.inner.sockets
    }

    /// The signal that the application is shutting down.
    pub(crate) fn draining(&self) -> &Arc<Event> {
        &self.inner.draining
    }

    /// Stops `child` (an application mounted in this one) with this one.
    pub(crate) fn adopt(&self, child: Running) {
        self.mounted().push(child);
    }

    fn mounted(&self) -> std::sync::MutexGuard<'_, Vec<Running>> {
        self.inner
            .mounted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts the connections of `connections`, a server's tracker of them, among the
    /// application's open connections.
    pub(crate) fn served_by(&self, connections: &TaskTracker) {
        // A server that stopped keeps its place, with no connection left: one tracker per
        // server started, which is a handful.
        self.inner
            .served_by
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(connections.clone());
    }

    /// How many connections are open to the servers of the application, upgraded ones
    /// (WebSockets) included.
    #[cfg_attr(
        not(feature = "metrics"),
        expect(dead_code, reason = "read by the metrics only")
    )]
    pub(crate) fn open_connections(&self) -> usize {
        let servers = self
            .inner
            .served_by
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        servers.iter().map(TaskTracker::len).sum::<usize>() + self.open_sockets()
    }

    /// Tells the application, and those mounted in it, that it is shutting down.
    pub(crate) fn drain(&self) {
        self.inner.draining.set();
        for child in self.mounted().clone() {
            child.drain();
        }
    }

    /// Waits until no upgraded connection is open, here or in a mounted application.
    pub(crate) async fn sockets_closed(&self) {
        self.all_done(|inner| &inner.sockets).await;
    }

    /// How many upgraded connections are open, here and in mounted applications.
    pub(crate) fn open_sockets(&self) -> usize {
        self.count(|inner| &inner.sockets)
    }

    /// Drops the upgraded connections still open (their cleanups still run, as work).
    pub(crate) fn cut_sockets(&self) {
        self.inner.sockets.cancel();
        for child in self.mounted().clone() {
            child.cut_sockets();
        }
    }

    /// Waits until no work runs after a response, here or in a mounted application.
    pub(crate) async fn work_done(&self) {
        self.all_done(|inner| &inner.work).await;
    }

    /// How much after-response work is running, here and in mounted applications.
    pub(crate) fn working(&self) -> usize {
        self.count(|inner| &inner.work)
    }

    /// Waits until `tracker`'s children have ended, here and in every mounted application.
    async fn all_done(&self, tracker: fn(&Inner) -> &TaskTracker) {
        tracker(&self.inner).wait().await;
        let mounted = self.mounted().clone();
        for child in mounted {
            Box::pin(child.all_done(tracker)).await;
        }
    }

    /// How many of `tracker`'s children run, here and in every mounted application.
    fn count(&self, tracker: fn(&Inner) -> &TaskTracker) -> usize {
        let mounted: usize = self
            .mounted()
            .iter()
            .map(|child| child.count(tracker))
            .sum();
        tracker(&self.inner).len() + mounted
    }
}
