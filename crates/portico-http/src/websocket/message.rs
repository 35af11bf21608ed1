//! What travels over a WebSocket, and how it ends: [`Message`], [`WebSocketDisconnect`],
//! [`WebSocketError`] and the close codes.

use std::fmt;

use async_tungstenite::tungstenite;
use bytes::Bytes;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

use crate::response::{IntoResponse, Response};

/// Close codes of RFC 6455 (section 7.4.1), named as Starlette's `status.WS_*` constants are.
pub mod close_code {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL_CLOSURE: u16 = 1000;
    /// 1001: the endpoint is going away (the server shuts down, the page is left).
    pub const GOING_AWAY: u16 = 1001;
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// 1003: a message of a kind the endpoint does not accept (bytes where text was expected).
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// 1005: the close frame had no code (never sent; reported when it is missing).
    pub const NO_STATUS_RECEIVED: u16 = 1005;
    /// 1006: the connection dropped without a close frame (never sent; reported).
    pub const ABNORMAL_CLOSURE: u16 = 1006;
    /// 1007: a message whose content is invalid (text that is not UTF-8, JSON that does not
    /// parse).
    pub const INVALID_FRAME_PAYLOAD_DATA: u16 = 1007;
    /// 1008: a message or a request that breaks the endpoint's policy; FastAPI closes with it
    /// when a parameter fails validation.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// 1009: a message larger than the endpoint accepts.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// 1011: the server met an error it did not expect (the handler failed or panicked).
    pub const INTERNAL_ERROR: u16 = 1011;
    /// 1012: the server restarts.
    pub const SERVICE_RESTART: u16 = 1012;
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// A WebSocket message: text, bytes, or a ping or pong (control frames, up to 125 bytes).
///
/// Pings are answered with a pong automatically; they are still reported, for a peer that
/// wants to see them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// A text message (UTF-8).
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// A ping, with its payload.
    Ping(Bytes),
    /// A pong, with its payload.
    Pong(Bytes),
}

impl Message {
    /// The kind of message, for error messages: `text`, `bytes`, `ping` or `pong`.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Text(_) => "text",
            Message::Binary(_) => "bytes",
            Message::Ping(_) => "ping",
            Message::Pong(_) => "pong",
        }
    }

    pub(crate) fn into_tungstenite(self) -> tungstenite::Message {
        match self {
            Message::Text(text) => tungstenite::Message::text(text),
            Message::Binary(bytes) => tungstenite::Message::Binary(bytes),
            Message::Ping(bytes) => tungstenite::Message::Ping(bytes),
            Message::Pong(bytes) => tungstenite::Message::Pong(bytes),
        }
    }

    /// The message, unless it is a close frame (or a raw frame, which reading never gives).
    pub(crate) fn from_tungstenite(message: tungstenite::Message) -> Option<Self> {
        match message {
            tungstenite::Message::Text(text) => Some(Message::Text(text.as_str().to_owned())),
            tungstenite::Message::Binary(bytes) => Some(Message::Binary(bytes)),
            tungstenite::Message::Ping(bytes) => Some(Message::Ping(bytes)),
            tungstenite::Message::Pong(bytes) => Some(Message::Pong(bytes)),
            tungstenite::Message::Close(_) | tungstenite::Message::Frame(_) => None,
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Message::Binary(bytes)
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(bytes.into())
    }
}

/// The WebSocket closed: by the peer (with the code and reason of its close frame), by this
/// side, or because the connection dropped (code 1006). Starlette's `WebSocketDisconnect`.
///
/// # Examples
///
/// ```
/// use portico_http::websocket::{WebSocket, close_code};
///
/// async fn echo(ws: WebSocket) {
///     if ws.accept().await.is_err() {
///         return;
///     }
///     loop {
///         match ws.receive_text().await {
///             Ok(text) => {
///                 if ws.send_text(&text).await.is_err() {
///                     return;
///                 }
///             }
///             Err(err) => {
///                 if let Some(gone) = err.disconnect() {
///                     assert!(gone.code >= close_code::NORMAL_CLOSURE);
///                 }
///                 return;
///             }
///         }
///     }
/// }
/// # let _ = portico_http::App::new().websocket("/echo", echo);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketDisconnect {
    /// The close code (see [`close_code`]).
    pub code: u16,
    /// The reason given with it (empty when none was).
    pub reason: String,
}

