//! [`BlockingPortal`]: synchronous code calling async code on a runtime running on its own
//! threads (AnyIO's `BlockingPortal` and `start_blocking_portal`).

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use event_listener::{Event as Notify, Listener};
use portico_rt::{JoinHandle, Runtime, ThreadRole};

use crate::cancel::CancelScope;
use crate::failure::TaskPanic;
use crate::group::{Started, TaskGroup, TaskStatus, task_group};
use crate::sync::Event;
use crate::thread::block_on;
use crate::unwind::CatchUnwind;

mod provider;

pub use provider::{BlockingPortalProvider, PortalLease};

/// Lets synchronous code (a `#[test]`, a command-line tool, a worker thread) call async code on
/// a runtime that runs on threads of its own, and stop it cleanly.
///
/// Tasks started through the portal run in one task group on the runtime, each isolated from
/// the others: a panic in one is re-raised where it is joined, and never cancels the rest.
///
/// A portal borrows a runtime ([`new`](Self::new)) or owns one and shuts it down when it stops
/// ([`with_shutdown`](Self::with_shutdown)); the `portico` facade's `start_blocking_portal`
/// builds the second kind. Dropping the portal stops it, waiting for its tasks (or cancelling
/// them, when dropped during a panic).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # let runtime = portico::Builder::new().worker_threads(1).build().unwrap();
/// # let rt = runtime.handle().clone();
/// // From plain synchronous code:
/// let portal = portico_tasks::BlockingPortal::new(rt);
/// let answer = portal
///     .call(async {
///         portico_rt::current().unwrap().sleep(Duration::from_millis(1)).await;
///         42
///     })
///     .unwrap();
/// assert_eq!(answer, 42);
/// portal.stop(false);
/// ```
pub struct BlockingPortal {
    rt: Runtime,
    group: TaskGroup<Infallible>,
    stop: Arc<Event>,
    main: Option<JoinHandle<()>>,
    /// Behind a lock only so that the portal is `Sync`: it is taken once, when it stops.
    shutdown: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    /// The first panic of a [`start_task`](Self::start_task) task after it reported, which
    /// nobody can join: re-raised when the portal stops.
    orphan_panic: Arc<Mutex<Option<TaskPanic>>>,
}

impl fmt::Debug for BlockingPortal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPortal")
            .field("runtime", &self.rt)
            .finish_non_exhaustive()
    }
}

/// Why a task started through a [`BlockingPortal`] gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortalError {
    /// The task was cancelled: by [`PortalTask::cancel`], or by stopping the portal with
    /// `cancel_remaining`.
    Cancelled,
    /// The portal (or its runtime) had stopped, so the task could not run.
    Stopped,
    /// A task started with [`BlockingPortal::start_task`] ended without reporting that it was
    /// ready.
    NotStarted,
}

impl fmt::Display for PortalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PortalError::Cancelled => "the portal task was cancelled",
            PortalError::Stopped => "the blocking portal has stopped",
            PortalError::NotStarted => "the task ended without calling TaskStatus::started",
        })
    }
}

impl std::error::Error for PortalError {}

/// Where a portal task leaves its outcome, for whoever joins it.
struct Slot<T> {
    outcome: Mutex<Option<Result<T, Outcome>>>,
    done: Notify,
}

/// How a portal task ended without a value.
enum Outcome {
    Failed(PortalError),
    Panicked(TaskPanic),
}

