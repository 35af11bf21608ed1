//! Choosing, starting and stopping the runtime.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::str::FromStr;
use std::time::Duration;

/// The environment variable that picks the runtime when both are compiled in: `tokio` or `smol`.
pub const RUNTIME_ENV: &str = "PORTICO_RUNTIME";

/// How long [`run`] waits, after the main future finishes, for blocking closures that have
/// started. Ten seconds is a judgement: past it, a stuck closure should not keep a finished
/// program alive.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A runtime Portico can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuntimeKind {
    /// tokio's multi-threaded runtime (feature `tokio`).
    Tokio,
    /// async-executor on Portico's threads, with async-io and the blocking pool (feature `smol`).
    Smol,
}

impl RuntimeKind {
    /// Every runtime Portico knows, compiled in or not.
    pub const ALL: [RuntimeKind; 2] = [RuntimeKind::Tokio, RuntimeKind::Smol];

    /// The name used in `PORTICO_RUNTIME` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::Tokio => "tokio",
            RuntimeKind::Smol => "smol",
        }
    }

    /// Whether this runtime's feature is compiled in.
    pub fn is_enabled(self) -> bool {
        match self {
            RuntimeKind::Tokio => cfg!(feature = "tokio"),
            RuntimeKind::Smol => cfg!(feature = "smol"),
        }
    }

    /// The runtimes compiled in, tokio first.
    pub fn enabled() -> impl Iterator<Item = RuntimeKind> {
        Self::ALL.into_iter().filter(|kind| kind.is_enabled())
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RuntimeKind {
    type Err = ConfigError;

    /// Parses `tokio` or `smol` (ASCII case and surrounding spaces ignored).
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ConfigError::Unknown {
                value: s.to_owned(),
            })
    }
}

/// Why a runtime could not be chosen or started.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// `PORTICO_RUNTIME` (or a parsed string) names no runtime Portico knows.
    Unknown {
        /// The value as given.
        value: String,
    },
    /// The runtime asked for is not compiled into this program.
    NotCompiled {
        /// The runtime asked for.
        kind: RuntimeKind,
    },
    /// Neither the `tokio` nor the `smol` feature is enabled.
    NoneCompiled,
    /// The runtime's threads could not be started.
    Start {
        /// The runtime that failed to start.
        kind: RuntimeKind,
        /// What the operating system said.
        source: io::Error,
    },
}

