//! hyper's runtime hooks (`Executor`, `Timer`) over `portico-rt`, so that hyper runs on whichever
//! runtime serves the application.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use portico_rt::Runtime;

/// Runs hyper's background tasks (HTTP/2 streams) on the runtime, as children of the
/// server's tracker of streams: they end with their connection, or are cut with it.
#[cfg(feature = "http2")]
#[derive(Debug, Clone)]
pub(crate) struct Exec {
    pub(crate) rt: Runtime,
    pub(crate) streams: portico_tasks::TaskTracker,
}

#[cfg(feature = "http2")]
impl<F> hyper::rt::Executor<F> for Exec
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        self.streams.start_soon_on(&self.rt, async move {
            fut.await;
        });
    }
}

/// hyper's timer on the runtime's clock. It is always installed: hyper panics when a timeout is
/// configured without one.
#[derive(Debug, Clone)]
pub(crate) struct Timer(pub(crate) Runtime);

/// A runtime sleep as hyper sees it.
struct Sleep(portico_rt::Sleep);

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for Sleep {}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Sleep(self.0.sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Sleep(self.0.sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            // Moving the deadline of the timer we have is cheaper than making a new one.
            Some(mut ours) => ours.0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
