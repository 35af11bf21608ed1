//! WebSockets in the blocking test client: each call blocks until the async session's call
//! has run on the runtime behind the portal.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{COOKIE, HeaderMap, HeaderValue};
use portico_tasks::{BlockingPortal, Lock};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::websocket::{WebSocketConnectError, WebSocketTestRequest, WebSocketTestSession};
use super::{BlockingTestClient, header_pair};
use crate::websocket::{Message, WebSocketError};

/// Runs `fut` through the portal, blocking until it is done.
#[track_caller]
fn block<T: Send + 'static>(
    portal: &BlockingPortal,
    fut: impl Future<Output = T> + Send + 'static,
) -> T {
    match portal.call(fut) {
        Ok(value) => value,
        Err(err) => panic!("the test client's runtime is gone: {err}"),
    }
}

impl BlockingTestClient {
    /// Opens a WebSocket on `path` (see [`TestClient::websocket_connect`]); call
    /// [`connect`](BlockingWebSocketTestRequest::connect) on what it returns.
    ///
    /// [`TestClient::websocket_connect`]: crate::TestClient::websocket_connect
    pub fn websocket_connect(&self, path: impl AsRef<str>) -> BlockingWebSocketTestRequest {
        BlockingWebSocketTestRequest {
            inner: self.client.websocket_connect(path),
            portal: self.portal.clone(),
        }
    }
}

/// A WebSocket about to be opened by a [`BlockingTestClient`]; [`connect`](Self::connect) it.
pub struct BlockingWebSocketTestRequest {
    inner: WebSocketTestRequest,
    portal: Arc<BlockingPortal>,
}

impl fmt::Debug for BlockingWebSocketTestRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl BlockingWebSocketTestRequest {
    websocket_builders!(inner);

    /// Opens the WebSocket.
    ///
    /// # Errors
    ///
    /// As [`WebSocketTestRequest::connect`].
    ///
    /// # Panics
    ///
    /// As [`WebSocketTestRequest::connect`]; also if the portal has stopped, or if called from
    /// async code.
    pub fn connect(self) -> Result<BlockingWebSocketTestSession, WebSocketConnectError> {
        let session = block(&self.portal, self.inner.connect())?;
        Ok(BlockingWebSocketTestSession {
            protocol: session.subprotocol().map(str::to_owned),
            headers: session.headers().clone(),
            session: Arc::new(Lock::new(session)),
            portal: self.portal,
        })
    }
}

/// An open WebSocket of the [`BlockingTestClient`]: as [`WebSocketTestSession`], each call
/// blocking until it is done.
pub struct BlockingWebSocketTestSession {
    session: Arc<Lock<WebSocketTestSession>>,
    portal: Arc<BlockingPortal>,
    protocol: Option<String>,
    headers: HeaderMap,
}

impl fmt::Debug for BlockingWebSocketTestSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingWebSocketTestSession")
            .field("subprotocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

/// A blocking method calling the async session's method of the same name.
macro_rules! blocking {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        $(#[$doc])*
        ///
        /// # Errors
        ///
        #[doc = concat!("As [`WebSocketTestSession::", stringify!($name), "`].")]
        ///
        /// # Panics
        ///
        /// If the portal has stopped, or if called from async code.
        pub fn $name(&self, $($arg: $ty),*) -> Result<$ret, WebSocketError> {
            let session = self.session.clone();
            block(&self.portal, async move { session.lock().await.$name($($arg),*).await })
        }
    };
}

impl BlockingWebSocketTestSession {
    /// The subprotocol the handler accepted with, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The headers of the `101 Switching Protocols` answer.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Sends a message (a `String`, `&str`, `Bytes`, `Vec<u8>` or [`Message`]).
    ///
    /// # Errors
    ///
    /// As [`WebSocketTestSession::send`].
    ///
    /// # Panics
    ///
    /// If the portal has stopped, or if called from async code.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), WebSocketError> {
        let (session, message) = (self.session.clone(), message.into());
        block(&self.portal, async move {
            session.lock().await.send(message).await
        })
    }

    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// As [`WebSocketTestSession::send`].
    ///
    /// # Panics
    ///
    /// If the portal has stopped, or if called from async code.
    pub fn send_text(&self, text: impl Into<String>) -> Result<(), WebSocketError> {
        self.send(Message::Text(text.into()))
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// As [`WebSocketTestSession::send`].
    ///
    /// # Panics
    ///
    /// If the portal has stopped, or if called from async code.
    pub fn send_bytes(&self, bytes: impl Into<Bytes>) -> Result<(), WebSocketError> {
        self.send(Message::Binary(bytes.into()))
    }

    blocking! {
        /// Receives the next message: text, bytes, or a ping or pong.
        receive() -> Message
    }

    blocking! {
        /// Receives the next text message, skipping pings and pongs.
        receive_text() -> String
    }

    blocking! {
        /// Receives the next binary message, skipping pings and pongs.
        receive_bytes() -> Bytes
    }

    /// Sends `value` as JSON in a text message.
    ///
    /// # Errors
    ///
    /// As [`WebSocketTestSession::send_json`].
    ///
    /// # Panics
    ///
    /// If the portal has stopped, or if called from async code.
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), WebSocketError> {
        let text = serde_json::to_string(value).map_err(WebSocketError::Json)?;
        self.send(Message::Text(text))
    }

    /// Receives the next message as JSON of type `T`.
    ///
    /// # Errors
    ///
    /// As [`WebSocketTestSession::receive_json`].
    ///
    /// # Panics
    ///
    /// If the portal has stopped, or if called from async code.
    pub fn receive_json<T: DeserializeOwned + Send + 'static>(&self) -> Result<T, WebSocketError> {
        let session = self.session.clone();
        block(&self.portal, async move {
            session.lock().await.receive_json::<T>().await
        })
    }

    /// Closes the WebSocket and waits for the handler's side to answer (see
    /// [`WebSocketTestSession::close`]).
    ///
    /// # Errors
    ///
    /// As [`WebSocketTestSession::close`].
    ///
    /// # Panics
    ///
    /// If the portal has stopped, or if called from async code.
    pub fn close(&self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        let (session, reason) = (self.session.clone(), reason.to_owned());
        block(&self.portal, async move {
            session.lock().await.close(code, &reason).await
        })
    }
}