fn valid_choices() -> String {
    let names: Vec<_> = RuntimeKind::enabled().map(RuntimeKind::name).collect();
    names.join(", ")
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Unknown { value } => write!(
                f,
                "{RUNTIME_ENV}={value:?} is not a runtime Portico knows; valid choices: {}",
                valid_choices()
            ),
            ConfigError::NotCompiled { kind } => write!(
                f,
                "the {kind} runtime is not compiled into this program (enable the `{kind}` \
                 feature of portico); valid choices: {}",
                valid_choices()
            ),
            ConfigError::NoneCompiled => f.write_str(
                "no runtime is compiled into this program: enable the `tokio` or `smol` feature \
                 of portico",
            ),
            ConfigError::Start { kind, source } => {
                write!(f, "could not start the {kind} runtime: {source}")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Start { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Chooses and starts a runtime.
///
/// # Examples
///
/// ```
/// use portico::{Builder, RuntimeKind};
///
/// let answer = Builder::new()
///     .runtime(RuntimeKind::Tokio)
///     .worker_threads(2)
///     .try_run(async { 6 * 7 })
///     .expect("tokio is compiled in");
/// assert_eq!(answer, 42);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    kind: Option<RuntimeKind>,
    worker_threads: Option<usize>,
    thread_name: Option<String>,
    max_blocking_threads: Option<usize>,
    shutdown_timeout: Option<Duration>,
}

impl Builder {
    /// A builder that picks the runtime from `PORTICO_RUNTIME`, with one worker per CPU.
    pub fn new() -> Self {
        Self::default()
    }

    /// Picks the runtime in code; this wins over `PORTICO_RUNTIME`.
    pub fn runtime(mut self, kind: RuntimeKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Sets the number of executor threads (default: one per CPU).
    pub fn worker_threads(mut self, count: usize) -> Self {
        self.worker_threads = Some(count);
        self
    }

    /// Sets the prefix of the runtime's thread names.
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name = Some(prefix.into());
        self
    }

    /// Sets the most threads the runtime's blocking pool may run at once (default: 512), which
    /// bounds plain `fn` handlers, plain `fn` dependencies and `to_thread` together; closures
    /// beyond it wait for a thread. Idle blocking threads exit after 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let answer = portico::Builder::new()
    ///     .max_blocking_threads(16)
    ///     .run(async { portico::rt::current().unwrap().spawn_blocking(|| 6 * 7).await })
    ///     .unwrap();
    /// assert_eq!(answer, 42);
    /// ```
    pub fn max_blocking_threads(mut self, count: usize) -> Self {
        self.max_blocking_threads = Some(count);
        self
    }

    /// Sets how long [`run`](Self::run) waits, after the main future, for blocking closures
    /// that have started (default: 10 seconds).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// The runtime this builder would start: the one set with [`runtime`](Self::runtime), else
    /// `PORTICO_RUNTIME` (an empty value counts as unset), else tokio if compiled in, else smol.
    ///
    /// # Errors
    ///
    /// An unknown name, or a runtime that is not compiled in.
    pub fn chosen_runtime(&self) -> Result<RuntimeKind, ConfigError> {
        let from_env = std::env::var(RUNTIME_ENV)
            .ok()
            .filter(|value| !value.trim().is_empty());
        let kind = match (self.kind, from_env) {
            (Some(kind), _) => kind,
            (None, Some(value)) => value.parse()?,
            (None, None) => RuntimeKind::enabled()
                .next()
                .ok_or(ConfigError::NoneCompiled)?,
        };
        if kind.is_enabled() {
            Ok(kind)
        } else if RuntimeKind::enabled().next().is_none() {
            Err(ConfigError::NoneCompiled)
        } else {
            Err(ConfigError::NotCompiled { kind })
        }
    }

    /// Starts the chosen runtime's threads.
    ///
    /// # Errors
    ///
    /// As [`chosen_runtime`](Self::chosen_runtime), or if the threads cannot be started.
    pub fn build(&self) -> Result<OwnedRuntime, ConfigError> {
        let kind = self.chosen_runtime()?;
        Ok(OwnedRuntime {
            inner: self.start(kind)?,
        })
    }

    /// This builder's settings on an adapter's builder.
    #[allow(dead_code, reason = "unused when no runtime feature is on")]
    fn configure<R: portico_rt::adapter::Start>(
        &self,
        mut builder: portico_rt::adapter::Builder<R>,
    ) -> portico_rt::adapter::Builder<R> {
        if let Some(count) = self.worker_threads {
            builder = builder.worker_threads(count);
        }
        if let Some(name) = &self.thread_name {
            builder = builder.thread_name(name.clone());
        }
        if let Some(count) = self.max_blocking_threads {
            builder = builder.max_blocking_threads(count);
        }
        builder
    }

    fn start(&self, kind: RuntimeKind) -> Result<Inner, ConfigError> {
        match kind {
            #[cfg(feature = "tokio")]
            RuntimeKind::Tokio => {
                let builder = self.configure(portico_tokio::Builder::new());
                let runtime = builder
                    .build()
                    .map_err(|source| ConfigError::Start { kind, source });
                Ok(Inner::Tokio(runtime?))
            }
            #[cfg(feature = "smol")]
            RuntimeKind::Smol => {
                let builder = self.configure(portico_smol::Builder::new());
                let runtime = builder
                    .build()
                    .map_err(|source| ConfigError::Start { kind, source });
                Ok(Inner::Smol(runtime?))
            }
            #[allow(unreachable_patterns, reason = "reached when a runtime feature is off")]
            _ => Err(ConfigError::NotCompiled { kind }),
        }
    }

    /// Runs `fut` as the program's async `main` on the chosen runtime (Asyncer's `runnify`).
    ///
    /// After `fut` finishes, tasks still running are cancelled and blocking closures that have
    /// started get the shutdown timeout to finish.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    pub fn try_run<F: IntoFuture>(self, fut: F) -> Result<F::Output, ConfigError> {
        let runtime = self.build()?;
        let output = runtime.block_on(fut.into_future());
        runtime.shutdown_timeout(self.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT));
        Ok(output)
    }

    /// Starts the chosen runtime and a [`BlockingPortal`](crate::tasks::BlockingPortal) onto
    /// it, for synchronous code (a `#[test]`, a command-line tool) to call async code. Stopping
    /// the portal shuts the runtime down, giving blocking closures the shutdown timeout.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    ///
    /// # Panics
    ///
    /// Panics if called from async code.
    pub fn start_blocking_portal(&self) -> Result<crate::tasks::BlockingPortal, ConfigError> {
        let runtime = self.build()?;
        let handle = runtime.handle().clone();
        let timeout = self.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT);
        Ok(crate::tasks::BlockingPortal::with_shutdown(
            handle,
            move || {
                runtime.shutdown_timeout(timeout);
            },
        ))
    }

    /// A [`BlockingTestClient`](crate::testing::BlockingTestClient) for `app`, running it on a
    /// runtime of its own started by this builder: for plain `#[test]` functions.
    ///
    /// # Panics
    ///
    /// If the runtime cannot start, the application has mistakes, or this is called from async
    /// code.
    #[track_caller]
    pub fn blocking_test_client(&self, app: crate::App) -> crate::testing::BlockingTestClient {
        let portal = self
            .start_blocking_portal()
            .unwrap_or_else(|err| panic!("cannot start the test runtime: {err}"));
        crate::testing::BlockingTestClient::with_portal(app, portal)
    }

    /// As [`try_run`](Self::try_run), but a configuration error stops the program at once: it
    /// prints the message (which names the valid choices) and exits with status 2.
    pub fn run<F: IntoFuture>(self, fut: F) -> F::Output {
        match self.try_run(fut) {
            Ok(output) => output,
            Err(err) => {
                eprintln!("error: {err}");
                std::process::exit(2)
            }
        }
    }
}

