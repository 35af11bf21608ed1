//! Ctrl-C and SIGTERM through async-signal.

use std::io;

use async_signal::{Signal as OsSignal, Signals};
use futures_lite::StreamExt;
use portico_rt::Signal;
use portico_rt::adapter::BoxFuture;

pub(crate) fn shutdown_signal() -> io::Result<BoxFuture<'static, io::Result<Signal>>> {
    #[cfg(unix)]
    let wanted = [OsSignal::Int, OsSignal::Term];
    #[cfg(not(unix))]
    let wanted = [OsSignal::Int];
    // Handlers are installed here, so no signal is missed before the future is first polled.
    let mut signals = Signals::new(wanted)?;
    Ok(Box::pin(async move {
        match signals.next().await {
            Some(Ok(OsSignal::Int)) => Ok(Signal::Interrupt),
            Some(Ok(_)) => Ok(Signal::Terminate),
            Some(Err(err)) => Err(err),
            None => Err(io::Error::other("the signal stream ended")),
        }
    }))
}
