//! Task trackers: work that outlives the code that started it, counted, waited for and
//! cancelled by its owner.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use portico_rt::Runtime;

use crate::failure::TaskPanic;

mod child;

use child::{Child, Shared};

/// Keeps account of tasks that outlive the code that started them, so that their owner can
/// wait for them and cancel them: the connections of a server, its upgraded connections
/// (WebSockets), its work after each response.
///
/// This is tokio-util's `TaskTracker` with the cancellation of a [task group](crate::task_group):
///
/// * [`start_soon`](Self::start_soon) starts a child (a `Send + 'static` future) on the current
///   runtime and returns at once; the code that started it may end, or be dropped, and the
///   child runs on, tracked here.
/// * [`len`](Self::len) counts the children whose futures have not been dropped yet;
///   [`wait`](Self::wait) resolves once there are none.
/// * [`cancel`](Self::cancel) drops every child's future, on the runtime and without waiting
///   for it to reach an end of its own, and drops later children unstarted. It is permanent.
/// * [`shutdown`](Self::shutdown) is a cancellation with a deadline: it waits for the children
///   until then, and cancels those still running.
/// * A panic in a child is caught, the same way on every runtime, and stops that child only;
///   the owner hears of it through [`on_panic`](Self::on_panic) or
///   [`take_panic`](Self::take_panic).
///
/// Clones are cheap and share the tracker. It needs no runtime until a child starts, so it can
/// be made with the application, before anything runs.
///
/// # Examples
///
/// A server's connections, given half a second to finish when it shuts down:
///
/// ```
/// use std::time::{Duration, Instant};
/// use portico_tasks::TaskTracker;
///
/// # portico::run(async {
/// let connections = TaskTracker::new();
/// for id in 0..3 {
///     // Stands for a connection served on its own, for as long as it lasts.
///     connections.start_soon(async move {
///         let rt = portico_rt::current().unwrap();
///         rt.sleep(Duration::from_millis(10 * id)).await;
///     });
/// }
/// // And a WebSocket that would stay open for ever.
/// connections.start_soon(std::future::pending());
/// assert_eq!(connections.len(), 4);
///
/// let cancelled = connections.shutdown(Instant::now() + Duration::from_millis(500)).await;
/// assert_eq!(cancelled, 1, "only the WebSocket outlived the grace period");
/// assert!(connections.is_empty());
/// # });
/// ```
///
/// # Panics in children
///
/// A child that panics is dropped there; the tracker and the other children carry on. With a
/// hook set by [`on_panic`](Self::on_panic), each panic is handed to it as a [`TaskPanic`].
/// Without one, the first panic is kept until [`take_panic`](Self::take_panic) takes it, and
/// the ones after it, while it is kept, are only counted: nothing is printed, and
/// [`panicked`](Self::panicked) counts every panic, hook or not. Either way the panic has been
/// handled before its child stops counting, so once [`wait`](Self::wait) returns, every panic
/// of the children it waited for has been heard.
///
/// # Cancel scopes, and dropping the tracker
///
/// A tracker is not a scope. Its children run outside the [cancel scopes](crate::CancelScope)
/// of the code that started them: no enclosing deadline applies to them
/// ([`current_effective_deadline`](crate::current_effective_deadline) gives `None` inside), and
/// cancelling or dropping that code leaves them running. This is where work goes that must
/// outlive a future dropped from outside, which cannot wait for it: the tracker's owner waits
/// instead.
///
/// Dropping a tracker, even its last handle, cancels nothing: its children run on, unwatched,
/// until they end or their runtime shuts down, which drops them. Call
/// [`shutdown`](Self::shutdown) or [`cancel`](Self::cancel) before letting go of it.
///
/// # Task group or tracker?
///
/// | | [`task_group`](crate::task_group) | `TaskTracker` |
/// | --- | --- | --- |
/// | lives | for one `.await`: it returns once every child has ended | as long as its owner keeps it |
/// | a failure | cancels the siblings, and reaches the caller with every other failure | stops its child only; a panic goes to the owner ([`on_panic`](Self::on_panic), [`take_panic`](Self::take_panic)) |
/// | children return | `Result<(), E>`, or a value ([`soon`](crate::TaskGroup::soon)) | `()`: a child handles its own errors |
/// | ends with | the group's own end | [`wait`](Self::wait), [`shutdown`](Self::shutdown) or [`cancel`](Self::cancel), when the owner calls it |
/// | good for | structured fan-out whose results and failures matter to the caller | long-lived work owned by a server or an application, waited for and cancelled at shutdown |
///
/// # Cancel safety
///
/// * [`wait`](Self::wait): cancel-safe; dropping it stops the waiting only.
/// * [`shutdown`](Self::shutdown): dropped while it waits for the deadline, it has cancelled
///   nothing and the children run on; dropped once it has cancelled them, only the waiting for
///   their futures to be dropped stops.
#[derive(Clone)]
pub struct TaskTracker {
    shared: Arc<Shared>,
}

impl fmt::Debug for TaskTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskTracker")
            .field("len", &self.len())
            .field("cancelled", &self.is_cancelled())
            .field("panicked", &self.panicked())
            .finish()
    }
}

impl Default for TaskTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl TaskTracker {
    /// A tracker with no children, and no hook for their panics.
    pub fn new() -> Self {
        TaskTracker {
            shared: Arc::new(Shared::new()),
        }
    }