impl<T> Slot<T> {
    fn new() -> Arc<Self> {
        Arc::new(Slot {
            outcome: Mutex::new(None),
            done: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Result<T, Outcome>>> {
        self.outcome.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the outcome, unless one is recorded already.
    fn complete(&self, outcome: Result<T, Outcome>) {
        let mut slot = self.lock();
        if slot.is_none() {
            *slot = Some(outcome);
            drop(slot);
            self.done.notify(usize::MAX);
        }
    }

    /// Blocks the calling thread until there is an outcome, and takes it.
    fn wait(&self) -> Result<T, Outcome> {
        loop {
            let listener = self.done.listen();
            if let Some(outcome) = self.lock().take() {
                return outcome;
            }
            listener.wait();
        }
    }
}

/// Completes a slot as cancelled if the task's future is dropped before finishing.
struct CancelledOnDrop<T>(Arc<Slot<T>>);

impl<T> Drop for CancelledOnDrop<T> {
    fn drop(&mut self) {
        self.0
            .complete(Err(Outcome::Failed(PortalError::Cancelled)));
    }
}

/// A task started with [`BlockingPortal::start_task_soon`].
///
/// Dropping the handle cancels the task, as every task handle of this crate does; call
/// [`detach`](Self::detach) to let it run on without one.
#[must_use = "dropping a PortalTask cancels its task; call `detach` to let it run"]
pub struct PortalTask<T> {
    slot: Arc<Slot<T>>,
    /// `None` once detached.
    scope: Option<CancelScope>,
}

impl<T> fmt::Debug for PortalTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalTask")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> PortalTask<T> {
    /// Blocks until the task finishes and gives its value.
    ///
    /// # Errors
    ///
    /// [`PortalError::Cancelled`] or [`PortalError::Stopped`].
    ///
    /// # Panics
    ///
    /// Re-raises the task's panic.
    pub fn join(self) -> Result<T, PortalError> {
        let outcome = self.slot.wait();
        // The task has ended: the handle's drop has nothing left to cancel.
        match outcome {
            Ok(value) => Ok(value),
            Err(Outcome::Failed(err)) => Err(err),
            Err(Outcome::Panicked(panic)) => panic.resume(),
        }
    }

    /// Cancels the task (its future is dropped); [`join`](Self::join) then reports
    /// [`PortalError::Cancelled`] unless it had finished.
    pub fn cancel(&self) {
        if let Some(scope) = &self.scope {
            scope.cancel();
        }
    }

    /// Whether the task has finished, one way or another.
    pub fn is_finished(&self) -> bool {
        self.slot.lock().is_some()
    }

    /// Lets the task run on without a handle: it ends on its own, or when the portal stops.
    /// Its value is dropped, and a panic in it is printed by the panic hook and goes no
    /// further.
    pub fn detach(mut self) {
        self.scope = None;
    }
}

impl<T> Drop for PortalTask<T> {
    fn drop(&mut self) {
        if let Some(scope) = &self.scope {
            scope.cancel();
        }
    }
}

/// Where a task started with [`BlockingPortal::start_task`] reports readiness.
struct StartSlot<V> {
    slot: Arc<Slot<V>>,
    reported: AtomicBool,
}

impl<V: Send> Started<V> for StartSlot<V> {
    fn started(&self, value: V) {
        self.reported.store(true, Ordering::Release);
        self.slot.complete(Ok(value));
    }
}

impl BlockingPortal {
    /// A portal onto `rt`, which keeps running after the portal stops.
    ///
    /// # Panics
    ///
    /// Panics if called from async code (it waits for the portal's task group to start).
    pub fn new(rt: Runtime) -> Self {
        Self::start(rt, None)
    }

    /// A portal onto `rt` that calls `shutdown` once it has stopped: the owner of the runtime
    /// hands it over this way, and the portal shuts the runtime down last.
    ///
    /// # Panics
    ///
    /// As [`new`](Self::new).
    pub fn with_shutdown(rt: Runtime, shutdown: impl FnOnce() + Send + 'static) -> Self {
        Self::start(rt, Some(Box::new(shutdown)))
    }

    fn start(rt: Runtime, shutdown: Option<Box<dyn FnOnce() + Send>>) -> Self {
        assert_not_on_event_loop("BlockingPortal::new");
        let stop = Arc::new(Event::new());
        let (group_tx, group_rx) = std::sync::mpsc::sync_channel(1);
        let main = rt.spawn({
            let stop = stop.clone();
            async move {
                let _ = task_group(|tg: TaskGroup<Infallible>| async move {
                    let _ = group_tx.send(tg);
                    stop.wait().await;
                    Ok(())
                })
                .await;
            }
        });
        let group = group_rx
            .recv()
            .unwrap_or_else(|_| panic!("the portal's runtime stopped"));
        BlockingPortal {
            rt,
            group,
            stop,
            main: Some(main),
            shutdown: Mutex::new(shutdown),
            orphan_panic: Arc::default(),
        }
    }

    /// Opens a portal from async code onto the runtime it runs on, runs `body` with it, and
    /// returns once `body` and every task started through the portal have finished (AnyIO's
    /// `async with BlockingPortal() as portal`).
    ///
    /// Hand the portal to threads ([`to_thread`](crate::to_thread), threads of your own):
    /// they call into this runtime through it. Its tasks run in a task group of the calling
    /// task, so they see its deadline and are cancelled with it. Once this returns, the portal
    /// refuses new tasks with [`PortalError::Stopped`]; stopping it or dropping it does
    /// nothing more. A portal from [`new`](Self::new) instead runs its tasks in a task of
    /// their own, and is made from synchronous code; tokio has no counterpart of either.
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn example() {
    /// use portico_tasks::{BlockingPortal, to_thread};
    ///
    /// let total = BlockingPortal::open(|portal| async move {
    ///     // A synchronous library calling back into async code, on a thread of its own:
    ///     to_thread(move || portal.call(async { 40 + 2 }).unwrap()).await
    /// })
    /// .await;
    /// assert_eq!(total, 42);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Panics if called outside a runtime. Re-raises a panic of `body`, and the first panic of
    /// a [`start_task`](Self::start_task) task after it reported.
    ///
    /// # Cancel safety
    ///
    /// As a task group's: dropping the future cancels the portal's tasks.
    pub async fn open<F, Fut>(body: F) -> Fut::Output
    where
        F: FnOnce(Arc<BlockingPortal>) -> Fut,
        Fut: Future,
        Fut::Output: 'static,
    {
        let rt = portico_rt::current().unwrap_or_else(|err| panic!("BlockingPortal::open: {err}"));
        let orphan_panic = Arc::<Mutex<Option<TaskPanic>>>::default();
        let result = task_group(|group: TaskGroup<Infallible>| {
            let portal = Arc::new(BlockingPortal {
                rt,
                group,
                stop: Arc::new(Event::new()),
                main: None,
                shutdown: Mutex::new(None),
                orphan_panic: orphan_panic.clone(),
            });
            async move {
                let stop = portal.stop.clone();
                let value = body(portal).await;
                // As AnyIO's portal stops when its block ends: no new task from here on.
                stop.set();
                Ok(value)
            }
        })
        .await;
        let orphan = orphan_panic
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match result.map_err(crate::failure::GroupError::resume_panic) {
            Ok(value) => {
                if let Some(panic) = orphan {
                    panic.resume()
                }
                value
            }
            Err(err) => unreachable!("a portal's group fails only by a panic: {err:?}"),
        }
    }

    /// The runtime the portal's tasks run on.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// Runs `fut` on the runtime and blocks until it finishes.
    ///
    /// # Errors
    ///
    /// [`PortalError::Stopped`] if the portal stopped first.
    ///
    /// # Panics
    ///
    /// Re-raises a panic of `fut`. Panics if called from async code, where blocking would stall
    /// the event loop.
    pub fn call<F>(&self, fut: F) -> Result<F::Output, PortalError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        assert_not_on_event_loop("BlockingPortal::call");
        self.start_task_soon(fut).join()
    }

    /// Starts `fut` on the runtime and returns at once; join the task to get its value.
    pub fn start_task_soon<F>(&self, fut: F) -> PortalTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let slot = Slot::new();
        let scope = CancelScope::new();
        let child = {
            let (slot, scope) = (slot.clone(), scope.clone());
            // Made outside the future, so that it is dropped with it even if it never ran.
            let on_drop = CancelledOnDrop(slot.clone());
            async move {
                let outcome = match CatchUnwind::new(scope.run(fut)).await {
                    Ok(Some(value)) => Ok(value),
                    Ok(None) => Err(Outcome::Failed(PortalError::Cancelled)),
                    Err(payload) => Err(Outcome::Panicked(TaskPanic::new(payload))),
                };
                slot.complete(outcome);
                drop(on_drop);
                Ok(())
            }
        };
        if self.stop.is_set() || self.group.try_start_soon(child).is_err() {
            slot.complete(Err(Outcome::Failed(PortalError::Stopped)));
        }
        PortalTask {
            slot,
            scope: Some(scope),
        }
    }

    /// Starts a task that reports readiness through a [`TaskStatus`], blocks until it does,
    /// and gives the value it reported (AnyIO's `start_task`). The task then runs on in the
    /// portal.
    ///
    /// # Errors
    ///
    /// [`PortalError::NotStarted`] if the task ended without reporting;
    /// [`PortalError::Cancelled`] or [`PortalError::Stopped`] as for other tasks.
    ///
    /// # Panics
    ///
    /// Re-raises a panic that happens before the task reports; a panic after that is kept and
    /// re-raised when the portal stops (the first one, if several tasks panic), as a task group
    /// re-raises its children's panics when it exits. Panics if called from async code.
    pub fn start_task<V, F, Fut>(&self, f: F) -> Result<V, PortalError>
    where
        V: Send + 'static,
        F: FnOnce(TaskStatus<V>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        assert_not_on_event_loop("BlockingPortal::start_task");
        let slot = Slot::new();
        let start = Arc::new(StartSlot {
            slot: slot.clone(),
            reported: AtomicBool::new(false),
        });
        let fut = f(TaskStatus::new(start.clone()));
        let child = {
            let orphan_panic = self.orphan_panic.clone();
            let on_drop = CancelledOnDrop(slot.clone());
            async move {
                let outcome = CatchUnwind::new(fut).await;
                let reported = start.reported.load(Ordering::Acquire);
                match outcome {
                    // Reported and ended: the caller has its value.
                    Ok(()) if reported => {}
                    Ok(()) => start
                        .slot
                        .complete(Err(Outcome::Failed(PortalError::NotStarted))),
                    // Nobody waits for this task any more: the portal's owner hears of it.
                    Err(payload) if reported => {
                        let mut orphan =
                            orphan_panic.lock().unwrap_or_else(PoisonError::into_inner);
                        orphan.get_or_insert_with(|| TaskPanic::new(payload));
                    }
                    Err(payload) => start
                        .slot
                        .complete(Err(Outcome::Panicked(TaskPanic::new(payload)))),
                }
                drop(on_drop);
                Ok(())
            }
        };
        if self.stop.is_set() || self.group.try_start_soon(child).is_err() {
            slot.complete(Err(Outcome::Failed(PortalError::Stopped)));
        }
        match slot.wait() {
            Ok(value) => Ok(value),
            Err(Outcome::Failed(err)) => Err(err),
            Err(Outcome::Panicked(panic)) => panic.resume(),
        }
    }

    /// Stops the portal: waits for its tasks to finish (or, with `cancel_remaining`, cancels
    /// them), then shuts its runtime down if it owns one.
    ///
    /// # Panics
    ///
    /// Re-raises the panic of a [`start_task`](Self::start_task) task that panicked after it
    /// reported, once the portal has stopped.
    pub fn stop(mut self, cancel_remaining: bool) {
        self.stop_inner(cancel_remaining);
        self.raise_orphan_panic();
    }

    fn raise_orphan_panic(&self) {
        let orphan = self
            .orphan_panic
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(panic) = orphan {
            panic.resume()
        }
    }

    fn stop_inner(&mut self, cancel_remaining: bool) {
        let Some(main) = self.main.take() else { return };
        if cancel_remaining {
            self.group.cancel();
        }
        self.stop.set();
        // Cancelled only if the runtime stopped under us; there is nothing left to wait for.
        let _ = block_on(main);
        let shutdown = self
            .shutdown
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(shutdown) = shutdown {
            shutdown();
        }
    }
}

impl Drop for BlockingPortal {
    fn drop(&mut self) {
        // Unwinding from a failed assertion, say: do not wait for tasks that may never end.
        let panicking = std::thread::panicking();
        self.stop_inner(panicking);
        if !panicking {
            self.raise_orphan_panic();
        }
    }
}

fn assert_not_on_event_loop(what: &str) {
    if let ThreadRole::Driver(_) = portico_rt::thread_role() {
        panic!("{what} blocks, and was called from async code; await the future instead");
    }
}
