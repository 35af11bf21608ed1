//! [`Core`]: what every handle on one WebSocket shares: its handshake until it is decided,
//! then its stream, split into a sending and a receiving half so that one task can receive
//! while another sends, how it closed, and the keepalive that pings the peer.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use async_tungstenite::tungstenite::{self, error::ProtocolError};
use async_tungstenite::{WebSocketReceiver, WebSocketSender, WebSocketStream};
use futures_core::Stream;
use futures_lite::FutureExt;
use portico_tasks::{Event, Lock, MemorySender};

use super::io::{BoxIo, Upgrade};
use super::message::{Message, WebSocketDisconnect, WebSocketError, close_code};
use crate::response::Response;

/// How the handshake was decided, as the response future waiting for it learns.
pub(crate) enum Decision {
    /// Switch protocols, with this subprotocol.
    Accept { protocol: Option<String> },
    /// Switch protocols only to close at once (the handler closed before accepting).
    CloseBeforeAccept,
    /// Answer with this HTTP response instead (a dependency refused the request, say).
    Deny(Response),
}

/// The handshake, until it is decided.
struct Pending {
    decide: MemorySender<Decision>,
    upgrade: Upgrade,
}

/// The two halves of an open WebSocket.
struct Halves {
    sender: Lock<WebSocketSender<BoxIo>>,
    receiver: Lock<WebSocketReceiver<BoxIo>>,
}

/// What the stream gave: a frame, a failure, or its end (`None`).
type Read = Option<Result<tungstenite::Message, tungstenite::Error>>;

/// The receiving half, locked.
type LockGuard<'a, T> = portico_tasks::LockGuard<'a, T>;

/// The payload of the keepalive's pings; the peer's pongs with it are not reported.
const KEEPALIVE: &[u8] = b"portico keepalive";

/// The most frames the keepalive reads ahead for a handler that is not receiving; past it,
/// it reads no more, and a peer it cannot hear is given up (as the websockets library does
/// when its queue is full).
const MAX_READ_AHEAD: usize = 16;

/// How often the server pings an open WebSocket, and how long it waits to hear from the
/// peer after a ping before closing with 1011.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keepalive {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

/// How the WebSocket closed, as far as it has.
#[derive(Default)]
struct Closed {
    /// The close frame this side sent.
    by_us: Option<WebSocketDisconnect>,
    /// The peer's close frame, or how the connection failed.
    by_peer: Option<WebSocketDisconnect>,
}

