//! A child's registration with a cancel event, kept across polls.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use event_listener::EventListener;

/// A listener registered with a cancel event, and the waker it was registered with.
///
/// A child polled again with the same waker (a task's own, the usual case) is still
/// registered: polling the listener again would only take the event's lock to store the same
/// waker, so the flag is read instead. A cancellation sets its flag before it notifies the
/// event, and the first registration reads the flag after listening, so none is missed.
#[derive(Default)]
pub(crate) struct Listening {
    listener: Option<EventListener>,
    /// The waker the listener holds.
    waker: Option<Waker>,
}

impl Listening {
    /// `Ready` once `cancelled` says so; otherwise `cx`'s waker is registered with the event
    /// (`listen` makes the listener, the first time) and it is `Pending`.
    #[inline]
    pub(crate) fn poll(
        &mut self,
        listen: impl FnOnce() -> EventListener,
        cancelled: impl Fn() -> bool,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if cancelled() {
            return Poll::Ready(());
        }
        if self.listener.is_some()
            && (self.waker.as_ref()).is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        // Listen, then read the flag again: a cancellation in between notifies this listener.
        let listener = self.listener.get_or_insert_with(listen);
        if cancelled() {
            return Poll::Ready(());
        }
        let polled = Pin::new(listener).poll(cx);
        if polled.is_pending() {
            self.waker = Some(cx.waker().clone());
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use event_listener::Event;

    use super::Listening;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn a_cancellation_wakes_the_waker_of_the_last_poll() {
        let event = Event::new();
        let flag = AtomicBool::new(false);
        let mut listening = Listening::default();
        let (first, first_waker) = waker();
        let (second, second_waker) = waker();
        let poll = |listening: &mut Listening, waker: &Waker| {
            listening.poll(
                || event.listen(),
                || flag.load(Ordering::SeqCst),
                &mut Context::from_waker(waker),
            )
        };
        assert!(poll(&mut listening, &first_waker).is_pending());
        // Polled again by the same waker: still registered, nothing to do.
        assert!(poll(&mut listening, &first_waker).is_pending());
        // Polled by another (the child moved into another future): that one is registered now.
        assert!(poll(&mut listening, &second_waker).is_pending());
        flag.store(true, Ordering::SeqCst);
        event.notify(usize::MAX);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(poll(&mut listening, &second_waker), Poll::Ready(()));
    }

    #[test]
    fn a_cancellation_before_the_first_poll_is_seen_at_once() {
        let event = Event::new();
        let mut listening = Listening::default();
        let (count, waker) = waker();
        let polled = listening.poll(|| event.listen(), || true, &mut Context::from_waker(&waker));
        assert_eq!(polled, Poll::Ready(()));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }
}
