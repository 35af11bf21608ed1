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