/// The shared state of one WebSocket.
pub(crate) struct Core {
    pending: Mutex<Option<Pending>>,
    open: OnceLock<Halves>,
    /// Set once the handshake is over, whether the stream opened or not.
    settled: Event,
    closed: Mutex<Closed>,
    /// The subprotocols the client offered, in its order of preference.
    offered: Vec<String>,
    max_message_size: usize,
    /// How long this side waits for the peer's answer to a close frame.
    close_timeout: Duration,
    keepalive: Option<Keepalive>,
    /// Messages the keepalive read while nobody was receiving, for the next `receive`.
    read_ahead: Mutex<VecDeque<tungstenite::Message>>,
    /// How many frames were read so far: the keepalive's sign of life from the peer.
    heard: AtomicU64,
    /// Set when the keepalive gave up on the peer: sends and receives end at once.
    given_up: Event,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("open", &self.open.get().is_some())
            .field("offered", &self.offered)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Core {
    pub(crate) fn new(
        decide: MemorySender<Decision>,
        upgrade: Upgrade,
        offered: Vec<String>,
        max_message_size: usize,
        close_timeout: Duration,
        keepalive: Option<Keepalive>,
    ) -> Self {
        Core {
            pending: Mutex::new(Some(Pending { decide, upgrade })),
            open: OnceLock::new(),
            settled: Event::new(),
            closed: Mutex::new(Closed::default()),
            offered,
            max_message_size,
            close_timeout,
            keepalive,
            read_ahead: Mutex::new(VecDeque::new()),
            heard: AtomicU64::new(0),
            given_up: Event::new(),
        }
    }

    pub(crate) fn offered(&self) -> &[String] {
        &self.offered
    }

    /// Whether the handshake is still to be decided.
    pub(crate) fn is_pending(&self) -> bool {
        lock(&self.pending).is_some()
    }

    /// Whether the stream opened (the client got `101 Switching Protocols`).
    pub(crate) fn is_open(&self) -> bool {
        self.open.get().is_some()
    }

    /// Whether a close frame went either way, or the connection failed.
    pub(crate) fn is_closed(&self) -> bool {
        let closed = lock(&self.closed);
        closed.by_us.is_some() || closed.by_peer.is_some()
    }

    /// Whether this side sent a close frame.
    pub(crate) fn closed_by_us(&self) -> bool {
        lock(&self.closed).by_us.is_some()
    }

    /// How the WebSocket closed: this side's close frame first, else the peer's, else 1006.
    pub(crate) fn disconnect(&self) -> WebSocketDisconnect {
        let closed = lock(&self.closed);
        closed
            .by_us
            .clone()
            .or_else(|| closed.by_peer.clone())
            .unwrap_or_else(WebSocketDisconnect::abnormal)
    }

    fn record_peer(&self, disconnect: WebSocketDisconnect) {
        lock(&self.closed).by_peer.get_or_insert(disconnect);
    }

    /// Decides the handshake, if nobody has yet; the upgrade, to open the stream with.
    fn decide(&self, decision: Decision) -> Result<Upgrade, WebSocketError> {
        let pending = lock(&self.pending).take().ok_or(WebSocketError::State(
            "the WebSocket was accepted or closed already",
        ))?;
        // The response future may be gone (the client left): the stream will not open then.
        let _ = pending.decide.try_send(decision);
        Ok(pending.upgrade)
    }

    /// Answers the handshake with `response` instead of switching protocols. `false` if it
    /// was decided already.
    pub(crate) fn deny(&self, response: Response) -> bool {
        let decided = self.decide(Decision::Deny(response)).is_ok();
        self.settled.set();
        decided
    }

    /// Accepts the WebSocket (with `protocol`, one of those the client offered) and waits
    /// for the stream.
    pub(crate) async fn accept(&self, protocol: Option<String>) -> Result<(), WebSocketError> {
        if let Some(protocol) = &protocol
            && !self.offered.contains(protocol)
        {
            return Err(WebSocketError::State(
                "the client did not offer this subprotocol",
            ));
        }
        let upgrade = self.decide(Decision::Accept { protocol })?;
        self.open_stream(upgrade).await
    }

    async fn open_stream(&self, upgrade: Upgrade) -> Result<(), WebSocketError> {
        let opened = match upgrade.into_stream().await {
            Ok(io) => {
                let config = WebSocketConfig::default()
                    .max_message_size(Some(self.max_message_size))
                    .max_frame_size(Some(self.max_message_size));
                let stream = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
                let (sender, receiver) = stream.split();
                let _ = self.open.set(Halves {
                    sender: Lock::new(sender),
                    receiver: Lock::new(receiver),
                });
                Ok(())
            }
            Err(err) => {
                tracing::debug!("the WebSocket's connection was not handed over: {err}");
                self.record_peer(WebSocketDisconnect::abnormal());
                Err(WebSocketError::Disconnected(WebSocketDisconnect::abnormal()))
            }
        };
        self.settled.set();
        opened
    }

    /// The open stream; waits for an accept in progress.
    async fn halves(&self) -> Result<&Halves, WebSocketError> {
        if let Some(halves) = self.open.get() {
            return Ok(halves);
        }
        if self.is_pending() {
            return Err(WebSocketError::State(
                "the WebSocket is not accepted yet: call `accept` first",
            ));
        }
        self.settled.wait().await;
        self.open
            .get()
            .ok_or_else(|| WebSocketError::Disconnected(self.disconnect()))
    }

    /// Sends a message.
    pub(crate) async fn send(&self, message: Message) -> Result<(), WebSocketError> {
        let halves = self.halves().await?;
        if self.is_closed() {
            return Err(WebSocketError::Disconnected(self.disconnect()));
        }
        let sent = async {
            let mut sender = halves.sender.lock().await;
            Some(sender.send(message.into_tungstenite()).await)
        };
        let gave_up = async {
            self.given_up.wait().await;
            None
        };
        match sent.or(gave_up).await {
            None => Err(WebSocketError::Disconnected(self.disconnect())),
            Some(Ok(())) => Ok(()),
            Some(Err(err)) => {
                tracing::debug!("a WebSocket message could not be sent: {err}");
                self.record_peer(WebSocketDisconnect::abnormal());
                Err(WebSocketError::Disconnected(self.disconnect()))
            }
        }
    }

    /// Receives the next message. Once the WebSocket closed, every call gives the disconnect.
    pub(crate) async fn receive(&self) -> Result<Message, WebSocketError> {
        let halves = self.halves().await?;
        let mut receiver = halves.receiver.lock().await;
        loop {
            // What was read ahead came before anything that ended the WebSocket.
            let read_ahead = lock(&self.read_ahead).pop_front();
            let next = match read_ahead {
                Some(message) => Some(Ok(message)),
                None => {
                    if lock(&self.closed).by_peer.is_some() || self.given_up.is_set() {
                        return Err(WebSocketError::Disconnected(self.disconnect()));
                    }
                    let read = async { Some(self.read(&mut receiver).await) };
                    let gave_up = async {
                        self.given_up.wait().await;
                        None
                    };
                    match read.or(gave_up).await {
                        Some(next) => next,
                        None => return Err(WebSocketError::Disconnected(self.disconnect())),
                    }
                }
            };
            match next {
                Some(Ok(message)) if !message.is_close() => {
                    if self.closed_by_us() || is_keepalive_pong(&message) {
                        // Past this side's close frame, only the peer's answer matters; the
                        // keepalive's pongs are the server's own business.
                        continue;
                    }
                    if let Some(message) = Message::from_tungstenite(message) {
                        return Ok(message);
                    }
                }
                end => {
                    return Err(WebSocketError::Disconnected(
                        self.ended(end, receiver).await,
                    ));
                }
            }
        }
    }

    /// Takes in what ended the stream: the peer's close frame (answered), a failure (closed
    /// with the code that says why) or the end of the connection; how the WebSocket ended.
    async fn ended(
        &self,
        end: Read,
        mut receiver: LockGuard<'_, WebSocketReceiver<BoxIo>>,
    ) -> WebSocketDisconnect {
        match end {
            Some(Ok(tungstenite::Message::Close(frame))) => {
                self.record_peer(WebSocketDisconnect::from_frame(frame.as_ref()));
                // One more read sends the answer to the peer's close frame (or, when this
                // side closed first, sees the end of the stream).
                let flush = poll_fn(|cx| Pin::new(&mut *receiver).poll_next(cx));
                if let Ok(rt) = portico_rt::current() {
                    let _ = rt.timeout(self.close_timeout, flush).await;
                }
                self.disconnect()
            }
            Some(Err(err)) => {
                drop(receiver);
                self.failed(err).await
            }
            Some(Ok(_)) | None => {
                self.record_peer(WebSocketDisconnect::abnormal());
                self.disconnect()
            }
        }
    }

    /// Reads the next frame off the stream, counting it as a sign of life.
    async fn read(&self, receiver: &mut WebSocketReceiver<BoxIo>) -> Read {
        let next = poll_fn(|cx| Pin::new(&mut *receiver).poll_next(cx)).await;
        self.heard.fetch_add(1, Ordering::Relaxed);
        next
    }

    /// Pings the peer every interval once the WebSocket is open, and gives it up when
    /// nothing comes back within the timeout after a ping (uvicorn's `ws_ping_interval` and
    /// `ws_ping_timeout`). Any frame counts as an answer, so a peer busy sending is not taken
    /// for gone. When the handler is not receiving, the keepalive reads for it and keeps
    /// what it read for its next `receive`; if what it reads ends the WebSocket (a close
    /// frame, a failure, the end of the connection), it takes that in as `receive` would.
    ///
    /// Returns `true` once the peer is gone that way or given up, `false` when the WebSocket
    /// closed otherwise (or has no keepalive).
    async fn keep_alive(&self) -> bool {
        let (Some(keepalive), Ok(rt)) = (self.keepalive, portico_rt::current()) else {
            return false;
        };
        self.settled.wait().await;
        let Some(halves) = self.open.get() else {
            return false;
        };
        loop {
            rt.sleep(keepalive.interval).await;
            if self.is_closed() {
                return false;
            }
            let before = self.heard.load(Ordering::Relaxed);
            // As uvicorn's, the ping waits for a send in progress; the timeout starts after.
            let ping = tungstenite::Message::Ping(KEEPALIVE.into());
            if let Err(err) = halves.sender.lock().await.send(ping).await {
                if self.is_closed() {
                    return false;
                }
                tracing::debug!("a keepalive ping could not be sent: {err}");
                self.record_peer(WebSocketDisconnect::abnormal());
                return true;
            }
            let started = rt.now();
            loop {
                if self.heard.load(Ordering::Relaxed) != before {
                    break;
                }
                if self.is_closed() {
                    return false;
                }
                let left = keepalive.timeout.saturating_sub(rt.now() - started);
                if left.is_zero() {
                    self.give_up(halves, keepalive.timeout).await;
                    return true;
                }
                let room = lock(&self.read_ahead).len() < MAX_READ_AHEAD;
                match halves.receiver.try_lock().filter(|_| room) {
                    // Nobody is receiving: read for the handler, until a frame comes.
                    Some(mut receiver) => {
                        let Ok(next) = rt.timeout(left, self.read(&mut receiver)).await else {
                            continue;
                        };
                        match next {
                            Some(Ok(message)) if !message.is_close() => {
                                if !is_keepalive_pong(&message) {
                                    lock(&self.read_ahead).push_back(message);
                                }
                            }
                            end => {
                                let disconnect = self.ended(end, receiver).await;
                                tracing::debug!(
                                    code = disconnect.code,
                                    "the WebSocket ended while its handler was not receiving"
                                );
                                return true;
                            }
                        }
                    }
                    // A `receive` is reading (and counting what comes); look again shortly.
                    None => rt.sleep(left.min(Duration::from_millis(50))).await,
                }
            }
        }
    }

    /// Runs the keepalive; resolves only once the peer is gone (given up, or ended while the
    /// handler was not receiving) and the handler has had the close timeout to end on its
    /// own: its sends and receives report the disconnect by then.
    pub(crate) async fn peer_gone(&self) {
        if self.keep_alive().await
            && let Ok(rt) = portico_rt::current()
        {
            rt.sleep(self.close_timeout).await;
            return;
        }
        std::future::pending::<()>().await;
    }

    /// The peer did not answer a ping in time: closes with 1011, as uvicorn does, and ends
    /// every send and receive in progress with that disconnect.
    async fn give_up(&self, halves: &Halves, timeout: Duration) {
        tracing::debug!("no answer to a ping within {timeout:?}: closing the WebSocket");
        let disconnect =
            WebSocketDisconnect::new(close_code::INTERNAL_ERROR, "keepalive ping timeout");
        let frame = disconnect.to_frame();
        let first = {
            let mut closed = lock(&self.closed);
            let first = closed.by_us.is_none() && closed.by_peer.is_none();
            if first {
                closed.by_us = Some(disconnect);
            }
            first
        };
        self.given_up.set();
        if first && let Ok(rt) = portico_rt::current() {
            // A peer that is gone may not take even this; the connection ends either way.
            let close = async { halves.sender.lock().await.close(Some(frame)).await };
            let _ = rt.timeout(self.close_timeout, close).await;
        }
    }

    /// The stream failed while reading: closes with the code that says why, when the peer is
    /// still there to hear it.
    async fn failed(&self, err: tungstenite::Error) -> WebSocketDisconnect {
        let (code, reason) = match &err {
            tungstenite::Error::Capacity(_) => (close_code::MESSAGE_TOO_BIG, "Message too big"),
            tungstenite::Error::Utf8(_) => (
                close_code::INVALID_FRAME_PAYLOAD_DATA,
                "Text that is not UTF-8",
            ),
            tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                self.record_peer(WebSocketDisconnect::abnormal());
                return self.disconnect();
            }
            tungstenite::Error::Protocol(_) => (close_code::PROTOCOL_ERROR, "Protocol error"),
            _ => {
                tracing::debug!("the WebSocket's connection failed: {err}");
                self.record_peer(WebSocketDisconnect::abnormal());
                return self.disconnect();
            }
        };
        tracing::debug!("closing the WebSocket with {code}: {err}");
        let _ = self.close(code, reason).await;
        self.disconnect()
    }

