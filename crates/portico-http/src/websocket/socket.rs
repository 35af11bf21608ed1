//! [`WebSocket`], the parameter of a WebSocket route, and its two halves.

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::core::Core;
use super::message::{Message, WebSocketError};
use crate::extract::{FromRequestParts, Rejection, RequestContext};

/// Where a WebSocket route leaves the WebSocket for its handler to take.
#[derive(Clone)]
pub(crate) struct Slot(pub(crate) Arc<Core>);

/// The methods that send, shared by [`WebSocket`] and [`WebSocketSender`].
macro_rules! sending {
    () => {
        /// Sends a message (a `String`, `&str`, `Bytes`, `Vec<u8>` or [`Message`]).
        ///
        /// # Errors
        ///
        /// [`WebSocketError::Disconnected`] once the WebSocket closed, or if the connection
        /// drops; [`WebSocketError::State`] before [`accept`](WebSocket::accept).
        pub async fn send(&self, message: impl Into<Message>) -> Result<(), WebSocketError> {
            self.core.send(message.into()).await
        }

        /// Sends a text message.
        ///
        /// # Errors
        ///
        /// As [`send`](Self::send).
        pub async fn send_text(&self, text: impl Into<String>) -> Result<(), WebSocketError> {
            self.core.send(Message::Text(text.into())).await
        }

        /// Sends a binary message.
        ///
        /// # Errors
        ///
        /// As [`send`](Self::send).
        pub async fn send_bytes(&self, bytes: impl Into<Bytes>) -> Result<(), WebSocketError> {
            self.core.send(Message::Binary(bytes.into())).await
        }

        /// Sends `value` as JSON, in a text message (as Starlette's `send_json` does).
        ///
        /// # Errors
        ///
        /// [`WebSocketError::Json`] if `value` cannot be serialised; otherwise as
        /// [`send`](Self::send).
        pub async fn send_json<T: Serialize + ?Sized>(
            &self,
            value: &T,
        ) -> Result<(), WebSocketError> {
            let text = serde_json::to_string(value).map_err(WebSocketError::Json)?;
            self.core.send(Message::Text(text)).await
        }

        /// Sends a ping (its payload at most 125 bytes); the peer answers with a pong, which
        /// [`receive`](WebSocket::receive) reports.
        ///
        /// # Errors
        ///
        /// As [`send`](Self::send).
        pub async fn ping(&self, payload: impl Into<Bytes>) -> Result<(), WebSocketError> {
            self.core.send(Message::Ping(payload.into())).await
        }

        /// Closes the WebSocket with `code` (see
        /// [`close_code`](crate::websocket::close_code)) and `reason` (cut to 123 bytes). It
        /// does not wait for the peer's answer; the connection ends once the handler has
        /// returned. Closing before accepting completes the handshake only to close at once, so
        /// that the client sees the code and reason. Nothing happens if the WebSocket closed
        /// already.
        ///
        /// # Errors
        ///
        /// [`WebSocketError::State`] for a code that cannot be sent (1005, 1006, or outside
        /// 1000-4999).
        pub async fn close(&self, code: u16, reason: &str) -> Result<(), WebSocketError> {
            self.core.close(code, reason).await
        }
    };
}

