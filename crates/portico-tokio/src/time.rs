//! Timers on tokio's time driver.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use portico_rt::Sleep;
use portico_rt::adapter::RawSleep;
use tokio::runtime::Handle;

pin_project_lite::pin_project! {
    struct TokioSleep {
        #[pin]
        inner: tokio::time::Sleep,
    }
}

impl Future for TokioSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

impl RawSleep for TokioSleep {
    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.project().inner.reset(deadline.into());
    }
}

pub(crate) fn sleep_until(handle: &Handle, deadline: Instant) -> Sleep {
    // tokio finds its time driver through the thread's runtime context when the timer is created.
    let _enter = handle.enter();
    let inner = tokio::time::sleep_until(deadline.into());
    Sleep::new(Box::pin(TokioSleep { inner }), deadline)
}
