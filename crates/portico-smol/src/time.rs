//! Timers on async-io.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use async_io::Timer;
use portico_rt::Sleep;
use portico_rt::adapter::RawSleep;

struct SmolSleep(Timer);

impl Future for SmolSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

impl RawSleep for SmolSleep {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.0.set_at(deadline);
    }
}

pub(crate) fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(Box::pin(SmolSleep(Timer::at(deadline))), deadline)
}
