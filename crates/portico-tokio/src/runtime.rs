//! Starting and stopping a tokio runtime, and the [`Backend`] that drives it.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use portico_rt::adapter::{
    Backend, BlockingPool, BlockingTask, BoxFuture, BuilderConfig, Probe, RawJoin, RawTask, Start,
};
use portico_rt::{Runtime, Signal, Sleep, TcpListener, TcpStream};
use tokio::runtime::Handle;

use crate::{net, signal, task, time};

/// The [`Backend`] for one tokio runtime.
struct TokioBackend {
    handle: Handle,
    /// The pool for blocking closures of a runtime that Portico started; one that the
    /// application started runs them on tokio's own pool, whose shutdown is the application's.
    pool: Option<BlockingPool>,
}

impl Backend for TokioBackend {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn spawn(&self, task: RawTask) -> RawJoin {
        task::spawn(&self.handle, task)
    }

    fn spawn_detached(&self, task: RawTask) {
        task::spawn_detached(&self.handle, task);
    }

    fn spawn_blocking(&self, task: BlockingTask) -> RawJoin {
        match &self.pool {
            Some(pool) => pool.spawn(task),
            None => task::spawn_blocking(&self.handle, task),
        }
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        time::sleep_until(&self.handle, deadline)
    }

    fn tcp_listener(&self, listener: std::net::TcpListener) -> io::Result<TcpListener> {
        net::tcp_listener(&self.handle, listener)
    }

    fn tcp_connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<TcpStream>> {
        net::tcp_connect(&self.handle, addr)
    }

    #[cfg(unix)]
    fn unix_listener(
        &self,
        listener: std::os::unix::net::UnixListener,
    ) -> io::Result<portico_rt::UnixListener> {
        net::unix_listener(&self.handle, listener)
    }

    #[cfg(unix)]
    fn unix_connect(
        &self,
        path: std::path::PathBuf,
    ) -> BoxFuture<'static, io::Result<portico_rt::UnixStream>> {
        net::unix_connect(&self.handle, path)
    }

    fn shutdown_signal(&self) -> io::Result<BoxFuture<'static, io::Result<Signal>>> {
        signal::shutdown_signal(&self.handle)
    }

    fn block_on(&self, fut: Pin<&mut (dyn Future<Output = ()> + '_)>) {
        self.handle.block_on(fut);
    }
}

thread_local! {
    /// On threads of a runtime built by [`Builder`], the Portico handle of that runtime, so the
    /// probe answers without allocating. Filled in once the runtime exists.
    static OWN_RUNTIME: RefCell<Option<Arc<OnceLock<Runtime>>>> = const { RefCell::new(None) };
}

/// Answers [`portico_rt::current`] on tokio's threads, including those of a runtime the
/// application started itself.
fn probe() -> Option<Runtime> {
    let own =
        OWN_RUNTIME.try_with(|own| own.borrow().as_ref().and_then(|cell| cell.get().cloned()));
    if let Ok(Some(rt)) = own {
        return Some(rt);
    }
    Handle::try_current().ok().map(foreign)
}

/// The one Portico handle for a tokio runtime that Portico did not build, so that every call
/// of [`portico_rt::current`] on it shares the runtime's variables (its default thread limiter,
/// say).
///
/// Entries are never removed: an application starts few runtimes, and a handle to a stopped
/// one costs a few words.
fn foreign(handle: Handle) -> Runtime {
    static FOREIGN: Mutex<Vec<(tokio::runtime::Id, Runtime)>> = Mutex::new(Vec::new());
    let id = handle.id();
    let mut known = FOREIGN.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, rt)) = known.iter().find(|(known_id, _)| *known_id == id) {
        return rt.clone();
    }
    let rt = Runtime::from_backend(TokioBackend { handle, pool: None });
    known.push((id, rt.clone()));
    rt
}

inventory::submit! { Probe::new(probe) }

/// Configures and starts a multi-threaded tokio runtime: [`TokioRuntime::builder`] returns
/// one. Its methods are `portico-rt`'s, shared with every adapter.
///
/// # Examples
///
/// ```
/// let runtime = portico_tokio::Builder::new().worker_threads(4).thread_name("api").build()?;
/// assert_eq!(runtime.handle().name(), "tokio");
/// # Ok::<_, std::io::Error>(())
/// ```
pub type Builder = portico_rt::adapter::Builder<TokioRuntime>;

impl Start for TokioRuntime {
    const THREAD_NAME: &'static str = "portico-tokio";

