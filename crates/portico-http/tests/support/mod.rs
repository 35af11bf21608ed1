//! What the HTTP tests share: a server on a free loopback port, and a raw HTTP/1.1 client that
//! reads responses byte by byte, as a strict peer would.

#![allow(dead_code, reason = "each test file uses a part")]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use portico::rt::TcpStream;
use portico::{App, ServerHandle};

/// Starts `app` on 127.0.0.1 with a free port, without signal handling.
pub(crate) fn serve(app: App) -> ServerHandle {
    serve_with(app, |server| server)
}

/// As [`serve`], with the server adjusted first.
pub(crate) fn serve_with(
    app: App,
    adjust: impl FnOnce(portico::Server) -> portico::Server,
) -> ServerHandle {
    adjust(app.serve("127.0.0.1:0").signals(false))
        .start()
        .expect("the server starts")
}

/// A response as read off the wire.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Raw {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }
}

/// A raw HTTP/1.1 connection.
pub(crate) struct Conn {
    stream: TcpStream,
    buffered: Vec<u8>,
}

impl Conn {
    pub(crate) async fn open(addr: SocketAddr) -> Conn {
        Conn {
            stream: TcpStream::connect(addr).await.expect("connects"),
            buffered: Vec::new(),
        }
    }

    pub(crate) async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("writes");
        self.stream.flush().await.expect("flushes");
    }

    /// Reads more bytes; `false` at the end of the stream.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        let rt = portico::rt::current().expect("in a runtime");
        let n = rt
            .timeout(Duration::from_secs(30), self.stream.read(&mut chunk))
            .await
            .expect("the server answers within 30 s")
            .unwrap_or(0);
        self.buffered.extend_from_slice(&chunk[..n]);
        n > 0
    }

    async fn line(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buffered.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buffered[..end]).into_owned();
                self.buffered.drain(..end + 2);
                return Some(line);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    async fn exact(&mut self, n: usize) -> Vec<u8> {
        while self.buffered.len() < n {
            assert!(
                self.fill().await,
                "the connection closed in the middle of a body"
            );
        }
        self.buffered.drain(..n).collect()
    }

    /// Reads one response, or `None` if the connection closed first.
    pub(crate) async fn response(&mut self) -> Option<Raw> {
        self.response_to("GET").await
    }

    /// Reads one response to a request with `method` (a `HEAD` response has no body).
    pub(crate) async fn response_to(&mut self, method: &str) -> Option<Raw> {
        let status_line = self.line().await?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let mut headers = Vec::new();
        loop {
            let line = self.line().await.expect("a complete head");
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header line");
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let mut raw = Raw {
            status,
            headers,
            body: Vec::new(),
        };
        if method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status) {
            return Some(raw);
        }
        if let Some(len) = raw.header("content-length") {
            let len: usize = len.parse().expect("a length");
            raw.body = self.exact(len).await;
        } else if raw
            .header("transfer-encoding")
            .is_some_and(|te| te.contains("chunked"))
        {
            loop {
                let size = self.line().await.expect("a chunk size");
                let size = usize::from_str_radix(size.split(';').next().unwrap_or("0").trim(), 16)
                    .expect("hex");
                if size == 0 {
                    while !self.line().await.expect("trailers").is_empty() {}
                    break;
                }
                raw.body.extend(self.exact(size).await);
                self.exact(2).await;
            }
        } else {
            while self.fill().await {}
            raw.body = std::mem::take(&mut self.buffered);
        }
        Some(raw)
    }

    /// Reads what arrives next (0 at the end of the stream), after what is buffered.
    pub(crate) async fn read_some(&mut self, buf: &mut [u8]) -> usize {
        if !self.buffered.is_empty() {
            let n = self.buffered.len().min(buf.len());
            buf[..n].copy_from_slice(&self.buffered[..n]);
            self.buffered.drain(..n);
            return n;
        }
        let rt = portico::rt::current().expect("in a runtime");
        rt.timeout(Duration::from_secs(30), self.stream.read(buf))
            .await
            .expect("the server answers within 30 s")
            .unwrap_or(0)
    }

    /// Whether the server closed the connection (reads the end of the stream).
    pub(crate) async fn is_closed(&mut self) -> bool {
        self.buffered.is_empty() && !self.fill().await
    }
}

/// Sends one request on a new connection and reads the response.
pub(crate) async fn roundtrip(addr: SocketAddr, request: &str) -> Raw {
    let mut conn = Conn::open(addr).await;
    conn.send(request.as_bytes()).await;
    conn.response_to(request.split_whitespace().next().unwrap_or("GET"))
        .await
        .expect("a response")
}

/// hyper's I/O traits over a portico stream, for the HTTP/2 client of the tests.
pub(crate) struct HyperIo(pub(crate) TcpStream);

impl hyper::rt::Read for HyperIo {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let mut chunk = [0u8; 8192];
        let n = std::task::ready!(futures_lite::AsyncRead::poll_read(
            std::pin::Pin::new(&mut self.0),
            cx,
            &mut chunk[..buf.remaining().min(8192)]
        ))?;
        buf.put_slice(&chunk[..n]);
        std::task::Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for HyperIo {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        futures_lite::AsyncWrite::poll_write(std::pin::Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        futures_lite::AsyncWrite::poll_flush(std::pin::Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        futures_lite::AsyncWrite::poll_close(std::pin::Pin::new(&mut self.0), cx)
    }
}

/// Runs hyper's client tasks on the current runtime.
#[derive(Clone)]
pub(crate) struct SpawnExec;

impl<F> hyper::rt::Executor<F> for SpawnExec
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        portico::rt::current()
            .expect("in a runtime")
            .spawn(fut)
            .detach();
    }
}

/// An HTTP/2 client connection (prior knowledge) to `addr`.
pub(crate) async fn h2_client(
    addr: SocketAddr,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connects");
    let (sender, connection) = hyper::client::conn::http2::handshake(SpawnExec, HyperIo(stream))
        .await
        .expect("the HTTP/2 handshake succeeds");
    portico::rt::current()
        .expect("in a runtime")
        .spawn(async move {
            let _ = connection.await;
        })
        .detach();
    sender
}

/// What a test's handlers, dependencies and tasks did, in order.
#[derive(Clone, Default)]
pub(crate) struct Log(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Log {
    pub(crate) fn push(&self, line: impl Into<String>) {
        self.0.lock().expect("the log").push(line.into());
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.0.lock().expect("the log").clone()
    }
}

/// Where the calling code runs: the blocking pool, or an executor thread (a tokio worker is
/// not marked by Portico, so anything but the pool counts as the event loop).
pub(crate) fn role() -> &'static str {
    match portico::rt::thread_role() {
        portico::rt::ThreadRole::Blocking(_) => "thread pool",
        _ => "event loop",
    }
}

/// Waits until `done` holds, up to 2 s.
pub(crate) async fn eventually(mut done: impl FnMut() -> bool) {
    let rt = portico::rt::current().expect("a runtime");
    for _ in 0..200 {
        if done() {
            return;
        }
        rt.sleep(Duration::from_millis(10)).await;
    }
}
