//! The requests of the soak's mix, and what the server must answer to each: anything else is
//! an unexpected error.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_tungstenite::tungstenite::Message;
use bytes::Bytes;
use futures_lite::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use portico::http::{Method, Request, StatusCode};
use portico::rt::{JoinHandle, TcpStream};

use crate::app::{CHUNK, CHUNKS_BEFORE_THE_CUT};

/// A kind of request of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `GET /items/{id}`: 200 with the item as JSON.
    ReadItem,
    /// `POST /items` with a valid body: 201 with the item.
    CreateItem,
    /// `POST /items` with two mistakes: 422 listing both.
    Invalid,
    /// `GET /panic`, an async handler that panics: 500.
    Panic,
    /// `GET /sum`, a plain `fn` on the thread pool: 200 with the sum.
    Sum,
    /// `GET /blocking-panic`, a plain `fn` that panics: 500.
    BlockingPanic,
    /// `GET /stream`: 200 with every chunk.
    Stream,
    /// `GET /stream-cut`: 200, then a body cut by a panic.
    StreamCut,
    /// `POST /upload`, a multipart file: 200 with its size and byte sum.
    Upload,
    /// A WebSocket on `/ws`: four messages echoed, then a clean close.
    WebSocket,
}

impl Kind {
    /// Every kind, in the order of the report.
    pub(crate) const ALL: [Kind; 10] = [
        Kind::ReadItem,
        Kind::CreateItem,
        Kind::Invalid,
        Kind::Panic,
        Kind::Sum,
        Kind::BlockingPanic,
        Kind::Stream,
        Kind::StreamCut,
        Kind::Upload,
        Kind::WebSocket,
    ];

