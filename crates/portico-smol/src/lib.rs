//! Portico's adapter for smol: [async-executor] on threads of its own, [async-io] for the reactor
//! and timers, and the [blocking] crate's thread pool.
//!
//! [`SmolRuntime`] starts the executor threads and hands out a [`portico_rt::Runtime`] for
//! them. Most applications do not name this crate: the `portico` facade picks the runtime.
//!
//! [async-executor]: https://docs.rs/async-executor
//! [async-io]: https://docs.rs/async-io
//! [blocking]: https://docs.rs/blocking
//!
//! # Examples
//!
//! ```
//! use portico_smol::SmolRuntime;
//!
//! let runtime = SmolRuntime::builder().worker_threads(2).build()?;
//! let answer = runtime.block_on(async {
//!     let rt = portico_rt::current().unwrap();
//!     rt.spawn(async { 42 }).await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # Threads
//!
//! Each executor thread runs `async_io::block_on(executor.run(..))`, so whichever thread is idle
//! drives the reactor. Blocking closures run on the `blocking` crate's process-wide pool. It
//! grows as blocking calls overlap, up to `BLOCKING_MAX_THREADS` (500 by default), and since
//! `blocking` 1.7 an idle thread exits only while the pool holds more threads than that limit:
//! the pool stays at the most threads it ever needed at once (bounded, for plain `fn` handlers,
//! by the thread limiter's tokens), where tokio's pool gives idle threads back after 10 s.
//! Set `BLOCKING_MAX_THREADS` lower to cap it. async-io also keeps one process-wide `async-io` thread that drives the reactor
//! while no `block_on` does; it is not owned by any runtime and outlives them.

#[allow(unsafe_code, reason = "reads into uninitialised buffers with read(2)")]
mod net;
mod runtime;
mod signal;
mod task;
mod time;

pub use runtime::{Builder, SmolRuntime};