/// The methods that receive, shared by [`WebSocket`] and [`WebSocketReceiver`].
macro_rules! receiving {
    () => {
        /// Receives the next message: text, bytes, or a ping or pong (pings are answered
        /// automatically).
        ///
        /// # Errors
        ///
        /// [`WebSocketError::Disconnected`] when the peer closes (with its code and reason),
        /// the connection drops (1006), a message is larger than the limit (the WebSocket
        /// closes with 1009) or the server shuts down (1001); [`WebSocketError::State`]
        /// before [`accept`](WebSocket::accept).
        ///
        /// # Cancel safety
        ///
        /// Cancel-safe: a `receive` dropped before it resolves (in a `select` with a
        /// broadcast channel, say) loses no message.
        pub async fn receive(&self) -> Result<Message, WebSocketError> {
            self.core.receive().await
        }

        /// Receives the next text message, skipping pings and pongs.
        ///
        /// # Errors
        ///
        /// [`WebSocketError::UnexpectedMessage`] for a binary message; otherwise as
        /// [`receive`](Self::receive).
        pub async fn receive_text(&self) -> Result<String, WebSocketError> {
            loop {
                match self.core.receive().await? {
                    Message::Text(text) => return Ok(text),
                    Message::Ping(_) | Message::Pong(_) => {}
                    got => {
                        return Err(WebSocketError::UnexpectedMessage {
                            expected: "text",
                            got,
                        });
                    }
                }
            }
        }

        /// Receives the next binary message, skipping pings and pongs.
        ///
        /// # Errors
        ///
        /// [`WebSocketError::UnexpectedMessage`] for a text message; otherwise as
        /// [`receive`](Self::receive).
        pub async fn receive_bytes(&self) -> Result<Bytes, WebSocketError> {
            loop {
                match self.core.receive().await? {
                    Message::Binary(bytes) => return Ok(bytes),
                    Message::Ping(_) | Message::Pong(_) => {}
                    got => {
                        return Err(WebSocketError::UnexpectedMessage {
                            expected: "bytes",
                            got,
                        });
                    }
                }
            }
        }

        /// Receives the next message, text or binary, as JSON of type `T`.
        ///
        /// # Errors
        ///
        /// [`WebSocketError::Json`] if it is not valid JSON of that shape; otherwise as
        /// [`receive`](Self::receive).
        pub async fn receive_json<T: DeserializeOwned>(&self) -> Result<T, WebSocketError> {
            loop {
                let parsed = match self.core.receive().await? {
                    Message::Text(text) => serde_json::from_str(&text),
                    Message::Binary(bytes) => serde_json::from_slice(&bytes),
                    _ => continue,
                };
                return parsed.map_err(WebSocketError::Json);
            }
        }
    };
}

/// A WebSocket, the parameter of a route added with [`App::websocket`](crate::App::websocket):
/// accept it, then send and receive until either side closes. Starlette's `WebSocket`.
///
/// Every method takes `&self` and the handle is cheap to clone, so one task can receive while
/// another sends; [`split`](Self::split) gives halves that say which is which. See the
/// [module docs](crate::websocket) for an example.
#[derive(Debug, Clone)]
pub struct WebSocket {
    core: Arc<Core>,
}

impl WebSocket {
    /// Accepts the WebSocket: the client gets `101 Switching Protocols`. Resolves once the
    /// connection is ready to carry messages.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::State`] if it was accepted or closed already;
    /// [`WebSocketError::Disconnected`] if the client left during the handshake.
    pub async fn accept(&self) -> Result<(), WebSocketError> {
        self.core.accept(None).await
    }

    /// Accepts the WebSocket with `protocol`, one of the [`subprotocols`](Self::subprotocols)
    /// the client offered (sent back in `Sec-WebSocket-Protocol`).
    ///
    /// # Errors
    ///
    /// [`WebSocketError::State`] if the client did not offer it; otherwise as
    /// [`accept`](Self::accept).
    pub async fn accept_subprotocol(
        &self,
        protocol: impl Into<String>,
    ) -> Result<(), WebSocketError> {
        self.core.accept(Some(protocol.into())).await
    }

    /// The subprotocols the client offered (`Sec-WebSocket-Protocol`), in its order of
    /// preference.
    pub fn subprotocols(&self) -> &[String] {
        self.core.offered()
    }

    /// Whether the WebSocket closed (a close frame went either way, or the connection
    /// dropped).
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    sending!();
    receiving!();

    /// Splits the WebSocket into a half that sends and a half that receives, to hand to two
    /// tasks: one reading the client's messages while the other writes broadcasts, say.
    pub fn split(self) -> (WebSocketSender, WebSocketReceiver) {
        (
            WebSocketSender {
                core: self.core.clone(),
            },
            WebSocketReceiver { core: self.core },
        )
    }
}

/// The sending half of a [`WebSocket`] (see [`WebSocket::split`]); clones send on the same
/// WebSocket, one message after the other.
#[derive(Debug, Clone)]
pub struct WebSocketSender {
    core: Arc<Core>,
}

impl WebSocketSender {
    sending!();
}

/// The receiving half of a [`WebSocket`] (see [`WebSocket::split`]).
#[derive(Debug, Clone)]
pub struct WebSocketReceiver {
    core: Arc<Core>,
}

impl WebSocketReceiver {
    receiving!();

    /// Whether the WebSocket closed.
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }
}

impl FromRequestParts for WebSocket {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        match parts.extensions.get::<Slot>() {
            Some(slot) => Ok(WebSocket {
                core: slot.0.clone(),
            }),
            None => {
                tracing::error!(
                    "a handler or dependency takes a WebSocket on a route that is not a WebSocket route: add it with `websocket`"
                );
                Err(Rejection::Response(crate::response::internal_error()))
            }
        }
    }
}