/// Runs `fut` (a future, or anything that turns into one, such as a server from
/// `App::serve`) as the program's async `main` on the runtime `PORTICO_RUNTIME` picks (tokio
/// when nothing says otherwise); see [`Builder::run`].
///
/// A configuration error (an unknown `PORTICO_RUNTIME`, a runtime not compiled in) prints a
/// message naming the valid choices and exits with status 2.
///
/// # Panics
///
/// Panics if called from inside a runtime, and propagates a panic from `fut`.
///
/// # Examples
///
/// ```
/// let sum = portico::run(async {
///     let rt = portico::rt::current().unwrap();
///     rt.spawn_blocking(|| (1..=100).sum::<u32>()).await.unwrap()
/// });
/// assert_eq!(sum, 5050);
/// ```
pub fn run<F: IntoFuture>(fut: F) -> F::Output {
    Builder::new().run(fut)
}

/// Starts a runtime (as [`run`] would pick it) with a
/// [`BlockingPortal`](crate::tasks::BlockingPortal) onto it: synchronous code calls async code
/// through the portal, and stopping (or dropping) the portal shuts the runtime down.
///
/// # Errors
///
/// As [`Builder::build`].
///
/// # Examples
///
/// ```
/// let portal = portico::start_blocking_portal().unwrap();
/// let sum = portal.call(async { 20 + 22 }).unwrap();
/// assert_eq!(sum, 42);
/// portal.stop(false);
/// ```
pub fn start_blocking_portal() -> Result<crate::tasks::BlockingPortal, ConfigError> {
    Builder::new().start_blocking_portal()
}

/// A runtime started by [`Builder::build`]; dropping it shuts the runtime down.
#[derive(Debug)]
pub struct OwnedRuntime {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    #[cfg(feature = "tokio")]
    Tokio(portico_tokio::TokioRuntime),
    #[cfg(feature = "smol")]
    Smol(portico_smol::SmolRuntime),
    /// Keeps matches well-formed when no runtime is compiled in; never built.
    #[cfg(not(any(feature = "tokio", feature = "smol")))]
    _None(std::convert::Infallible),
}

impl OwnedRuntime {
    /// Which runtime this is.
    pub fn kind(&self) -> RuntimeKind {
        match &self.inner {
            #[cfg(feature = "tokio")]
            Inner::Tokio(_) => RuntimeKind::Tokio,
            #[cfg(feature = "smol")]
            Inner::Smol(_) => RuntimeKind::Smol,
            #[cfg(not(any(feature = "tokio", feature = "smol")))]
            Inner::_None(never) => match *never {},
        }
    }

    /// The runtime's handle, to spawn onto it from outside.
    pub fn handle(&self) -> &crate::rt::Runtime {
        match &self.inner {
            #[cfg(feature = "tokio")]
            Inner::Tokio(rt) => rt.handle(),
            #[cfg(feature = "smol")]
            Inner::Smol(rt) => rt.handle(),
            #[cfg(not(any(feature = "tokio", feature = "smol")))]
            Inner::_None(never) => match *never {},
        }
    }

    /// Runs a future to completion on the calling thread; see [`crate::rt::Runtime::block_on`].
    ///
    /// # Panics
    ///
    /// Panics when called from async code, and propagates a panic from `fut`.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.handle().block_on(fut)
    }

    /// Shuts down: cancels the tasks left and waits at most `timeout` for blocking closures that
    /// have started. Once it returns, every thread the runtime started has exited, unless a
    /// blocking closure outlived the timeout.
    pub fn shutdown_timeout(self, timeout: Duration) {
        match self.inner {
            #[cfg(feature = "tokio")]
            Inner::Tokio(rt) => rt.shutdown_timeout(timeout),
            #[cfg(feature = "smol")]
            Inner::Smol(rt) => rt.shutdown_timeout(timeout),
            #[cfg(not(any(feature = "tokio", feature = "smol")))]
            Inner::_None(never) => match (never, timeout) {},
        }
    }
}