    /// The kind of request number `n`: a cycle of twenty, mostly JSON and plain `fn` work, one
    /// panic in ten, one cut stream and one WebSocket in twenty. The weights are a judgement of
    /// what a busy API sees, with more failures than a healthy one.
    pub(crate) fn of(n: u64) -> Kind {
        const CYCLE: [Kind; 20] = [
            Kind::ReadItem,
            Kind::Sum,
            Kind::CreateItem,
            Kind::Invalid,
            Kind::Stream,
            Kind::ReadItem,
            Kind::Panic,
            Kind::Upload,
            Kind::Sum,
            Kind::WebSocket,
            Kind::ReadItem,
            Kind::Invalid,
            Kind::Sum,
            Kind::BlockingPanic,
            Kind::Stream,
            Kind::ReadItem,
            Kind::CreateItem,
            Kind::StreamCut,
            Kind::Upload,
            Kind::Invalid,
        ];
        CYCLE[(n % 20) as usize]
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::ReadItem => "read-item",
            Kind::CreateItem => "create-item",
            Kind::Invalid => "invalid-422",
            Kind::Panic => "panic-500",
            Kind::Sum => "plain-fn",
            Kind::BlockingPanic => "plain-fn-panic-500",
            Kind::Stream => "stream",
            Kind::StreamCut => "stream-cut",
            Kind::Upload => "upload",
            Kind::WebSocket => "websocket",
        }
    }

    pub(crate) fn index(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// Chunks of `/stream` a request asks for.
const STREAM_CHUNKS: usize = 16;

/// The size of an uploaded file. 16 KiB: an avatar, well below the 1 MiB past which uploads
/// are spooled to disk (the soak is about the server, not the disk).
const UPLOAD_SIZE: usize = 16 * 1024;

const BOUNDARY: &str = "soak-boundary-7MA4YWxkTrZu0gW";

/// One client of the driver: a kept-alive HTTP/1.1 connection, made again when it is lost.
pub(crate) struct Client {
    addr: SocketAddr,
    conn: Option<Connection>,
    upload: Bytes,
    /// The kind of the request under way.
    kind: Kind,
}

struct Connection {
    sender: SendRequest<Full<Bytes>>,
    /// The task driving the connection; dropping it closes the socket.
    _driving: JoinHandle<()>,
    /// Requests answered on it, and the kind of the last one: when a kept-alive connection
    /// fails, the report says what it carried before.
    answered: u64,
    last: Option<Kind>,
}

impl Client {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Client {
            addr,
            conn: None,
            upload: multipart_body(),
            kind: Kind::ReadItem,
        }
    }

    /// Sends request number `n` of the mix and checks the answer.
    pub(crate) async fn run(&mut self, kind: Kind, n: u64) -> Result<(), String> {
        self.kind = kind;
        let json = "application/json";
        match kind {
            Kind::ReadItem => {
                let body = self.expect(get(&format!("/items/{n}")), 200).await?;
                let value = parse(&body)?;
                check(value["id"] == n, &value)
            }
            Kind::CreateItem => {
                let item = format!(r#"{{"name":"item {n}","price":{}.5}}"#, n % 100);
                let request = with_body(Method::POST, "/items", json, item.clone().into());
                let body = self.expect(request, 201).await?;
                check(parse(&body)? == parse(item.as_bytes())?, &parse(&body)?)
            }
            Kind::Invalid => {
                let request = with_body(Method::POST, "/items", json, r#"{"price":-1}"#.into());
                let value = parse(&self.expect(request, 422).await?)?;
                check(value["detail"].as_array().map(Vec::len) == Some(2), &value)
            }
            Kind::Panic => self.expect(get("/panic"), 500).await.map(drop),
            Kind::Sum => {
                let k = 1000 + n % 1000;
                let value = parse(&self.expect(get(&format!("/sum?n={k}")), 200).await?)?;
                check(value["sum"] == k * (k + 1) / 2, &value)
            }
            Kind::BlockingPanic => self.expect(get("/blocking-panic"), 500).await.map(drop),
            Kind::Stream => {
                let path = format!("/stream?chunks={STREAM_CHUNKS}");
                let body = self.expect(get(&path), 200).await?;
                if body.len() == STREAM_CHUNKS * CHUNK {
                    Ok(())
                } else {
                    Err(format!("a stream of {} bytes", body.len()))
                }
            }
            Kind::StreamCut => self.cut_stream().await,
            Kind::Upload => {
                let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
                let request =
                    with_body(Method::POST, "/upload", &content_type, self.upload.clone());
                let value = parse(&self.expect(request, 200).await?)?;
                let sum: u64 = (0..UPLOAD_SIZE).map(|i| (i % 251) as u64).sum();
                check(value["size"] == UPLOAD_SIZE && value["sum"] == sum, &value)
            }
            Kind::WebSocket => self.websocket(n).await,
        }
    }

    /// The sender of a live connection, connecting first if there is none.
    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        let alive = match &mut self.conn {
            Some(conn) => conn.sender.ready().await.is_ok(),
            None => false,
        };
        if !alive {
            let stream = TcpStream::connect(self.addr)
                .await
                .map_err(|err| format!("connect: {err}"))?;
            let (sender, connection) = hyper::client::conn::http1::handshake(Io(stream))
                .await
                .map_err(|err| format!("handshake: {err}"))?;
            let rt = portico::rt::current().map_err(|err| err.to_string())?;
            let driving = rt.spawn(async move {
                let _ = connection.await;
            });
            self.conn = Some(Connection {
                sender,
                _driving: driving,
                answered: 0,
                last: None,
            });
        }
        match &mut self.conn {
            Some(conn) => Ok(&mut conn.sender),
            None => Err("no connection".into()),
        }
    }

    /// Sends `request`, expects `status`, and reads the whole body.
    async fn expect(
        &mut self,
        request: Request<Full<Bytes>>,
        status: u16,
    ) -> Result<Bytes, String> {
        let response = self.send(request).await?;
        let got = response.status();
        let body = response.into_body().collect().await.map_err(|err| {
            self.conn = None;
            format!("{got}, then the body failed: {err}")
        })?;
        let body = body.to_bytes();
        if got == StatusCode::from_u16(status).unwrap_or_default() {
            Ok(body)
        } else {
            Err(format!(
                "{got} instead of {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ))
        }
    }

    async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, String> {
        let sent = self.sender().await?.send_request(request).await;
        let kind = self.kind;
        match (sent, &mut self.conn) {
            (Ok(response), Some(conn)) => {
                conn.answered += 1;
                conn.last = Some(kind);
                Ok(response)
            }
            (Ok(response), None) => Ok(response),
            (Err(err), conn) => {
                let history = match conn {
                    Some(conn) => format!(
                        "request {} on its connection, after {}",
                        conn.answered + 1,
                        conn.last.map_or("none", Kind::name)
                    ),
                    None => "a new connection".into(),
                };
                self.conn = None;
                Err(format!("request: {err} ({history})"))
            }
        }
    }

    /// `/stream-cut`: the head and the first chunks arrive, then the body breaks off, and the
    /// connection with it.
    async fn cut_stream(&mut self) -> Result<(), String> {
        let response = self.send(get("/stream-cut")).await?;
        if response.status() != StatusCode::OK {
            return Err(format!("{} instead of 200", response.status()));
        }
        let mut body = response.into_body();
        let mut received = 0;
        let ended = loop {
            match body.frame().await {
                Some(Ok(frame)) => received += frame.data_ref().map_or(0, Bytes::len),
                Some(Err(_)) => break true,
                None => break false,
            }
        };
        self.conn = None;
        if !ended {
            Err(format!(
                "the cut stream ended as if complete after {received} bytes"
            ))
        } else if received < CHUNKS_BEFORE_THE_CUT * CHUNK {
            Err(format!("only {received} bytes before the cut"))
        } else {
            Ok(())
        }
    }

    /// A WebSocket of its own: four messages echoed, then the close handshake.
    async fn websocket(&mut self, n: u64) -> Result<(), String> {
        let stream = TcpStream::connect(self.addr)
            .await
            .map_err(|err| format!("connect: {err}"))?;
        let url = format!("ws://{}/ws", self.addr);
        let (mut ws, _) = async_tungstenite::client_async(url, stream)
            .await
            .map_err(|err| format!("handshake: {err}"))?;
        for i in 0..4 {
            let text = format!("message {i} of request {n}");
            ws.send(Message::text(text.clone()))
                .await
                .map_err(|err| format!("send: {err}"))?;
            match ws.next().await {
                Some(Ok(Message::Text(echo))) if echo.as_str() == text => {}
                other => return Err(format!("{other:?} instead of the echo of {text:?}")),
            }
        }
        ws.close(None)
            .await
            .map_err(|err| format!("close: {err}"))?;
        loop {
            match ws.next().await {
                None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(format!("after close: {err}")),
            }
        }
    }
}

fn get(path: &str) -> Request<Full<Bytes>> {
    with_body(Method::GET, path, "", Bytes::new())
}

fn with_body(method: Method, path: &str, content_type: &str, body: Bytes) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = method;
    *request.uri_mut() = path.parse().unwrap_or_default();
    let headers = request.headers_mut();
    headers.insert("host", portico::http::HeaderValue::from_static("soak"));
    if !content_type.is_empty()
        && let Ok(value) = content_type.parse()
    {
        headers.insert("content-type", value);
    }
    request
}

fn parse(body: &[u8]) -> Result<serde_json::Value, String> {
    serde_json::from_slice(body).map_err(|err| {
        format!(
            "not JSON ({err}): {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )
    })
}

fn check(ok: bool, value: &serde_json::Value) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected body {value}"))
    }
}

/// A multipart form with one file of `UPLOAD_SIZE` bytes.
fn multipart_body() -> Bytes {
    let mut body = format!(
        "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"blob.bin\"\r\n\
         content-type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend((0..UPLOAD_SIZE).map(|i| (i % 251) as u8));
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body.into()
}

/// hyper's I/O traits over a Portico TCP stream.
struct Io(TcpStream);

impl hyper::rt::Read for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        let mut chunk = [0u8; 8192];
        let want = buf.remaining().min(chunk.len());
        let n = std::task::ready!(futures_lite::AsyncRead::poll_read(
            Pin::new(&mut self.0),
            cx,
            &mut chunk[..want]
        ))?;
        buf.put_slice(&chunk[..n]);
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        futures_lite::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        futures_lite::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        futures_lite::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}