impl WebSocketDisconnect {
    /// A disconnect with `code` and `reason`.
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        WebSocketDisconnect {
            code,
            reason: reason.into(),
        }
    }

    /// The connection dropped without a close frame.
    pub(crate) fn abnormal() -> Self {
        WebSocketDisconnect::new(close_code::ABNORMAL_CLOSURE, "")
    }

    /// From a close frame received (none: 1005, as RFC 6455 reports it).
    pub(crate) fn from_frame(frame: Option<&CloseFrame>) -> Self {
        match frame {
            Some(frame) => WebSocketDisconnect::new(u16::from(frame.code), frame.reason.as_str()),
            None => WebSocketDisconnect::new(close_code::NO_STATUS_RECEIVED, ""),
        }
    }

    /// The close frame to send.
    pub(crate) fn to_frame(&self) -> CloseFrame {
        CloseFrame {
            code: CloseCode::from(self.code),
            reason: truncate_reason(&self.reason).into(),
        }
    }
}

impl fmt::Display for WebSocketDisconnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "the WebSocket closed with code {}", self.code)
        } else {
            write!(
                f,
                "the WebSocket closed with code {}: {}",
                self.code, self.reason
            )
        }
    }
}

impl std::error::Error for WebSocketDisconnect {}

/// The longest close reason a close frame carries, in bytes (125 minus the code's two).
pub(crate) const MAX_REASON: usize = 123;

/// `reason`, cut at a character boundary to fit in a close frame.
pub(crate) fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= MAX_REASON {
        return reason;
    }
    let mut end = MAX_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// What can go wrong on a WebSocket.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebSocketError {
    /// The WebSocket is closed (see [`WebSocketDisconnect`]).
    Disconnected(WebSocketDisconnect),
    /// A message of another kind than the one asked for (bytes from `receive_text`, say).
    UnexpectedMessage {
        /// What was asked for: `text` or `bytes`.
        expected: &'static str,
        /// What came.
        got: Message,
    },
    /// A message that is not the JSON expected.
    Json(serde_json::Error),
    /// The WebSocket was used out of turn: sent to before it was accepted, or accepted twice.
    State(&'static str),
}

impl WebSocketError {
    /// The disconnect, if the WebSocket closed.
    pub fn disconnect(&self) -> Option<&WebSocketDisconnect> {
        match self {
            WebSocketError::Disconnected(disconnect) => Some(disconnect),
            _ => None,
        }
    }

    /// Whether the WebSocket closed.
    pub fn is_disconnect(&self) -> bool {
        self.disconnect().is_some()
    }

    /// The close code a handler that returns this error closes the WebSocket with (if it is
    /// still open).
    fn close_code(&self) -> u16 {
        match self {
            WebSocketError::Disconnected(disconnect) => disconnect.code,
            WebSocketError::UnexpectedMessage { .. } => close_code::UNSUPPORTED_DATA,
            WebSocketError::Json(_) => close_code::INVALID_FRAME_PAYLOAD_DATA,
            WebSocketError::State(_) => close_code::INTERNAL_ERROR,
        }
    }
}

impl fmt::Display for WebSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebSocketError::Disconnected(disconnect) => disconnect.fmt(f),
            WebSocketError::UnexpectedMessage { expected, got } => {
                write!(f, "expected a {expected} message, got {}", got.kind())
            }
            WebSocketError::Json(err) => write!(f, "the message is not the JSON expected: {err}"),
            WebSocketError::State(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for WebSocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebSocketError::Json(err) => Some(err),
            _ => None,
        }
    }
}

impl From<WebSocketDisconnect> for WebSocketError {
    fn from(disconnect: WebSocketDisconnect) -> Self {
        WebSocketError::Disconnected(disconnect)
    }
}

/// How a handler's error closes its WebSocket, carried by its response.
#[derive(Debug, Clone)]
pub(crate) struct CloseWith(pub(crate) WebSocketDisconnect);

impl IntoResponse for WebSocketError {
    /// For a handler that returns `Err(WebSocketError)` (with `?`): a closed WebSocket ends the
    /// handler normally; another error closes the WebSocket with its code (1003 for a message
    /// of the wrong kind, 1007 for bad JSON, 1011 otherwise), or answers 500 before it was
    /// accepted.
    fn into_response(self) -> Response {
        if let WebSocketError::Disconnected(_) = self {
            return ().into_response();
        }
        let reason = self.to_string();
        tracing::debug!("the WebSocket handler failed: {reason}");
        let mut response = crate::response::internal_error();
        response
            .extensions_mut()
            .insert(CloseWith(WebSocketDisconnect::new(
                self.close_code(),
                truncate_reason(&reason),
            )));
        response
    }
}

impl IntoResponse for WebSocketDisconnect {
    /// A handler that returns `Err(WebSocketDisconnect)` ended because its WebSocket closed:
    /// nothing more to do.
    fn into_response(self) -> Response {
        ().into_response()
    }
}
