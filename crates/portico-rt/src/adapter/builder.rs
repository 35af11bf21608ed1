//! The runtime builder that every adapter shares.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::num::NonZeroUsize;

/// An adapter's runtime, as its [`Builder`] starts it.
pub trait Start: Sized {
    /// The default prefix of its thread names, such as `"portico-tokio"`.
    const THREAD_NAME: &'static str;

    /// Starts the runtime's threads.
    ///
    /// # Errors
    ///
    /// Fails if the operating system refuses what the runtime needs (threads, a reactor). The
    /// threads already started are stopped before the error is returned.
    fn start(config: BuilderConfig) -> io::Result<Self>;
}

/// What a [`Builder`] hands to [`Start::start`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuilderConfig {
    /// The number of executor threads; `None` means one per CPU.
    pub worker_threads: Option<NonZeroUsize>,
    /// The prefix of thread names: threads are called `<prefix>-<n>`.
    pub thread_name: String,
    /// The most threads the blocking pool may start; `None` means the adapter's default (512
    /// for both of Portico's).
    pub max_blocking_threads: Option<NonZeroUsize>,
}

/// Configures and starts an adapter's runtime: `portico_tokio::Builder` and
/// `portico_smol::Builder` are this type, and `TokioRuntime::builder()` and
/// `SmolRuntime::builder()` return it.
///
/// An adapter implements [`Start`] for its runtime and names the builder in its own crate:
///
/// ```
/// use portico_rt::adapter::{BuilderConfig, Start};
///
/// /// A runtime of an adapter crate.
/// pub struct MyRuntime {
///     threads: usize,
/// }
///
/// impl Start for MyRuntime {
///     const THREAD_NAME: &'static str = "my-runtime";
///
///     fn start(config: BuilderConfig) -> std::io::Result<Self> {
///         // Start `config.worker_threads` threads named `config.thread_name`-N here.
///         let threads = config.worker_threads.map_or(1, |n| n.get());
///         Ok(MyRuntime { threads })
///     }
/// }
///
/// /// Configures and starts a [`MyRuntime`].
/// pub type Builder = portico_rt::adapter::Builder<MyRuntime>;
///
/// let runtime = Builder::new().worker_threads(4).build()?;
/// assert_eq!(runtime.threads, 4);
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct Builder<R> {
    worker_threads: Option<NonZeroUsize>,
    thread_name: Option<String>,
    max_blocking_threads: Option<NonZeroUsize>,
    _runtime: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for Builder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .finish()
    }
}

impl<R> Clone for Builder<R> {
    fn clone(&self) -> Self {
        Builder {
            worker_threads: self.worker_threads,
            thread_name: self.thread_name.clone(),
            max_blocking_threads: self.max_blocking_threads,
            _runtime: PhantomData,
        }
    }
}

impl<R: Start> Default for Builder<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Start> Builder<R> {
    /// One executor thread per CPU, threads named after the adapter: `portico-tokio-N`,
    /// `portico-smol-N`.
    pub fn new() -> Self {
        Builder {
            worker_threads: None,
            thread_name: None,
            max_blocking_threads: None,
            _runtime: PhantomData,
        }
    }

    /// Sets the number of executor threads (at least one; zero counts as one).
    pub fn worker_threads(mut self, count: usize) -> Self {
        self.worker_threads = Some(NonZeroUsize::new(count).unwrap_or(NonZeroUsize::MIN));
        self
    }

    /// Sets the prefix of thread names; threads are called `<prefix>-<n>`. Linux shows only the
    /// first 15 bytes of a thread's name.
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name = Some(prefix.into());
        self
    }

    /// Sets the most threads the blocking pool may run at once (at least one; zero counts as
    /// one); 512 by default, as tokio's. Closures beyond it wait for a thread. The pool starts
    /// threads as blocking closures overlap, and a thread idle for 10 s exits.
    ///
    /// This bounds [`Runtime::spawn_blocking`](crate::Runtime::spawn_blocking) and what runs
    /// on it (plain `fn` handlers and dependencies, `to_thread`); how many plain `fn` handlers
    /// run at once is bounded first by the application's thread limiter.
    pub fn max_blocking_threads(mut self, count: usize) -> Self {
        self.max_blocking_threads = Some(NonZeroUsize::new(count).unwrap_or(NonZeroUsize::MIN));
        self
    }

    /// Starts the runtime's threads.
    ///
    /// # Errors
    ///
    /// Fails if the operating system refuses to create the threads or the runtime's reactor.
    pub fn build(self) -> io::Result<R> {
        R::start(BuilderConfig {
            worker_threads: self.worker_threads,
            thread_name: self
                .thread_name
                .unwrap_or_else(|| R::THREAD_NAME.to_owned()),
            max_blocking_threads: self.max_blocking_threads,
        })
    }
}
