//! Portico's adapter for smol: [async-executor] on threads of its own, a reactor of its own for
//! sockets on Linux ([async-io] elsewhere), async-io for timers and signals, and a pool of
//! threads of its own for blocking closures.
//!
//! [`SmolRuntime`] starts the executor threads and hands out a [`portico_rt::Runtime`] for
//! them. Most applications do not name this crate: the `portico` facade picks the runtime.
//!
//! [async-executor]: https://docs.rs/async-executor
//! [async-io]: https://docs.rs/async-io
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
//! Each executor thread runs the executor until it has nothing to do, then waits for the
//! adapter's sockets, or parks while another thread waits for them; `block_on` on any other
//! thread does the same. On Linux the sockets (accepted, connected, or listeners) are
//! registered once, edge-triggered, on an epoll instance of the adapter's own, and a wait is one
//! `epoll_wait`: async-io's reactor re-arms a socket with an `epoll_ctl` before each wait for it
//! and makes five system calls a wait, which was most of a keep-alive request's system calls.
//! Elsewhere, or if the system refuses an epoll instance, sockets stay on async-io.
//!
//! Timers, signals and whatever an application runs on async-io (`smol::net`, `smol::Timer`)
//! are driven by async-io's own process-wide `async-io` thread, which is not owned by any
//! runtime and outlives them.
//!
//! Blocking closures run on the runtime's own pool of threads
//! ([`BlockingPool`](portico_rt::adapter::BlockingPool)). A closure goes straight to an idle
//! thread, which parks on its own, so handing one over wakes that thread and no other. The
//! pool starts threads as closures overlap, up to
//! [`max_blocking_threads`](portico_rt::adapter::Builder::max_blocking_threads) (512 by
//! default; beyond it closures wait their turn), and a thread with no work for 10 s exits, as
//! tokio's do. Shutting the runtime down drops the closures that have not started and waits for
//! the threads of those that have.

mod io;
#[allow(unsafe_code, reason = "reads into uninitialised buffers with read(2)")]
mod net;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod reactor;
mod runtime;
mod signal;
mod task;
mod time;

pub use runtime::{Builder, SmolRuntime};
