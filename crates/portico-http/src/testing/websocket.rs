//! WebSockets in the test client: opened in-process, with no socket, over an in-memory pipe
//! that carries the real protocol (Starlette's `websocket_connect`).

use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::pin::Pin;
use std::time::Duration;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite;
use async_tungstenite::tungstenite::handshake::client::generate_key;
use async_tungstenite::tungstenite::handshake::derive_accept_key;
use async_tungstenite::tungstenite::protocol::Role;
use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use http::header::{
    CONNECTION, COOKIE, HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::request::{Payload, build};
use super::{TestClient, TestResponse, header_pair};
use crate::websocket::{
    ClosedBeforeAccept, Duplex, MemoryUpgrade, Message, WebSocketDisconnect, WebSocketError, duplex,
};

/// How long the test client waits for the server to answer its close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why [`websocket_connect`](TestClient::websocket_connect) did not open a WebSocket.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebSocketConnectError {
    /// The application answered with an HTTP response instead of switching protocols: a
    /// dependency refused (401, say), the handler returned before accepting (403), or the
    /// path is not a WebSocket route.
    Rejected(Box<TestResponse>),
    /// The handler closed the WebSocket before accepting it; an invalid parameter does so
    /// with 1008 and the validation errors as the reason, as in FastAPI.
    Closed(WebSocketDisconnect),
}

impl WebSocketConnectError {
    /// The close, if the handler closed the WebSocket before accepting it.
    pub fn disconnect(&self) -> Option<&WebSocketDisconnect> {
        match self {
            WebSocketConnectError::Closed(disconnect) => Some(disconnect),
            WebSocketConnectError::Rejected(_) => None,
        }
    }

    /// The HTTP response, if the application answered with one.
    pub fn response(&self) -> Option<&TestResponse> {
        match self {
            WebSocketConnectError::Rejected(response) => Some(response),
            WebSocketConnectError::Closed(_) => None,
        }
    }
}

impl fmt::Display for WebSocketConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebSocketConnectError::Rejected(response) => write!(
                f,
                "the WebSocket handshake was answered with {}: {}",
                response.status(),
                response.text()
            ),
            WebSocketConnectError::Closed(disconnect) => {
                write!(f, "closed before it was accepted: {disconnect}")
            }
        }
    }
}

impl std::error::Error for WebSocketConnectError {}

/// The builder methods of WebSocket requests, shared by the async and the blocking client.
macro_rules! websocket_builders {
    ($($field:ident)?) => {
        /// Adds a header to the opening handshake.
        ///
        /// # Panics
        ///
        /// If the name or value is not valid HTTP.
        #[track_caller]
        pub fn header(mut self, name: &str, value: &str) -> Self {
            let (name, value) = header_pair(name, value);
            self$(.$field)?.headers.append(name, value);
            self
        }

        /// Sends a cookie with the opening handshake (the jar's are sent too).
        ///
        /// # Panics
        ///
        /// If the cookie is not valid in a header.
        #[track_caller]
        pub fn cookie(mut self, name: &str, value: &str) -> Self {
            let pair = format!("{name}={value}");
            match HeaderValue::from_str(&pair) {
                Ok(value) => {
                    self$(.$field)?.headers.append(COOKIE, value);
                }
                Err(err) => panic!("invalid cookie `{pair}`: {err}"),
            }
            self
        }

        /// Offers a subprotocol (`Sec-WebSocket-Protocol`); call it again to offer several,
        /// in order of preference.
        pub fn subprotocol(mut self, protocol: &str) -> Self {
            self$(.$field)?.subprotocols.push(protocol.to_owned());
            self
        }
    };
}

/// A WebSocket about to be opened by a [`TestClient`]; `.await` it (or call
/// [`connect`](Self::connect)).
pub struct WebSocketTestRequest {
    pub(super) client: TestClient,
    pub(super) path: String,
    pub(super) headers: HeaderMap,
    pub(super) subprotocols: Vec<String>,
}

impl fmt::Debug for WebSocketTestRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketTestRequest")
            .field("path", &self.path)
            .field("subprotocols", &self.subprotocols)
            .finish_non_exhaustive()
    }
}

