//! Memory object streams: AnyIO's `create_memory_object_stream`, a bounded channel whose ends
//! can be cloned and closed one by one.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use event_listener::{Event, EventListener, IntoNotification};
use futures_core::Stream;

/// Creates a memory object stream holding up to `max_buffer_size` items in flight.
///
/// * `0` makes a rendezvous: a send completes only when a receiver takes the item, and
///   [`try_send`](MemorySender::try_send) fails with [`TrySendError::WouldBlock`] unless a
///   receiver is waiting (AnyIO's default).
/// * `usize::MAX` makes it unbounded (discouraged: nothing slows a fast sender down).
///
/// Both ends can be cloned, for fan-in and fan-out; each item reaches exactly one receiver.
/// Closing or dropping every sender ends the stream for receivers once the buffer is drained
/// ([`RecvError::EndOfStream`]); closing or dropping every receiver makes sends fail
/// ([`SendError::Broken`]). Using an end after closing it is [`SendError::Closed`] or
/// [`RecvError::Closed`].
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use portico_tasks::{RecvError, memory_stream};
///
/// let (tx, mut rx) = memory_stream::<String>(8);
/// let rt = portico_rt::current().unwrap();
/// rt.spawn(async move {
///     for word in ["one", "two"] {
///         tx.send(word.to_owned()).await.unwrap();
///     }
///     // `tx` is dropped here: the stream ends.
/// })
/// .detach();
/// assert_eq!(rx.recv().await.unwrap(), "one");
/// assert_eq!(rx.recv().await.unwrap(), "two");
/// assert_eq!(rx.recv().await, Err(RecvError::EndOfStream));
/// # }
/// ```
pub fn memory_stream<T>(max_buffer_size: usize) -> (MemorySender<T>, MemoryReceiver<T>) {
    let chan = Arc::new(Chan {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            capacity: max_buffer_size,
            senders: 1,
            receivers: 1,
            waiting_receivers: 0,
            waiting_senders: 0,
        }),
        send_ready: Event::new(),
        recv_ready: Event::new(),
    });
    (
        MemorySender {
            chan: Some(chan.clone()),
        },
        MemoryReceiver {
            chan: Some(chan),
            listener: None,
            waiting: false,
        },
    )
}

struct Chan<T> {
    state: Mutex<State<T>>,
    /// Notified when a sender may proceed: room in the buffer, a receiver waiting, or none left.
    send_ready: Event,
    /// Notified when a receiver may proceed: an item, or no sender left.
    recv_ready: Event,
}

struct State<T> {
    queue: VecDeque<T>,
    capacity: usize,
    senders: usize,
    receivers: usize,
    /// Receivers blocked in `recv`: each lets one more item in, which is how a rendezvous
    /// (capacity 0) hands items over.
    waiting_receivers: usize,
    waiting_senders: usize,
}

impl<T> Chan<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        self.queue.len() < self.capacity.saturating_add(self.waiting_receivers)
    }
}

/// What a memory stream is doing, from `statistics()` on either end.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStatistics {
    /// Items sent and not yet received.
    pub current_buffer_used: usize,
    /// The capacity given to [`memory_stream`].
    pub max_buffer_size: usize,
    /// Senders not closed or dropped.
    pub open_send_streams: usize,
    /// Receivers not closed or dropped.
    pub open_receive_streams: usize,
    /// Senders waiting for room.
    pub tasks_waiting_send: usize,
    /// Receivers waiting for an item.
    pub tasks_waiting_receive: usize,
}

fn statistics<T>(chan: &Chan<T>) -> StreamStatistics {
    let state = chan.lock();
    StreamStatistics {
        current_buffer_used: state.queue.len(),
        max_buffer_size: state.capacity,
        open_send_streams: state.senders,
        open_receive_streams: state.receivers,
        tasks_waiting_send: state.waiting_senders,
        tasks_waiting_receive: state.waiting_receivers,
    }
}

