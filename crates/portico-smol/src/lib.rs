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
//! drives the reactor. Blocking closures run on the `blocking` crate's process-wide pool, whose
//! idle threads exit after half a second on their own (`BLOCKING_MAX_THREADS` caps it, 500 by
//! default). async-io also keeps one process-wide `async-io` thread that drives the reactor
//! while no `block_on` does; it is not owned by any runtime and outlives them.

#[allow(unsafe_code, reason = "reads into uninitialised buffers with read(2)")]
mod net;
mod runtime;
mod signal;
mod task;
mod time;

pub use runtime::{Builder, SmolRuntime};
