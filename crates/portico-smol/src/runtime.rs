//! Starting and stopping the executor threads, and the [`Backend`] that drives them.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use async_executor::Executor;
use event_listener::Event;
use portico_rt::adapter::{
    Backend, BlockingPool, BlockingTask, BoxFuture, BuilderConfig, RawJoin, RawTask, Start,
};
use portico_rt::{Runtime, Signal, Sleep, TcpListener, TcpStream};

use crate::{net, signal, task, time};

/// State shared by the owner, the worker threads and the backend.
pub(crate) struct Shared {
    stopping: AtomicBool,
    stop: Event,
    /// The threads for blocking closures.
    pool: BlockingPool,
}

impl Shared {
    async fn stopped(&self) {
        loop {
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            let listener = self.stop.listen();
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            listener.await;
        }
    }
}

/// The [`Backend`] for one [`SmolRuntime`].
struct SmolBackend {
    // Weak, so that tasks holding a `Runtime` do not keep the executor (and so themselves) alive
    // after shutdown: the owner drops the last strong reference, which cancels every task.
    executor: Weak<Executor<'static>>,
    shared: Arc<Shared>,
}

impl Backend for SmolBackend {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn spawn(&self, task: RawTask) -> RawJoin {
        match self.executor.upgrade() {
            Some(executor) => task::spawn(&executor, task),
            None => RawJoin::cancelled(),
        }
    }

    fn spawn_detached(&self, task: RawTask) {
        if let Some(executor) = self.executor.upgrade() {
            task::spawn_detached(&executor, task);
        }
    }

    fn spawn_blocking(&self, task: BlockingTask) -> RawJoin {
        if self.shared.stopping.load(Ordering::Acquire) {
            return RawJoin::cancelled();
        }
        self.shared.pool.spawn(task)
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        time::sleep_until(deadline)
    }

    fn tcp_listener(&self, listener: std::net::TcpListener) -> io::Result<TcpListener> {
        net::tcp_listener(listener)
    }

    fn tcp_connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<TcpStream>> {
        net::tcp_connect(addr)
    }

    #[cfg(unix)]
    fn unix_listener(
        &self,
        listener: std::os::unix::net::UnixListener,
    ) -> io::Result<portico_rt::UnixListener> {
        net::unix_listener(listener)
    }

    #[cfg(unix)]
    fn unix_connect(
        &self,
        path: std::path::PathBuf,
    ) -> BoxFuture<'static, io::Result<portico_rt::UnixStream>> {
        net::unix_connect(path)
    }

    fn shutdown_signal(&self) -> io::Result<BoxFuture<'static, io::Result<Signal>>> {
        signal::shutdown_signal()
    }

    fn block_on(&self, fut: Pin<&mut (dyn Future<Output = ()> + '_)>) {
        block_on(fut, false);
    }
}

/// Configures and starts a [`SmolRuntime`]: [`SmolRuntime::builder`] returns one. Its methods
/// are `portico-rt`'s, shared with every adapter.
///
/// # Examples
///
/// ```
/// let runtime = portico_smol::Builder::new().worker_threads(4).thread_name("api").build()?;
/// assert_eq!(runtime.handle().name(), "smol");
/// # Ok::<_, std::io::Error>(())
/// ```
pub type Builder = portico_rt::adapter::Builder<SmolRuntime>;

impl Start for SmolRuntime {
    const THREAD_NAME: &'static str = "portico-smol";

    fn start(config: BuilderConfig) -> io::Result<Self> {
        let count = config
            .worker_threads
            .or_else(|| thread::available_parallelism().ok())
            .unwrap_or(NonZeroUsize::MIN)
            .get();
        let executor = Arc::new(Executor::new());
        let max_blocking = config
            .max_blocking_threads
            .map_or(BlockingPool::DEFAULT_MAX_THREADS, NonZeroUsize::get);
        // Blocking threads are numbered after the executor's.
        let names = AtomicUsize::new(count);
        let prefix = config.thread_name.clone();
        let shared = Arc::new(Shared {
            stopping: AtomicBool::new(false),
            stop: Event::new(),
            pool: BlockingPool::new(max_blocking, move || {
                format!("{prefix}-{}", names.fetch_add(1, Ordering::Relaxed))
            }),
        });
        let handle = Runtime::from_backend(SmolBackend {
            executor: Arc::downgrade(&executor),
            shared: shared.clone(),
        });
        let mut runtime = SmolRuntime {
            executor: Some(executor.clone()),
            shared: shared.clone(),
            threads: Vec::with_capacity(count),
            handle: handle.clone(),
            stopped: false,
        };
        for n in 0..count {
            let (executor, shared, handle) = (executor.clone(), shared.clone(), handle.clone());
            let thread = thread::Builder::new()
                .name(format!("{}-{n}", config.thread_name))
                .spawn(move || worker(&executor, &shared, &handle))?;
            runtime.threads.push(thread);
        }
        Ok(runtime)
    }
}

fn worker(executor: &Executor<'static>, shared: &Shared, handle: &Runtime) {
    let _worker = handle.enter_worker();
    while !shared.stopping.load(Ordering::Acquire) {
        // Tasks catch their own panics, so one here comes from the executor's machinery (a
        // waker, say); the thread goes back to serving rather than dying with its queue.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            block_on(executor.run(shared.stopped()), true);
        }));
    }
}

/// Runs `fut` on this thread, an executor thread (`worker`) or another one, with the adapter's
/// reactor (async-io's where the adapter has none of its own).
fn block_on<T>(fut: impl Future<Output = T>, worker: bool) -> T {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(reactor) = crate::reactor::Reactor::get() {
        use crate::reactor::Role;
        let role = if worker { Role::Worker } else { Role::Caller };
        return crate::reactor::block_on(reactor, role, fut);
    }
    let _ = worker;
    async_io::block_on(fut)
}

/// An async-executor running on threads of its own, with the adapter's reactor and its pool of
/// threads for blocking closures.
///
/// Dropping it shuts down: the executor threads stop and are joined, every task left is
/// cancelled (its future dropped), and the drop waits for this runtime's blocking closures that
/// have started; [`shutdown_timeout`] bounds that wait. Spawning through a handle afterwards
/// gives a task that is already cancelled.
///
/// Drop it outside async code: it blocks the calling thread while the threads stop.
///
/// [`shutdown_timeout`]: Self::shutdown_timeout
pub struct SmolRuntime {
    executor: Option<Arc<Executor<'static>>>,
    shared: Arc<Shared>,
    threads: Vec<thread::JoinHandle<()>>,
    handle: Runtime,
    stopped: bool,
}

impl fmt::Debug for SmolRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmolRuntime")
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

impl SmolRuntime {
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

    /// Shuts down, waiting at most `timeout` for blocking closures that have started (and for
    /// the threads that ran them to exit).
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.stop(Some(Instant::now() + timeout));
    }

    fn stop(&mut self, deadline: Option<Instant>) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        self.shared.stopping.store(true, Ordering::Release);
        self.shared.stop.notify(usize::MAX);
        for thread in self.threads.drain(..) {
            // A worker cannot panic: it catches everything but its own stop.
            let _ = thread.join();
        }
        // The last strong reference: dropping the executor cancels the tasks still in it.
        drop(self.executor.take());
        self.shared.pool.stop(deadline);
    }
}

impl Drop for SmolRuntime {
    fn drop(&mut self) {
        self.stop(None);
    }
}
