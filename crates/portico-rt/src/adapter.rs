//! For adapter crates: what a runtime adapter implements, and the types it moves between its
//! runtime and Portico.
//!
//! Applications and libraries written on Portico need nothing from this module: they use
//! [`Runtime`](crate::Runtime), [`current`](crate::current) and the socket and timer types at the
//! crate root. An adapter (`portico-tokio`, `portico-smol`) implements [`Backend`] for its
//! runtime, wraps it with [`Runtime::from_backend`](crate::Runtime::from_backend), hands its
//! sockets and timers to Portico through the `Raw*` traits here, and names [`Builder`] for its
//! runtime, so that every adapter is configured the same way.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Instant;

use crate::signal::Signal;
use crate::tcp::{TcpListener, TcpStream};
use crate::time::Sleep;

mod builder;
mod join;
mod pool;
mod task;
#[cfg(test)]
mod tests;

pub use crate::current::Probe;
pub use crate::net::{RawListener, RawStream, RawTcpStream};
pub use crate::time::RawSleep;
pub use builder::{Builder, BuilderConfig, Start};
pub use join::{NativeJoin, RawJoin};
pub use pool::BlockingPool;
pub use task::{BlockingTask, Completed, RawTask};

/// A boxed, sendable future, as adapters return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an async runtime provides to Portico. Implemented by the adapter crates
/// (`portico-tokio`, `portico-smol`); applications use [`Runtime`](crate::Runtime) instead.
///
/// The trait is object-safe: a [`Runtime`](crate::Runtime) is an `Arc<dyn Backend>`. Generic
/// work (erasing futures and closures, typing join handles, timeouts) happens once in
/// `portico-rt`, so an adapter only moves opaque values between Portico and its runtime.
///
/// # Contract
///
/// Every adapter must give the same observable behaviour; the conformance suite in the
/// workspace's tests checks each one.
///
/// * **Spawned tasks** run on the runtime's worker threads, in parallel when it has several. The
///   returned [`RawJoin`] cancels the task when dropped and reports a cancellation (for instance
///   by shutdown) as such; see [`NativeJoin`].
/// * **Panics.** Polling a [`RawTask`] or running a [`BlockingTask`] may panic. The adapter
///   catches the panic on the thread where it happened (that thread lives on) and hands its
///   payload to the join handle. tokio and async-task do both natively.
/// * **After shutdown**, spawning returns [`RawJoin::cancelled`] (or a handle that yields `None`)
///   instead of panicking.
/// * **Blocking tasks** run on a pool of threads that are not executor threads, and may block
///   for as long as they like.
/// * **Threads.** [`current`](crate::current) must answer on every thread the adapter owns:
///   executor workers (the adapter enters its runtime on them, or answers through a registered
///   [`Probe`]); blocking closures and [`block_on`](Self::block_on) are entered by
///   `portico-rt` itself.
pub trait Backend: Send + Sync + 'static {
    /// The runtime's name, as users write it in `PORTICO_RUNTIME` (`"tokio"`, `"smol"`).
    fn name(&self) -> &'static str;

    /// Spawns a task onto the executor.
    fn spawn(&self, task: RawTask) -> RawJoin;

    /// Spawns a task that nobody will join: as [`spawn`](Self::spawn) then
    /// detaching its join handle, which is what this default does. Adapters override it to skip
    /// making a join handle (an allocation per task). A panic in the task is caught and
    /// dropped; after shutdown the task is dropped without running.
    fn spawn_detached(&self, task: RawTask) {
        self.spawn(task).detach();
    }

    /// Runs a blocking closure on the blocking pool, by calling [`BlockingTask::run`] there.
    fn spawn_blocking(&self, task: BlockingTask) -> RawJoin;

    /// The current time as this runtime's timers see it.
    fn now(&self) -> Instant {
        Instant::now()
    }

    /// A timer that completes at `deadline` (at once if it has passed).
    fn sleep_until(&self, deadline: Instant) -> Sleep;

    /// Registers a bound, listening socket with the reactor. The adapter sets it non-blocking.
    ///
    /// # Errors
    ///
    /// Whatever the reactor reports when registering the socket.
    fn tcp_listener(&self, listener: std::net::TcpListener) -> io::Result<TcpListener>;

    /// Connects to `addr`.
    fn tcp_connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<TcpStream>>;

    /// Registers a bound, listening Unix socket with the reactor.
    ///
    /// # Errors
    ///
    /// Whatever the reactor reports when registering the socket.
    #[cfg(unix)]
    fn unix_listener(
        &self,
        listener: std::os::unix::net::UnixListener,
    ) -> io::Result<crate::unix::UnixListener>;

    /// Connects to the Unix socket at `path`.
    #[cfg(unix)]
    fn unix_connect(
        &self,
        path: std::path::PathBuf,
    ) -> BoxFuture<'static, io::Result<crate::unix::UnixStream>>;

    /// Starts listening for Ctrl-C (`SIGINT`) and, on Unix, `SIGTERM`; the future completes with
    /// the first one that arrives after this call.
    ///
    /// # Errors
    ///
    /// Whatever the platform reports when installing the handlers.
    fn shutdown_signal(&self) -> io::Result<BoxFuture<'static, io::Result<Signal>>>;

    /// Runs `fut` to completion on the calling thread, driving whatever the runtime needs.
    ///
    /// `portico-rt` has already made [`current`](crate::current) answer on this thread.
    fn block_on(&self, fut: Pin<&mut (dyn Future<Output = ()> + '_)>);
}
