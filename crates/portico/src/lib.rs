//! Portico: a web framework for Rust in the spirit of FastAPI, that runs the same application on
//! tokio or on smol.
//!
//! This release holds the foundation: the runtime layer ([`rt`]), the choice of runtime
//! ([`run`], [`Builder`]) and the per-runtime test attribute ([`test`]). The HTTP layer builds on
//! it.
//!
//! # Running an async `main`
//!
//! In `main`:
//!
//! ```
//! let name = portico::run(async {
//!     let rt = portico::rt::current().expect("inside portico::run");
//!     rt.spawn(async { "spawned" }).await.unwrap();
//!     rt.name()
//! });
//! println!("ran on {name}");
//! ```
//!
//! # Picking a runtime
//!
//! The features `tokio` (on by default) and `smol` are additive. With one of them on, it is
//! used. With both, the application picks at start: [`Builder::runtime`] if the code says so,
//! otherwise the environment variable `PORTICO_RUNTIME` (`tokio` or `smol`), otherwise tokio.
//! An unknown name, or a runtime that is not compiled in, stops [`run`] at start with a message
//! naming the valid choices.
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `tokio` | yes | the tokio adapter, `portico-tokio` |
//! | `smol` | no | the smol adapter, `portico-smol` (async-executor, async-io, blocking) |
//!
//! A library written on Portico names neither: it uses [`rt::current`].

#![forbid(unsafe_code)]

mod runtime;
mod testing;

pub use portico_macros::test;
pub use portico_rt as rt;
pub use portico_tasks as tasks;
pub use runtime::{
    Builder, ConfigError, OwnedRuntime, RUNTIME_ENV, RuntimeKind, run, start_blocking_portal,
};

#[doc(hidden)]
pub mod __private {
    pub use crate::testing::{TestConfig, run_test};
}

/// Expands one `#[portico::test]` into one `#[test]` per compiled-in runtime.
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_tests {
    ($name:ident, $ret:ty, $config:expr, [$(#[$attr:meta])*]) => {
        $crate::__runtime_test_tokio!($name, $ret, $config, [$(#[$attr])*]);
        $crate::__runtime_test_smol!($name, $ret, $config, [$(#[$attr])*]);
    };
}

#[cfg(feature = "tokio")]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_test_tokio {
    ($name:ident, $ret:ty, $config:expr, [$(#[$attr:meta])*]) => {
        #[test]
        $(#[$attr])*
        fn tokio() -> $ret {
            $crate::__private::run_test(
                $crate::RuntimeKind::Tokio,
                ::core::concat!(::core::module_path!(), "::tokio"),
                $config,
                $name(),
            )
        }
    };
}

#[cfg(not(feature = "tokio"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_test_tokio {
    ($($ignored:tt)*) => {};
}

#[cfg(feature = "smol")]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_test_smol {
    ($name:ident, $ret:ty, $config:expr, [$(#[$attr:meta])*]) => {
        #[test]
        $(#[$attr])*
        fn smol() -> $ret {
            $crate::__private::run_test(
                $crate::RuntimeKind::Smol,
                ::core::concat!(::core::module_path!(), "::smol"),
                $config,
                $name(),
            )
        }
    };
}

#[cfg(not(feature = "smol"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __runtime_test_smol {
    ($($ignored:tt)*) => {};
}

/// The README's examples, compiled and run as doctests so they stay true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
