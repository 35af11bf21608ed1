//! [`Runtime`], the handle applications and libraries use.

use std::any::{Any, TypeId};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::adapter::{Backend, BlockingTask, RawTask};
use crate::current::EnterGuard;

/// How far off a sleep too long for the clock is set: about thirty years.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);
use crate::signal::ShutdownSignal;
use crate::task::JoinHandle;
use crate::tcp::{TcpListener, TcpStream};
use crate::time::{Sleep, Timeout};

/// A handle to a running async runtime, whichever it is.
///
/// Cheap to clone (one reference count). Get one from [`current`](crate::current) inside a running
/// application, or from an adapter (`portico_tokio::TokioRuntime::handle`,
/// `portico_smol::SmolRuntime::handle`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # async fn example() {
/// let rt = portico_rt::current().unwrap();
/// let task = rt.spawn(async { 6 * 7 });
/// rt.sleep(Duration::from_millis(1)).await;
/// assert_eq!(task.await.unwrap(), 42);
///
/// let sum = rt.spawn_blocking(|| (1..=10).sum::<u32>()).await.unwrap();
/// assert_eq!(sum, 55);
/// # }
/// ```
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner<dyn Backend>>,
}

/// What every handle of one runtime shares: its variables, and the adapter (last, so that an
/// `Arc<Inner<B>>` coerces to `Arc<Inner<dyn Backend>>` and spawning costs one virtual call).
struct Inner<B: ?Sized> {
    vars: Mutex<Vec<(TypeId, Arc<dyn Any + Send + Sync>)>>,
    backend: B,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("name", &self.name())
            .finish()
    }
}

impl Runtime {
    /// Wraps an adapter. Adapters call this; applications get a `Runtime` from them.
    pub fn from_backend(backend: impl Backend) -> Self {
        let inner: Arc<Inner<dyn Backend>> = Arc::new(Inner {
            vars: Mutex::default(),
            backend,
        });
        Runtime { inner }
    }

