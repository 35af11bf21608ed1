//! Portico's adapter for [tokio](https://tokio.rs).
//!
//! [`TokioRuntime`] starts a multi-threaded tokio runtime and hands out a
//! [`portico_rt::Runtime`] for it. An application that already runs inside tokio (its own
//! `#[tokio::main]`) needs nothing: [`portico_rt::current`] recognises tokio's threads, and
//! [`TokioRuntime::from_tokio`] wraps any tokio [`Handle`](tokio::runtime::Handle) explicitly.
//!
//! Most applications do not name this crate: the `portico` facade picks the runtime.
//!
//! # Examples
//!
//! ```
//! use portico_tokio::TokioRuntime;
//!
//! let runtime = TokioRuntime::builder().worker_threads(2).build()?;
//! let answer = runtime.block_on(async {
//!     let rt = portico_rt::current().unwrap();
//!     rt.spawn(async { 42 }).await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! Inside an application's own tokio runtime:
//!
//! ```
//! #[tokio::main]
//! async fn main() {
//!     let rt = portico_rt::current().expect("tokio's threads are recognised");
//!     assert_eq!(rt.name(), "tokio");
//!     assert_eq!(rt.spawn(async { 1 + 1 }).await.unwrap(), 2);
//! }
//! ```
//!
//! # Blocking closures
//!
//! On a runtime built by [`Builder`], blocking closures (`Runtime::spawn_blocking`, and so plain
//! `fn` handlers and dependencies and `to_thread`) run on Portico's
//! [`BlockingPool`](portico_rt::adapter::BlockingPool), which hands each closure to one parked
//! thread; tokio's own pool wakes its idle threads through one shared condition variable, and
//! cost more CPU per closure under load. Its threads are named like the runtime's others and
//! run inside the tokio runtime, so `tokio::runtime::Handle::current()` works in a plain `fn`
//! as it does in `tokio::task::spawn_blocking`. The pool holds at most
//! [`max_blocking_threads`](portico_rt::adapter::Builder::max_blocking_threads) threads (512
//! by default), and one idle for 10 s exits. Shutting down drops the closures that have not
//! started and waits for the others, as tokio's does. A runtime the application started itself
//! (`#[tokio::main]`) keeps tokio's pool: its shutdown is the application's.
//!
//! # Requirements on a borrowed runtime
//!
//! A tokio runtime that Portico did not build must have its I/O and time drivers enabled
//! (`enable_all()`, as `#[tokio::main]` does); timers and sockets panic inside tokio otherwise.

#[allow(
    unsafe_code,
    reason = "reads into uninitialised buffers through tokio's ReadBuf"
)]
mod net;
mod runtime;
mod signal;
mod task;
mod time;

pub use runtime::{Builder, TokioRuntime};