/// Why a send failed; the item comes back.
#[derive(PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError<T> {
    /// This sender was closed.
    Closed(T),
    /// Every receiver is closed or dropped: nobody will receive it (AnyIO's
    /// `BrokenResourceError`).
    Broken(T),
}

/// Why a send without waiting failed; the item comes back.
#[derive(PartialEq, Eq)]
#[non_exhaustive]
pub enum TrySendError<T> {
    /// This sender was closed.
    Closed(T),
    /// Every receiver is closed or dropped.
    Broken(T),
    /// The buffer is full (or, for a rendezvous, no receiver is waiting).
    WouldBlock(T),
}

/// Why a receive failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecvError {
    /// Every sender is closed or dropped and the buffer is empty.
    EndOfStream,
    /// This receiver was closed.
    Closed,
}

/// Why a receive without waiting failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryRecvError {
    /// Every sender is closed or dropped and the buffer is empty.
    EndOfStream,
    /// This receiver was closed.
    Closed,
    /// Nothing to receive now.
    WouldBlock,
}

macro_rules! item_error {
    ($ty:ident { $($variant:ident => $text:literal),* }) => {
        impl<T> $ty<T> {
            /// The item that was not sent.
            pub fn into_inner(self) -> T {
                match self { $($ty::$variant(item) => item),* }
            }
        }

        impl<T> fmt::Debug for $ty<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self { $($ty::$variant(_) => f.write_str(concat!(stringify!($ty), "::", stringify!($variant)))),* }
            }
        }

        impl<T> fmt::Display for $ty<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self { $($ty::$variant(_) => f.write_str($text)),* }
            }
        }

        impl<T> std::error::Error for $ty<T> {}
    };
}

item_error!(SendError {
    Closed => "this sender was closed",
    Broken => "every receiver of the stream is closed"
});
item_error!(TrySendError {
    Closed => "this sender was closed",
    Broken => "every receiver of the stream is closed",
    WouldBlock => "the stream's buffer is full"
});

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecvError::EndOfStream => "end of stream: every sender is closed",
            RecvError::Closed => "this receiver was closed",
        })
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::EndOfStream => "end of stream: every sender is closed",
            TryRecvError::Closed => "this receiver was closed",
            TryRecvError::WouldBlock => "nothing to receive yet",
        })
    }
}

impl std::error::Error for TryRecvError {}

/// The sending end of a [`memory_stream`]; clone it for more senders.
pub struct MemorySender<T> {
    /// `None` once closed.
    chan: Option<Arc<Chan<T>>>,
}

impl<T> fmt::Debug for MemorySender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySender")
            .field("closed", &self.chan.is_none())
            .finish()
    }
}

impl<T> Clone for MemorySender<T> {
    /// Another sender of the same stream. A clone of a closed sender is closed.
    fn clone(&self) -> Self {
        if let Some(chan) = &self.chan {
            chan.lock().senders += 1;
        }
        MemorySender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> MemorySender<T> {
    /// Sends `item`, waiting for room in the buffer (for a rendezvous, for a receiver).
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] if this sender was closed, [`SendError::Broken`] once every
    /// receiver is gone; the item comes back either way.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped before the item was taken into the stream, the item is dropped
    /// with it; once taken, it is delivered.
    pub async fn send(&self, item: T) -> Result<(), SendError<T>> {
        let Some(chan) = &self.chan else {
            return Err(SendError::Closed(item));
        };
        let mut item = Some(item);
        let mut waiting = WaitingSend {
            chan,
            counted: false,
        };
        loop {
            let listener = {
                let mut state = chan.lock();
                match offer(chan, &mut state, &mut item) {
                    Some(Ok(())) => {
                        waiting.stop(&mut state);
                        return Ok(());
                    }
                    Some(Err(TrySendError::Broken(item))) => {
                        waiting.stop(&mut state);
                        return Err(SendError::Broken(item));
                    }
                    _ => {}
                }
                if !waiting.counted {
                    state.waiting_senders += 1;
                    waiting.counted = true;
                }
                chan.send_ready.listen()
            };
            listener.await;
        }
    }

    /// Sends `item` if that needs no waiting.
    ///
    /// # Errors
    ///
    /// [`TrySendError::WouldBlock`] when the buffer is full (for a rendezvous, when no receiver
    /// waits), and as [`send`](Self::send) otherwise; the item comes back.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let Some(chan) = &self.chan else {
            return Err(TrySendError::Closed(item));
        };
        let mut item = Some(item);
        let mut state = chan.lock();
        match offer(chan, &mut state, &mut item) {
            Some(result) => result,
            None => Err(TrySendError::WouldBlock(
                item.take().unwrap_or_else(|| unreachable!()),
            )),
        }
    }

    /// Closes this sender (not its clones). Dropping it does the same.
    pub fn close(&mut self) {
        if let Some(chan) = self.chan.take() {
            let last = {
                let mut state = chan.lock();
                state.senders -= 1;
                state.senders == 0
            };
            if last {
                chan.recv_ready.notify(usize::MAX);
            }
        }
    }

    /// Whether this sender was closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_none()
    }

    /// The stream's statistics, or `None` if this sender was closed.
    pub fn statistics(&self) -> Option<StreamStatistics> {
        self.chan.as_deref().map(statistics)
    }
}

