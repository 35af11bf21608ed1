//! Finding the runtime the calling code runs on (the part `sniffio` plays for AnyIO).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;

use crate::Runtime;

thread_local! {
    static CURRENT: RefCell<Option<Runtime>> = const { RefCell::new(None) };
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// The runtime the calling code runs on.
///
/// Answers on every thread a runtime owns: its executor workers, its blocking pool (inside
/// [`Runtime::spawn_blocking`]), and the thread inside [`Runtime::block_on`]; also on any thread
/// where a [`Runtime::enter`] guard is alive. Inside a tokio runtime that Portico did not start
/// (an application's own `#[tokio::main]`), the tokio adapter answers when it is linked in.
///
/// # Errors
///
/// Called anywhere else, returns [`NoRuntime`], whose message says how to start one.
///
/// # Examples
///
/// ```
/// // Outside any runtime: an error that says what to do, not a panic.
/// let err = portico_rt::current().unwrap_err();
/// assert!(err.to_string().starts_with("no Portico runtime is running on this thread"));
/// ```
///
/// Inside one, library code finds it without being handed it:
///
/// ```
/// async fn fetch_both() -> std::io::Result<(u32, u32)> {
///     let rt = portico_rt::current()?;
///     let a = rt.spawn(async { 1 });
///     let b = rt.spawn(async { 2 });
///     Ok((a.await.unwrap(), b.await.unwrap()))
/// }
/// ```
pub fn current() -> Result<Runtime, NoRuntime> {
    if let Ok(Some(rt)) = CURRENT.try_with(|c| c.borrow().clone()) {
        return Ok(rt);
    }
    inventory::iter::<Probe>
        .into_iter()
        .find_map(|probe| (probe.find)())
        .ok_or(NoRuntime(()))
}

/// Whether this thread drives async work (an executor worker or inside `block_on`), where
/// blocking on another future would stall it.
pub(crate) fn inside_block_on() -> bool {
    DRIVING.try_with(Cell::get).unwrap_or(false)
}

/// What the calling thread is to the Portico runtime entered on it, as far as this thread
/// knows (see [`thread_role`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ThreadRole {
    /// The thread drives async work of this runtime: an executor worker, a thread polling a
    /// task spawned with [`Runtime::spawn`], or a thread inside [`Runtime::block_on`].
    /// Blocking here stalls other tasks.
    Driver(Runtime),
    /// The runtime was entered for blocking work: a closure of [`Runtime::spawn_blocking`], or
    /// a thread holding a [`Runtime::enter`] guard. Blocking here is expected.
    Blocking(Runtime),
    /// No Portico runtime was entered on this thread (it may still belong to a runtime that a
    /// [`Probe`] recognises, such as a tokio worker).
    Outside,
}

/// How the calling thread relates to the runtime entered on it.
///
/// This is what lets code that blocks (such as `portico-tasks`' `from_thread`) refuse to run
/// where it would stall the event loop. Unlike [`current`], it does not ask the probes.
pub fn thread_role() -> ThreadRole {
    let driving = inside_block_on();
    match CURRENT.try_with(|c| c.borrow().clone()) {
        Ok(Some(rt)) if driving => ThreadRole::Driver(rt),
        Ok(Some(rt)) => ThreadRole::Blocking(rt),
        // A task polled on a worker the adapter does not enter (tokio's): the probes know
        // which runtime it is.
        _ if driving => current().map_or(ThreadRole::Outside, ThreadRole::Driver),
        _ => ThreadRole::Outside,
    }
}

/// Marks the calling thread as driving async work while a spawned task is polled, so that
/// [`thread_role`] knows an executor worker even where the adapter does not enter its workers.
pub(crate) struct PollGuard {
    was_driving: bool,
}

impl PollGuard {
    pub(crate) fn new() -> Self {
        let was_driving = DRIVING.try_with(|d| d.replace(true)).unwrap_or(true);
        PollGuard { was_driving }
    }
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        if !self.was_driving {
            let _ = DRIVING.try_with(|d| d.set(false));
        }
    }
}

/// A way for an adapter to recognise threads it does not enter itself, such as the workers of a
/// tokio runtime started by the application.
///
/// Register one with `inventory::submit!`; [`current`] asks every registered probe, in no
/// particular order, when no runtime was entered on the calling thread.
///
/// ```
/// fn find_my_runtime() -> Option<portico_rt::Runtime> {
///     None // look at the calling thread's state here
/// }
///
/// inventory::submit! { portico_rt::adapter::Probe::new(find_my_runtime) }
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct Probe {
    find: fn() -> Option<Runtime>,
}

impl Probe {
    /// A probe that calls `find`.
    pub const fn new(find: fn() -> Option<Runtime>) -> Self {
        Probe { find }
    }
}

inventory::collect!(Probe);

/// Keeps a runtime current on this thread; dropping it restores the previous one.
///
/// Returned by [`Runtime::enter`] and [`Runtime::enter_worker`]. It cannot be sent to another
/// thread.
#[must_use = "the runtime stops being current when the guard is dropped"]
pub struct EnterGuard {
    previous: Option<Runtime>,
    was_driving: bool,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl EnterGuard {
    fn set(rt: Runtime, driving: bool) -> Self {
        let previous = CURRENT.with(|c| c.replace(Some(rt)));
        let was_driving = DRIVING.with(|d| d.replace(driving));
        EnterGuard {
            previous,
            was_driving,
            _not_send: PhantomData,
        }
    }

    pub(crate) fn new(rt: Runtime) -> Self {
        let driving = inside_block_on();
        Self::set(rt, driving)
    }

    pub(crate) fn for_block_on(rt: Runtime) -> Self {
        Self::set(rt, true)
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // The thread may be exiting, with its locals already gone; then there is nothing to
        // restore.
        let _ = CURRENT.try_with(|c| c.replace(previous));
        let _ = DRIVING.try_with(|d| d.set(self.was_driving));
    }
}

impl Runtime {
    /// Marks the calling thread as an executor worker of this runtime until the guard is
    /// dropped: [`current`] answers with it, and [`Runtime::block_on`] refuses to run there.
    ///
    /// For adapters, on the worker threads they start.
    pub fn enter_worker(&self) -> EnterGuard {
        EnterGuard::set(self.clone(), true)
    }
}

/// The error [`current`] returns outside any runtime.
#[derive(Clone, PartialEq, Eq)]
pub struct NoRuntime(());

impl fmt::Debug for NoRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoRuntime")
    }
}

impl fmt::Display for NoRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no Portico runtime is running on this thread: start one with `portico::run` (or an \
             adapter's `block_on`), and call this from code it runs: a task, a blocking closure, \
             or the future given to `block_on`",
        )
    }
}

impl std::error::Error for NoRuntime {}

impl From<NoRuntime> for std::io::Error {
    fn from(err: NoRuntime) -> Self {
        std::io::Error::other(err)
    }
}