    /// Hands every panic of a child to `hook` from now on, for this tracker and every clone of
    /// it; replaces an earlier hook.
    ///
    /// The hook runs on the thread that polled the child, after the child's future has been
    /// dropped. Keep it short, and don't panic in it: the runtime would catch that panic, and
    /// nobody would hear of it. A hook that holds a clone of the tracker keeps the tracker alive
    /// as long as the tracker keeps the hook.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use portico_tasks::TaskTracker;
    ///
    /// # portico::run(async {
    /// let messages = Arc::new(Mutex::new(Vec::new()));
    /// let heard = messages.clone();
    /// let tracker = TaskTracker::new().on_panic(move |panic| {
    ///     // A server would log it.
    ///     heard.lock().unwrap().push(panic.to_string());
    /// });
    /// tracker.start_soon(async { panic!("the cleanup failed") });
    /// tracker.wait().await;
    /// assert_eq!(*messages.lock().unwrap(), ["task panicked: the cleanup failed"]);
    /// # });
    /// ```
    #[must_use = "on_panic gives the tracker back; keep it"]
    pub fn on_panic(self, hook: impl Fn(TaskPanic) + Send + Sync + 'static) -> Self {
        self.shared.set_hook(Arc::new(hook));
        self
    }

    /// Starts `fut` as a child on the current runtime and returns at once (AnyIO's
    /// `start_soon`).
    ///
    /// If the tracker is cancelled, `fut` is dropped here, unstarted.
    ///
    /// # Panics
    ///
    /// Panics if called outside a runtime (see [`portico_rt::current`]); code that holds a
    /// runtime handle can use [`start_soon_on`](Self::start_soon_on) from anywhere.
    pub fn start_soon<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let rt =
            portico_rt::current().unwrap_or_else(|err| panic!("TaskTracker::start_soon: {err}"));
        self.start_soon_on(&rt, fut);
    }

    /// Starts `fut` as a child on `rt` and returns at once; it works from any thread.
    ///
    /// If the tracker is cancelled, `fut` is dropped here, unstarted.
    pub fn start_soon_on<F>(&self, rt: &Runtime, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Counted before the tracker is looked at, so that a shutdown cancelling meanwhile
        // either sees this child and waits for it, or is seen here.
        let child = Child::new(&self.shared, fut);
        if self.is_cancelled() {
            // Drops the future, then stops counting it: it never started, so it was not cut.
            drop(child);
            return;
        }
        // The tracker keeps the child accounted for itself, through its count and its cancel
        // event. A child cancelled between here and its first poll is dropped unpolled.
        rt.spawn_detached(child);
    }

    /// How many children have started and not yet had their futures dropped; a child counts
    /// until its future is gone, cancelled children included.
    pub fn len(&self) -> usize {
        self.shared.running()
    }

    /// Whether no child is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until no child is running: at once if none is. A child started while this waits
    /// makes it wait for that child too.
    ///
    /// It needs no runtime, and does not stop anything from starting: a child started after it
    /// returns runs as any other. To wait and refuse new children, use
    /// [`shutdown`](Self::shutdown) or [`cancel`](Self::cancel).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping it stops the waiting only.
    pub async fn wait(&self) {
        self.shared.idle().await;
    }

    /// Cancels every child: their futures are dropped on their runtime, promptly (a waiting
    /// child is woken to be dropped; one being polled is dropped once that poll returns), and
    /// children started later are dropped unstarted. Works from any thread, any number of
    /// times; it cannot be undone.
    ///
    /// A child running a [`shield`](crate::shield) or waiting for a
    /// [`to_thread`](crate::to_thread) thread is dropped once that work has ended.
    ///
    /// It does not wait for the futures to be dropped; [`wait`](Self::wait) does.
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// Whether the tracker is cancelled, by [`cancel`](Self::cancel) or
    /// [`shutdown`](Self::shutdown).
    pub fn is_cancelled(&self) -> bool {
        self.shared.is_cancelled()
    }

    /// Shuts the tracker down by `deadline`: waits until no child is running or the deadline
    /// passes, whichever is first, then cancels the tracker and waits until the futures of the
    /// children still running have been dropped.
    ///
    /// Returns how many children the cancellation dropped before they finished: 0 when every
    /// child finished in time. Once it returns, no child runs and none can start.
    ///
    /// The deadline is read on the current runtime's clock, and bounds the grace period only:
    /// a child's future is dropped once the poll it is in (if any) returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use portico_tasks::TaskTracker;
    ///
    /// # portico::run(async {
    /// let background = TaskTracker::new();
    /// background.start_soon(async { /* send an email */ });
    /// assert_eq!(background.shutdown(Instant::now() + Duration::from_secs(5)).await, 0);
    ///
    /// // Shut down: what starts now is dropped unstarted.
    /// background.start_soon(async { unreachable!("never polled") });
    /// assert!(background.is_empty());
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// Panics if called outside a runtime (see [`portico_rt::current`]).
    ///
    /// # Cancel safety
    ///
    /// Dropped while it waits for the deadline, it has cancelled nothing, and the children run
    /// on. Dropped once it has cancelled them, only the waiting for their futures to be dropped
    /// stops.
    pub async fn shutdown(&self, deadline: Instant) -> usize {
        let rt = portico_rt::current().unwrap_or_else(|err| panic!("TaskTracker::shutdown: {err}"));
        // Whether or not everything finished in time, cancelling closes the tracker: a child
        // started from now on (by a child finishing, say) cannot outlive the shutdown.
        let _ = rt.timeout_at(deadline, self.wait()).await;
        self.cancel();
        self.wait().await;
        self.shared.cut()
    }

    /// How many children have panicked, whether a hook heard them or not.
    pub fn panicked(&self) -> usize {
        self.shared.panicked()
    }

    /// Takes the first panic of a child that no hook heard, if one is kept (see
    /// [`on_panic`](Self::on_panic)); once it is taken, the next such panic is kept.
    pub fn take_panic(&self) -> Option<TaskPanic> {
        self.shared.take_panic()
    }
}