impl TestClient {
    /// Opens a WebSocket on `path` (which may carry a query string), in-process: Starlette's
    /// `websocket_connect`. Set headers, cookies and subprotocols on what it returns, then
    /// `.await` it.
    ///
    /// # Examples
    ///
    /// ```
    /// use portico_http::{App, TestClient, WebSocket, WebSocketError};
    ///
    /// async fn shout(ws: WebSocket) -> Result<(), WebSocketError> {
    ///     ws.accept_subprotocol("shout").await?;
    ///     let text = ws.receive_text().await?;
    ///     ws.send_text(text.to_uppercase()).await?;
    ///     ws.close(1000, "done").await
    /// }
    ///
    /// # async fn example() {
    /// let client = TestClient::new(App::new().websocket("/shout", shout));
    /// let mut ws = client.websocket_connect("/shout").subprotocol("shout").await.unwrap();
    /// assert_eq!(ws.subprotocol(), Some("shout"));
    /// ws.send_text("hi").await.unwrap();
    /// assert_eq!(ws.receive_text().await.unwrap(), "HI");
    /// let closed = ws.receive_text().await.unwrap_err();
    /// assert_eq!(closed.disconnect().unwrap().reason, "done");
    /// # }
    /// ```
    pub fn websocket_connect(&self, path: impl AsRef<str>) -> WebSocketTestRequest {
        WebSocketTestRequest {
            client: self.clone(),
            path: path.as_ref().to_owned(),
            headers: self.headers.clone(),
            subprotocols: Vec::new(),
        }
    }
}

impl WebSocketTestRequest {
    websocket_builders!();

    /// Opens the WebSocket.
    ///
    /// # Errors
    ///
    /// [`WebSocketConnectError::Rejected`] with the response if the application did not switch
    /// protocols; [`WebSocketConnectError::Closed`] if the handler closed before accepting.
    ///
    /// # Panics
    ///
    /// If the application's lifespan fails to start, or its handshake answer is not valid.
    pub async fn connect(self) -> Result<WebSocketTestSession, WebSocketConnectError> {
        if let Err(err) = self.client.service.startup().await {
            panic!("{err}");
        }
        let key = generate_key();
        let (ours, theirs) = duplex();
        let mut request = build(
            &self.client,
            &Method::GET,
            &self.path,
            &self.headers,
            Payload::Empty,
        );
        let headers = request.headers_mut();
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        if let Ok(value) = HeaderValue::from_str(&key) {
            headers.insert(SEC_WEBSOCKET_KEY, value);
        }
        if !self.subprotocols.is_empty()
            && let Ok(value) = HeaderValue::from_str(&self.subprotocols.join(", "))
        {
            headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
        request.extensions_mut().insert(MemoryUpgrade::new(theirs));
        let response = self.client.service.call(request).await;
        let (parts, body) = response.into_parts();
        self.client.keep_cookies(&parts.headers);
        if parts.status != StatusCode::SWITCHING_PROTOCOLS {
            let body = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(err) => panic!("the response body failed while it was read: {err}"),
            };
            return Err(WebSocketConnectError::Rejected(Box::new(
                TestResponse::new(parts, body),
            )));
        }
        let accepted = parts.headers.get(SEC_WEBSOCKET_ACCEPT);
        assert!(
            accepted.is_some_and(
                |value| value.as_bytes() == derive_accept_key(key.as_bytes()).as_bytes()
            ),
            "the application switched protocols with a wrong Sec-WebSocket-Accept"
        );
        let protocol = parts
            .headers
            .get(SEC_WEBSOCKET_PROTOCOL)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let stream = WebSocketStream::from_raw_socket(ours, Role::Client, None).await;
        let mut session = WebSocketTestSession {
            stream,
            protocol,
            headers: parts.headers,
            closed: None,
        };
        if parts.extensions.get::<ClosedBeforeAccept>().is_some() {
            loop {
                if let Err(WebSocketError::Disconnected(disconnect)) = session.receive().await {
                    return Err(WebSocketConnectError::Closed(disconnect));
                }
            }
        }
        Ok(session)
    }
}

impl IntoFuture for WebSocketTestRequest {
    type Output = Result<WebSocketTestSession, WebSocketConnectError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.connect())
    }
}

/// An open WebSocket of the test client (Starlette's `WebSocketTestSession`): send to the
/// handler and receive what it sends; its close comes back as
/// [`WebSocketError::Disconnected`]. Dropping the session drops the connection (the handler
/// sees 1006); [`close`](Self::close) closes it properly.
pub struct WebSocketTestSession {
    stream: WebSocketStream<Duplex>,
    protocol: Option<String>,
    headers: HeaderMap,
    closed: Option<WebSocketDisconnect>,
}