/// Puts `item` into the stream if it can go in now: `Some(Ok)` when sent, `Some(Err(Broken))`
/// when nobody can receive it, `None` (with the item left in place) when it must wait.
fn offer<T>(
    chan: &Chan<T>,
    state: &mut State<T>,
    item: &mut Option<T>,
) -> Option<Result<(), TrySendError<T>>> {
    let taken = item.take()?;
    if state.receivers == 0 {
        return Some(Err(TrySendError::Broken(taken)));
    }
    if !state.has_room() {
        *item = Some(taken);
        return None;
    }
    state.queue.push_back(taken);
    chan.recv_ready.notify(1usize.additional());
    Some(Ok(()))
}

/// Counts a waiting send until it ends, however it ends.
struct WaitingSend<'a, T> {
    chan: &'a Chan<T>,
    counted: bool,
}

impl<T> WaitingSend<'_, T> {
    fn stop(&mut self, state: &mut State<T>) {
        if std::mem::take(&mut self.counted) {
            state.waiting_senders -= 1;
        }
    }
}

impl<T> Drop for WaitingSend<'_, T> {
    fn drop(&mut self) {
        if self.counted {
            self.chan.lock().waiting_senders -= 1;
            // A wake-up this sender may have swallowed goes to the next one.
            self.chan.send_ready.notify(1usize.additional());
        }
    }
}

impl<T> Drop for MemorySender<T> {
    fn drop(&mut self) {
        self.close();
    }
}

/// The receiving end of a [`memory_stream`]; clone it for more receivers. It is also a
/// [`Stream`] that ends when the memory stream does.
pub struct MemoryReceiver<T> {
    /// `None` once closed.
    chan: Option<Arc<Chan<T>>>,
    listener: Option<EventListener>,
    /// Counted in `waiting_receivers`.
    waiting: bool,
}

impl<T> fmt::Debug for MemoryReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReceiver")
            .field("closed", &self.chan.is_none())
            .finish()
    }
}

impl<T> Clone for MemoryReceiver<T> {
    /// Another receiver of the same stream. A clone of a closed receiver is closed.
    fn clone(&self) -> Self {
        if let Some(chan) = &self.chan {
            chan.lock().receivers += 1;
        }
        MemoryReceiver {
            chan: self.chan.clone(),
            listener: None,
            waiting: false,
        }
    }
}