    /// The runtime's name: `"tokio"` or `"smol"` for the adapters in this workspace.
    pub fn name(&self) -> &'static str {
        self.inner.backend.name()
    }

    /// Whether both handles refer to the same adapter instance.
    pub fn ptr_eq(&self, other: &Runtime) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// A value of type `T` kept with this runtime, made with `T::default()` on first use and
    /// shared by every handle to the runtime (AnyIO's `RunVar`).
    ///
    /// This is how per-runtime state, such as the default thread limiter of `portico-tasks`,
    /// lives as long as the runtime without a global.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// #[derive(Default)]
    /// struct RequestCount(AtomicU64);
    ///
    /// fn count_request(rt: &portico_rt::Runtime) -> u64 {
    ///     rt.run_var::<RequestCount>().0.fetch_add(1, Ordering::Relaxed) + 1
    /// }
    /// ```
    pub fn run_var<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut vars = self
            .inner
            .vars
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let id = TypeId::of::<T>();
        let found = vars
            .iter()
            .find(|(ty, _)| *ty == id)
            .map(|(_, value)| value.clone());
        let value = found.unwrap_or_else(|| {
            let value: Arc<dyn Any + Send + Sync> = Arc::new(T::default());
            vars.push((id, value.clone()));
            value
        });
        drop(vars);
        // The entry for `TypeId::of::<T>()` always holds a `T`.
        value
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("run_var entry of another type"))
    }

    /// Spawns a future onto the runtime's worker threads.
    ///
    /// The task starts at once and runs in parallel with the caller on a multi-threaded runtime.
    /// Dropping the returned [`JoinHandle`] cancels it; [`JoinHandle::detach`] keeps it running.
    /// A panic inside the task is caught and returned by the handle as a [`JoinError`]; it never
    /// kills a worker thread.
    ///
    /// The future and the runtime's join handle are boxed to cross to the adapter, and so is the
    /// output unless it has no size (as `()`): two or three small allocations besides the
    /// runtime's own task.
    ///
    /// [`JoinError`]: crate::JoinError
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let raw = self.inner.backend.spawn(RawTask::new(fut));
        JoinHandle::from_raw(raw)
    }

    /// Spawns a future that nobody will wait for: [`spawn`](Self::spawn) then
    /// [`JoinHandle::detach`], without making the join handle (one allocation less).
    ///
    /// A detached task that panics reports nothing but the panic hook's message; it never
    /// brings down the thread it ran on. After the runtime has shut down, the future is
    /// dropped without running.
    ///
    /// # Examples
    ///
    /// ```
    /// fn audit(rt: &portico_rt::Runtime, event: String) {
    ///     // Written in the background; the caller does not wait for it.
    ///     rt.spawn_detached(async move {
    ///         eprintln!("audit: {event}");
    ///     });
    /// }
    /// ```
    pub fn spawn_detached<F>(&self, fut: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.backend.spawn_detached(RawTask::new(fut));
    }

    /// Runs a blocking closure on the runtime's blocking thread pool.
    ///
    /// Use this for CPU-heavy work and blocking I/O, never for work that awaits. While the
    /// closure runs, [`current`](crate::current) answers with this runtime.
    ///
    /// Dropping the handle before the closure starts means it never starts; **a closure that has
    /// started cannot be interrupted** and runs to its end, its result discarded. A panic in the
    /// closure is returned as a [`JoinError`](crate::JoinError).
    pub fn spawn_blocking<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        JoinHandle::from_raw(
            self.inner
                .backend
                .spawn_blocking(BlockingTask::new(self.clone(), f)),
        )
    }

    /// The current time, as this runtime's timers see it.
    pub fn now(&self) -> Instant {
        self.inner.backend.now()
    }

    /// Waits until `duration` has passed.
    ///
    /// A duration past what the clock can count (`Duration::MAX`, say) waits as good as
    /// forever: about thirty years, as tokio does. Dropping the [`Sleep`] cancels the timer.
    pub fn sleep(&self, duration: Duration) -> Sleep {
        let now = self.now();
        let deadline = now
            .checked_add(duration)
            .unwrap_or_else(|| now + FAR_FUTURE);
        self.sleep_until(deadline)
    }

    /// Waits until `deadline`; completes at once if it has passed.
    pub fn sleep_until(&self, deadline: Instant) -> Sleep {
        self.inner.backend.sleep_until(deadline)
    }

    /// Runs `fut` with a time limit: `Ok(output)`, or `Err(Elapsed)` if `duration` passes first
    /// (and then `fut` is dropped).
    ///
    /// If the future is ready when the limit arrives, its output wins.
    pub fn timeout<F: IntoFuture>(&self, duration: Duration, fut: F) -> Timeout<F::IntoFuture> {
        Timeout::new(fut.into_future(), self.sleep(duration))
    }

    /// As [`timeout`](Self::timeout), with an absolute deadline.
    pub fn timeout_at<F: IntoFuture>(&self, deadline: Instant, fut: F) -> Timeout<F::IntoFuture> {
        Timeout::new(fut.into_future(), self.sleep_until(deadline))
    }

    /// Makes [`current`](crate::current) answer with this runtime on this thread until the guard
    /// is dropped.
    ///
    /// Guards nest: dropping one restores what was current before it.
    pub fn enter(&self) -> EnterGuard {
        EnterGuard::new(self.clone())
    }

    /// Runs a future to completion on the calling thread, the way an `async fn main` runs.
    ///
    /// Tasks it spawns run on the runtime's worker threads. While it runs,
    /// [`current`](crate::current) answers with this runtime on the calling thread.
    ///
    /// # Panics
    ///
    /// Panics if called from inside a runtime (an async task, a blocking closure, or another
    /// `block_on`), where blocking the thread would stall other work: use `.await` there. A panic
    /// inside `fut` propagates to the caller.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        assert!(
            !crate::current::inside_block_on(),
            "Runtime::block_on called from inside a runtime; await the future instead"
        );
        let _enter = EnterGuard::for_block_on(self.clone());
        let mut output = None;
        {
            let mut fut = std::pin::pin!(async {
                output = Some(fut.await);
            });
            self.inner.backend.block_on(fut.as_mut());
        }
        output.expect("the adapter's block_on returned before the future completed")
    }

    /// Listens for the first Ctrl-C or (on Unix) `SIGTERM` from now on.
    ///
    /// # Errors
    ///
    /// Fails if the platform refuses to install the signal handlers.
    pub fn shutdown_signal(&self) -> io::Result<ShutdownSignal> {
        self.inner
            .backend
            .shutdown_signal()
            .map(ShutdownSignal::new)
    }

    /// Registers a bound, listening [`std::net::TcpListener`] with this runtime.
    ///
    /// Create the socket with [`ListenOptions`](crate::ListenOptions) to set `SO_REUSEPORT`, the
    /// backlog and `TCP_NODELAY` the same way on every runtime.
    ///
    /// # Errors
    ///
    /// Fails if the socket cannot be made non-blocking or registered with the reactor.
    pub fn tcp_listener(&self, listener: std::net::TcpListener) -> io::Result<TcpListener> {
        self.inner.backend.tcp_listener(listener)
    }

    /// Opens a TCP connection to `addr`.
    ///
    /// # Errors
    ///
    /// Whatever the connection attempt reports (refused, unreachable, ...).
    pub async fn tcp_connect(&self, addr: SocketAddr) -> io::Result<TcpStream> {
        self.inner.backend.tcp_connect(addr).await
    }

    /// Registers a bound, listening [`std::os::unix::net::UnixListener`] with this runtime.
    ///
    /// # Errors
    ///
    /// Fails if the socket cannot be made non-blocking or registered with the reactor.
    #[cfg(unix)]
    pub fn unix_listener(
        &self,
        listener: std::os::unix::net::UnixListener,
    ) -> io::Result<crate::unix::UnixListener> {
        self.inner.backend.unix_listener(listener)
    }

    /// Connects to the Unix socket at `path`.
    ///
    /// # Errors
    ///
    /// Whatever the connection attempt reports (no such file, refused, ...).
    #[cfg(unix)]
    pub async fn unix_connect(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> io::Result<crate::unix::UnixStream> {
        self.inner
            .backend
            .unix_connect(path.as_ref().to_path_buf())
            .await
    }
}
