//! Ctrl-C and SIGTERM through tokio's signal driver.

use std::io;

use portico_rt::Signal;
use portico_rt::adapter::BoxFuture;
use tokio::runtime::Handle;

#[cfg(unix)]
pub(crate) fn shutdown_signal(
    handle: &Handle,
) -> io::Result<BoxFuture<'static, io::Result<Signal>>> {
    use std::future::poll_fn;
    use std::task::Poll;
    use tokio::signal::unix::{SignalKind, signal};

    // Handlers are installed here, in the runtime's context, so no signal is missed before the
    // future is first polled.
    let _enter = handle.enter();
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(Box::pin(poll_fn(move |cx| {
        let closed = || io::Error::other("the signal driver shut down");
        if let Poll::Ready(got) = interrupt.poll_recv(cx) {
            return Poll::Ready(got.map(|()| Signal::Interrupt).ok_or_else(closed));
        }
        if let Poll::Ready(got) = terminate.poll_recv(cx) {
            return Poll::Ready(got.map(|()| Signal::Terminate).ok_or_else(closed));
        }
        Poll::Pending
    })))
}

#[cfg(not(unix))]
pub(crate) fn shutdown_signal(
    handle: &Handle,
) -> io::Result<BoxFuture<'static, io::Result<Signal>>> {
    let _enter = handle.enter();
    let ctrl_c = tokio::signal::ctrl_c();
    Ok(Box::pin(
        async move { ctrl_c.await.map(|()| Signal::Interrupt) },
    ))
}
