//! Shutdown signals.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::adapter::BoxFuture;

/// A signal asking the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// Ctrl-C in a terminal (`SIGINT` on Unix).
    Interrupt,
    /// `SIGTERM`, as sent by `kill`, systemd and container runtimes (Unix only).
    Terminate,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}

/// Completes when the process receives Ctrl-C or `SIGTERM`, from
/// [`Runtime::shutdown_signal`](crate::Runtime::shutdown_signal).
///
/// Listening starts when the `ShutdownSignal` is created, not when it is first polled, so a
/// signal that arrives in between is not lost. While it is alive, the signals no longer end the
/// process by default.
///
/// # Cancel safety
///
/// Cancel-safe: dropping it stops listening.
#[must_use = "futures do nothing unless awaited"]
pub struct ShutdownSignal {
    inner: BoxFuture<'static, io::Result<Signal>>,
}

impl fmt::Debug for ShutdownSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownSignal").finish_non_exhaustive()
    }
}

impl ShutdownSignal {
    pub(crate) fn new(inner: BoxFuture<'static, io::Result<Signal>>) -> Self {
        ShutdownSignal { inner }
    }
}

impl Future for ShutdownSignal {
    type Output = io::Result<Signal>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}