    fn start(config: BuilderConfig) -> io::Result<Self> {
        let own = Arc::new(OnceLock::new());
        // Shared by tokio's threads and the blocking pool's: `<prefix>-0`, `<prefix>-1`, ...
        let counter = Arc::new(AtomicUsize::new(0));
        let prefix = config.thread_name;
        let name = move || format!("{prefix}-{}", counter.fetch_add(1, Ordering::Relaxed));
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if let Some(count) = config.worker_threads {
            builder.worker_threads(count.get());
        }
        if let Some(count) = config.max_blocking_threads {
            // tokio's own pool still serves tokio's internals (`tokio::fs`, say).
            builder.max_blocking_threads(count.get());
        }
        // The threads hold the cell only while they run; a strong reference inside tokio's own
        // configuration would keep the runtime's handle alive forever through a cycle.
        let on_start = Arc::downgrade(&own);
        let runtime = builder
            .enable_all()
            .thread_name_fn(name.clone())
            .on_thread_start(move || {
                let cell = on_start.upgrade();
                let _ = OWN_RUNTIME.try_with(|slot| *slot.borrow_mut() = cell);
            })
            .on_thread_stop(|| {
                let _ = OWN_RUNTIME.try_with(|slot| slot.borrow_mut().take());
            })
            .build()?;
        // Blocking closures run on Portico's pool, which hands each to one parked thread
        // (tokio's wakes its idle threads through one condition variable under one lock: see
        // BENCHMARKS.md, "A blocking pool for tokio too"). Its threads are inside the tokio
        // runtime, as tokio's blocking threads are, so `Handle::current()` works there.
        let tokio_handle = runtime.handle().clone();
        let in_pool = Arc::downgrade(&own);
        let pool = BlockingPool::with_context(
            config
                .max_blocking_threads
                .map_or(BlockingPool::DEFAULT_MAX_THREADS, NonZeroUsize::get),
            name,
            move |work| {
                let _tokio = tokio_handle.enter();
                let cell = in_pool.upgrade();
                let _ = OWN_RUNTIME.try_with(|slot| *slot.borrow_mut() = cell);
                work();
                let _ = OWN_RUNTIME.try_with(|slot| slot.borrow_mut().take());
            },
        );
        let handle = Runtime::from_backend(TokioBackend {
            handle: runtime.handle().clone(),
            pool: Some(pool.clone()),
        });
        let _ = own.set(handle.clone());
        Ok(TokioRuntime {
            runtime: Some(runtime),
            pool,
            handle,
            _own: own,
        })
    }
}

/// A multi-threaded tokio runtime started by Portico.
///
/// Dropping it shuts the runtime down: tasks are cancelled (their futures dropped), and the drop
/// waits for blocking closures that have started, as tokio does; [`shutdown_timeout`] bounds
/// that wait. Once it returns, every thread of the runtime has exited, unless the timeout
/// expired with a blocking closure still running.
///
/// Drop it outside async code: tokio refuses to block a thread that runs async tasks.
///
/// [`shutdown_timeout`]: Self::shutdown_timeout
pub struct TokioRuntime {
    runtime: Option<tokio::runtime::Runtime>,
    pool: BlockingPool,
    handle: Runtime,
    _own: Arc<OnceLock<Runtime>>,
}

impl fmt::Debug for TokioRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioRuntime").finish_non_exhaustive()
    }
}

impl TokioRuntime {
    /// Starts a runtime with the default [`Builder`].
    ///
    /// # Errors
    ///
    /// As [`Builder::build`].
    pub fn new() -> io::Result<Self> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure the runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Wraps a tokio runtime that Portico did not start, such as the one `#[tokio::main]` runs.
    ///
    /// Every call for the same tokio runtime gives the same Portico runtime (its
    /// [`run_var`](Runtime::run_var)s are shared), and so does [`portico_rt::current`] on its
    /// threads. The runtime needs its I/O and time drivers enabled.
    pub fn from_tokio(handle: Handle) -> Runtime {
        foreign(handle)
    }

    /// The Portico handle of this runtime.
    pub fn handle(&self) -> &Runtime {
        &self.handle
    }

    /// Runs a future to completion on the calling thread; see [`Runtime::block_on`].
    ///
    /// # Panics
    ///
    /// Panics when called from async code.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.handle.block_on(fut)
    }

    /// Shuts down, waiting at most `timeout` for blocking closures that have started.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(timeout);
        }
        self.pool.stop(Some(deadline));
    }
}

impl Drop for TokioRuntime {
    fn drop(&mut self) {
        // tokio's drop stops its workers and waits for its own blocking threads; then
        // Portico's pool drops the closures not started and waits for the others. After
        // `shutdown_timeout` both are done.
        if let Some(runtime) = self.runtime.take() {
            drop(runtime);
            self.pool.stop(None);
        }
    }
}