impl fmt::Debug for WebSocketTestSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketTestSession")
            .field("subprotocol", &self.protocol)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl WebSocketTestSession {
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
    /// [`WebSocketError::Disconnected`] once the WebSocket closed.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), WebSocketError> {
        if let Some(closed) = &self.closed {
            return Err(WebSocketError::Disconnected(closed.clone()));
        }
        match self.stream.send(message.into().into_tungstenite()).await {
            Ok(()) => Ok(()),
            Err(_) => Err(WebSocketError::Disconnected(
                self.closed
                    .get_or_insert_with(WebSocketDisconnect::abnormal)
                    .clone(),
            )),
        }
    }

    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), WebSocketError> {
        self.send(Message::Text(text.into())).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn send_bytes(&mut self, bytes: impl Into<Bytes>) -> Result<(), WebSocketError> {
        self.send(Message::Binary(bytes.into())).await
    }

    /// Sends `value` as JSON in a text message.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::Json`] if it cannot be serialised; otherwise as [`send`](Self::send).
    pub async fn send_json<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), WebSocketError> {
        let text = serde_json::to_string(value).map_err(WebSocketError::Json)?;
        self.send(Message::Text(text)).await
    }

    /// Receives the next message: text, bytes, or a ping or pong (pings are answered when
    /// the session next reads or writes).
    ///
    /// # Errors
    ///
    /// [`WebSocketError::Disconnected`] with the handler's close code and reason, or 1006 if
    /// the connection dropped.
    pub async fn receive(&mut self) -> Result<Message, WebSocketError> {
        loop {
            if let Some(closed) = &self.closed {
                return Err(WebSocketError::Disconnected(closed.clone()));
            }
            let next = poll_fn(|cx| Pin::new(&mut self.stream).poll_next(cx)).await;
            match next {
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    self.closed = Some(WebSocketDisconnect::from_frame(frame.as_ref()));
                    self.answer_close().await;
                }
                Some(Ok(message)) => {
                    if let Some(message) = Message::from_tungstenite(message) {
                        return Ok(message);
                    }
                }
                Some(Err(_)) | None => {
                    self.closed
                        .get_or_insert_with(WebSocketDisconnect::abnormal);
                }
            }
        }
    }

    /// Sends the answer to the handler's close frame (queued when the frame was read), within
    /// the close timeout, so that the handler's side ends at once rather than at its own
    /// close timeout. A single read is not enough: the in-memory pipe may yield a write.
    async fn answer_close(&mut self) {
        let stream = &mut self.stream;
        let flush = poll_fn(|cx| Sink::poll_flush(Pin::new(&mut *stream), cx));
        match portico_rt::current() {
            Ok(rt) => {
                let _ = rt.timeout(CLOSE_TIMEOUT, flush).await;
            }
            Err(_) => {
                let _ = flush.await;
            }
        }
    }

    /// Reads until the server answers this side's close frame (or the stream ends), within
    /// the close timeout.
    async fn await_close_answer(&mut self) {
        let Ok(rt) = portico_rt::current() else {
            return;
        };
        let stream = &mut self.stream;
        let _ = rt
            .timeout(CLOSE_TIMEOUT, async {
                while let Some(Ok(message)) =
                    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
                {
                    if let tungstenite::Message::Close(_) = message {
                        return;
                    }
                }
            })
            .await;
    }

    /// Receives the next text message, skipping pings and pongs.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::UnexpectedMessage`] for a binary message; otherwise as
    /// [`receive`](Self::receive).
    pub async fn receive_text(&mut self) -> Result<String, WebSocketError> {
        loop {
            match self.receive().await? {
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
    pub async fn receive_bytes(&mut self) -> Result<Bytes, WebSocketError> {
        loop {
            match self.receive().await? {
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
    pub async fn receive_json<T: DeserializeOwned>(&mut self) -> Result<T, WebSocketError> {
        loop {
            let parsed = match self.receive().await? {
                Message::Text(text) => serde_json::from_str(&text),
                Message::Binary(bytes) => serde_json::from_slice(&bytes),
                _ => continue,
            };
            return parsed.map_err(WebSocketError::Json);
        }
    }

    /// Closes the WebSocket with `code` and `reason` and waits for the handler's side to
    /// answer (at most 5 s). The handler sees a [`WebSocketDisconnect`] with them. Nothing
    /// happens if the WebSocket closed already.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::State`] for a code that cannot be sent.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        if self.closed.is_some() {
            return Ok(());
        }
        let disconnect = WebSocketDisconnect::new(code, reason);
        let frame = disconnect.to_frame();
        if !frame.code.is_allowed() {
            return Err(WebSocketError::State("this close code cannot be sent"));
        }
        self.closed = Some(disconnect);
        if self.stream.close(Some(frame)).await.is_ok() {
            self.await_close_answer().await;
        }
        Ok(())
    }
}
