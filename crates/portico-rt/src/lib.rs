//! The runtime layer of Portico: what an async runtime must provide, written down once, so that
//! the rest of the framework runs on tokio or smol alike.
//!
//! `portico-rt` names no runtime. It defines:
//!
//! * [`Runtime`], a cheap handle to whichever runtime runs the application: spawning tasks
//!   ([`Runtime::spawn`]) and blocking closures ([`Runtime::spawn_blocking`]), timers
//!   ([`Runtime::sleep`], [`Runtime::timeout`]), TCP and Unix sockets, shutdown signals and
//!   [`Runtime::block_on`];
//! * [`current`], which finds the runtime the calling code runs on (the part `sniffio` plays for
//!   AnyIO), and returns a clear error outside any runtime;
//! * [`JoinHandle`], with **the same semantics on every adapter**: dropping it cancels the task,
//!   [`JoinHandle::detach`] keeps it running, and awaiting it tells a panic (with its payload) from
//!   a cancellation;
//! * the types applications meet through it: [`JoinError`], [`Sleep`] and [`Timeout`], TCP and
//!   Unix sockets ([`ListenOptions`], [`TcpListener`], [`TcpStream`], ...), [`Signal`];
//! * in [`adapter`], and only there, what adapter crates (`portico-tokio`, `portico-smol`)
//!   implement: the object-safe [`Backend`](adapter::Backend) trait and the types it moves.
//!
//! Applications normally reach this crate through the `portico` facade, which also picks the
//! runtime.
//!
//! # Examples
//!
//! Code written against `portico-rt` runs on whichever runtime calls it:
//!
//! ```
//! use std::time::Duration;
//!
//! async fn first_or_nothing(rt: &portico_rt::Runtime) -> Option<u32> {
//!     let slow = rt.spawn(async { std::future::pending::<u32>().await });
//!     // The task never finishes, so the timeout fires and dropping the handle cancels it.
//!     rt.timeout(Duration::from_millis(10), slow).await.ok()?.ok()
//! }
//! ```
//!
//! This crate depends on no runtime, not even for its own tests, so the examples in its docs
//! are compiled but not run here; they run in the `portico` facade's docs and in the
//! workspace's conformance suite, on every adapter.
//!
//! # Contract of every operation
//!
//! | operation | on drop | on panic | cancel-safe |
//! | --- | --- | --- | --- |
//! | [`Runtime::spawn`] | dropping the [`JoinHandle`] cancels the task | caught; the handle returns [`JoinError`] with the payload; the worker thread lives on | yes: dropping the await drops the handle, which cancels the task |
//! | [`Runtime::spawn_detached`] | — (no handle: the task runs to its end, or until shutdown) | caught and dropped; the worker thread lives on | — |
//! | [`Runtime::spawn_blocking`] | a queued closure never starts; a started one runs to its end | caught, as above | as above, but a started closure is not interrupted |
//! | [`Runtime::sleep`], [`Runtime::sleep_until`] | cancels the timer | — | yes |
//! | [`Runtime::timeout`] | drops the inner future | propagates from the inner future | as the inner future |
//! | [`TcpListener::accept`] | nothing is lost | — | yes: a connection is only dequeued when returned |
//! | reads and writes | — | — | as futures-io: a dropped read loses nothing, a dropped `write_all` may have written part |
//! | [`Runtime::shutdown_signal`] | stops listening | — | yes |
//! | [`Runtime::block_on`] | — | propagates to the caller | — (it blocks) |
//!
//! # Why there is unsafe code
//!
//! [`ReadBuf`] lets reads fill uninitialised memory without zeroing it first, which spares an
//! HTTP server a `memset` per read. That module, and only it, uses `unsafe`; each block states
//! why it is sound. Spawning does not: [`Runtime::spawn`] boxes the future to move it through
//! the non-generic [`Backend`](adapter::Backend), at a cost measured in `BENCHMARKS.md`.
//!
//! # Features
//!
//! None. Unix domain sockets and `SIGTERM` exist on Unix only.

pub mod adapter;
mod current;
mod io;
mod net;
#[allow(
    unsafe_code,
    reason = "reads into uninitialised memory; each block says why it is sound"
)]
mod read_buf;
mod runtime;
mod signal;
mod task;
mod tcp;
mod time;
#[cfg(unix)]
mod unix;

pub use current::{EnterGuard, NoRuntime, ThreadRole, current, thread_role};
pub use read_buf::ReadBuf;
pub use runtime::Runtime;
pub use signal::{ShutdownSignal, Signal};
pub use task::{JoinError, JoinHandle, Panic, panic_message};
pub use tcp::{ListenOptions, TcpListener, TcpStream};
pub use time::{Elapsed, Sleep, Timeout};
#[cfg(unix)]
pub use unix::{UnixListener, UnixStream};
