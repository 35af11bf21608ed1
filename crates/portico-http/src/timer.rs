//! [`LazyTimer`]: one timer for a deadline that keeps moving, moved only when it must be.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use portico_rt::{Runtime, Sleep};

/// A timer for a deadline that moves later again and again (a connection's idle time restarts
/// with every request, a body's wait with every read). Moving a timer costs a reactor
/// operation on some runtimes, so a timer set for an earlier deadline is left to fire early,
/// and moved then; the caller looks at the time again whenever it fires. Created on first use.
pub(crate) struct LazyTimer(Option<Sleep>);

impl LazyTimer {
    pub(crate) const fn new() -> Self {
        LazyTimer(None)
    }

    /// Ready when the timer fires: at `deadline` or, set earlier, before it (the caller checks
    /// the time and polls again with its deadline). `now` is the caller's reading of the clock.
    pub(crate) fn poll_until(
        &mut self,
        rt: &Runtime,
        deadline: Instant,
        now: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let timer = match &mut self.0 {
            None => self.0.insert(rt.sleep_until(deadline)),
            Some(timer) => {
                // Fired already (or about to), or set too late: moved to the deadline.
                if timer.deadline() <= now || timer.deadline() > deadline {
                    timer.reset(deadline);
                }
                timer
            }
        };
        Pin::new(timer).poll(cx)
    }
}