impl<T> MemoryReceiver<T> {
    /// Receives the next item, waiting for one.
    ///
    /// # Errors
    ///
    /// [`RecvError::EndOfStream`] once every sender is gone and the buffer is empty;
    /// [`RecvError::Closed`] if this receiver was closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: an item is only taken from the stream when this returns it.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        // Dropped while waiting, the receive no longer counts as a waiting receiver, so it
        // leaves no room for a rendezvous sender behind (AnyIO's cancelled receive).
        let receiving = StopWaitingOnDrop(self);
        std::future::poll_fn(|cx| receiving.0.poll_recv(cx)).await
    }

    /// Polls for the next item, registering the task to wake when one may be ready.
    ///
    /// A receiver that got `Pending` counts as waiting (a rendezvous sender may hand it an
    /// item, which stays in the stream) until it receives, is closed, or polls no more
    /// through a dropped [`recv`](Self::recv).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let Some(chan) = self.chan.clone() else {
            return Poll::Ready(Err(RecvError::Closed));
        };
        loop {
            {
                let mut state = chan.lock();
                if let Some(item) = state.queue.pop_front() {
                    self.stop_waiting(&mut state);
                    drop(state);
                    self.listener = None;
                    chan.send_ready.notify(1usize.additional());
                    return Poll::Ready(Ok(item));
                }
                if state.senders == 0 {
                    self.stop_waiting(&mut state);
                    self.listener = None;
                    return Poll::Ready(Err(RecvError::EndOfStream));
                }
                if !self.waiting {
                    // A waiting receiver makes room for one more item: a rendezvous sender
                    // may go ahead now.
                    state.waiting_receivers += 1;
                    self.waiting = true;
                    chan.send_ready.notify(1usize.additional());
                }
                if self.listener.is_none() {
                    // Registered under the lock: an item sent after this wakes it.
                    self.listener = Some(chan.recv_ready.listen());
                }
            }
            let Some(listener) = self.listener.as_mut() else {
                unreachable!("just set")
            };
            match Pin::new(listener).poll(cx) {
                Poll::Ready(()) => self.listener = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Receives an item if one is there now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::WouldBlock`] when nothing is there yet, and as [`recv`](Self::recv)
    /// otherwise.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(chan) = self.chan.clone() else {
            return Err(TryRecvError::Closed);
        };
        let mut state = chan.lock();
        if let Some(item) = state.queue.pop_front() {
            drop(state);
            chan.send_ready.notify(1usize.additional());
            return Ok(item);
        }
        if state.senders == 0 {
            Err(TryRecvError::EndOfStream)
        } else {
            Err(TryRecvError::WouldBlock)
        }
    }

    fn stop_waiting(&mut self, state: &mut State<T>) {
        if std::mem::take(&mut self.waiting) {
            state.waiting_receivers -= 1;
        }
    }

    /// Stops counting as a waiting receiver, once a receive is given up.
    fn give_up_waiting(&mut self) {
        if !self.waiting {
            return;
        }
        self.listener = None;
        if let Some(chan) = self.chan.clone() {
            self.stop_waiting(&mut chan.lock());
        }
    }

    /// Closes this receiver (not its clones). Dropping it does the same. Items still in the
    /// buffer stay there for the other receivers, or are dropped with the stream.
    pub fn close(&mut self) {
        self.listener = None;
        if let Some(chan) = self.chan.take() {
            let last = {
                let mut state = chan.lock();
                self.stop_waiting(&mut state);
                state.receivers -= 1;
                state.receivers == 0
            };
            // Senders waiting for this receiver, or for any receiver at all, look again.
            let wake = if last { usize::MAX } else { 1 };
            chan.send_ready.notify(wake.additional());
        }
    }

    /// Whether this receiver was closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_none()
    }

    /// The stream's statistics, or `None` if this receiver was closed.
    pub fn statistics(&self) -> Option<StreamStatistics> {
        self.chan.as_deref().map(statistics)
    }
}

/// Gives a receive up when the `recv` future is dropped.
struct StopWaitingOnDrop<'a, T>(&'a mut MemoryReceiver<T>);

impl<T> Drop for StopWaitingOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.give_up_waiting();
    }
}

impl<T> Drop for MemoryReceiver<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> Stream for MemoryReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // A closed receiver ends like an ended stream.
        self.get_mut().poll_recv(cx).map(Result::ok)
    }
}
