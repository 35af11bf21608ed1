//! The connection path the fuzz targets drive (`fuzz/` at the repository root), and the inputs
//! they found: each served over an in-memory stream through the hidden `StreamServer`, on every
//! runtime.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_lite::io::{AsyncRead, AsyncWrite};
use portico::{App, Json, Path};
use serde_json::Value;

/// A client that sends `input`, waits until the server has written its answer, then shuts its
/// write half; what the server wrote is kept.
struct Replay {
    input: Vec<u8>,
    read: usize,
    output: Arc<Mutex<Vec<u8>>>,
    /// The server's read waiting for an answer to be written.
    waiting: Option<Waker>,
}

impl Replay {
    fn new(input: &[u8]) -> (Replay, Arc<Mutex<Vec<u8>>>) {
        let output = Arc::new(Mutex::new(Vec::new()));
        let replay = Replay {
            input: input.to_vec(),
            read: 0,
            output: output.clone(),
            waiting: None,
        };
        (replay, output)
    }
}

impl AsyncRead for Replay {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let left = &this.input[this.read..];
        if !left.is_empty() {
            let n = left.len().min(buf.len());
            buf[..n].copy_from_slice(&left[..n]);
            this.read += n;
            return Poll::Ready(Ok(n));
        }
        if this.output.lock().unwrap().is_empty() {
            this.waiting = Some(cx.waker().clone());
            return Poll::Pending;
        }
        Poll::Ready(Ok(0))
    }
}

impl AsyncWrite for Replay {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.output.lock().unwrap().extend_from_slice(buf);
        if let Some(waiting) = self.waiting.take() {
            waiting.wake();
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

async fn item(Path(id): Path<u32>) -> Json<Value> {
    Json(serde_json::json!({ "id": id }))
}

/// Serves one connection whose client sends `input`; what the server wrote.
async fn exchange(app: App, input: &[u8]) -> String {
    let server = app.serve("in-memory").serve_streams().await.unwrap();
    let (stream, output) = Replay::new(input);
    server.serve(stream).await;
    server.settled().await;
    let output = output.lock().unwrap().clone();
    String::from_utf8(output).unwrap()
}

#[portico::test]
async fn a_connection_over_any_stream_takes_the_servers_way() {
    let answer = exchange(
        App::new().get("/items/{id}", item),
        b"GET /items/7 HTTP/1.1\r\nhost: t\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with(r#"{"id":7}"#), "{answer}");
    let refused = exchange(
        App::new().get("/items/{id}", item),
        b"GET /items/x HTTP/1.1\r\nhost: t\r\n\r\n",
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 422 "), "{refused}");
}