    /// Sends a close frame (accepting first, to close at once, if the handshake is still
    /// pending); does not wait for the peer's answer. Nothing to do if the WebSocket closed.
    pub(crate) async fn close(&self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        if !CloseCode::from(code).is_allowed() {
            return Err(WebSocketError::State(
                "this close code cannot be sent (1004, 1005, 1006 and 1015 are reserved; custom codes are 3000 to 4999)",
            ));
        }
        if self.is_pending()
            && let Ok(upgrade) = self.decide(Decision::CloseBeforeAccept)
        {
            // FastAPI closes before accepting (1008 for an invalid parameter); the client
            // still gets the close frame with its code and reason.
            let _ = self.open_stream(upgrade).await;
        }
        let halves = match self.halves().await {
            Ok(halves) => halves,
            Err(WebSocketError::Disconnected(_)) => return Ok(()),
            Err(err) => return Err(err),
        };
        let disconnect = WebSocketDisconnect::new(code, reason);
        let frame = disconnect.to_frame();
        {
            let mut closed = lock(&self.closed);
            if closed.by_us.is_some() || closed.by_peer.is_some() {
                return Ok(());
            }
            closed.by_us = Some(WebSocketDisconnect::new(code, frame.reason.as_str()));
        }
        let send = async { halves.sender.lock().await.close(Some(frame)).await };
        // A peer that stopped reading may never take the frame: the close timeout bounds it.
        let sent = match portico_rt::current() {
            Ok(rt) => rt.timeout(self.close_timeout, send).await.ok(),
            Err(_) => Some(send.await),
        };
        match sent {
            Some(Ok(())) => {}
            Some(Err(err)) => {
                tracing::debug!("the WebSocket's close frame could not be sent: {err}")
            }
            None => tracing::debug!("the peer did not take the close frame in time"),
        }
        Ok(())
    }

    /// After this side's close frame, reads until the peer answers it (or the close timeout
    /// runs out), so that the connection ends cleanly.
    pub(crate) async fn await_close_answer(&self) {
        if !self.is_open() || lock(&self.closed).by_peer.is_some() || self.given_up.is_set() {
            return;
        }
        let Ok(rt) = portico_rt::current() else {
            return;
        };
        let _ = rt
            .timeout(self.close_timeout, async {
                while self.receive().await.is_ok() {}
            })
            .await;
    }
}

/// Whether `message` is the peer's answer to a keepalive ping.
fn is_keepalive_pong(message: &tungstenite::Message) -> bool {
    matches!(message, tungstenite::Message::Pong(payload) if payload.as_ref() == KEEPALIVE)
}
